"""Jobs and signal receivers of portal.allocation, connected by portal.wiring."""

from __future__ import annotations

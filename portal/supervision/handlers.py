"""Jobs and signal receivers of portal.supervision, connected by portal.wiring."""

from __future__ import annotations

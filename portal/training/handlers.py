"""Jobs and signal receivers of portal.training, connected by portal.wiring."""

from __future__ import annotations

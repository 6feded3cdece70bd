"""Jobs and signal receivers of portal.volunteers.references, connected by portal.wiring."""

from __future__ import annotations

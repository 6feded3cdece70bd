"""Jobs and signal receivers of portal.volunteers.interviews, connected by portal.wiring."""

from __future__ import annotations

"""Jobs and signal receivers of portal.volunteers.vetting, connected by portal.wiring."""

from __future__ import annotations

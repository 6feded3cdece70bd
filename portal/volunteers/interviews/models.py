"""Models of portal.volunteers.interviews (filled in by its services' author)."""

from __future__ import annotations

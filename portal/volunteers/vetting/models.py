"""Models of portal.volunteers.vetting (filled in by its services' author)."""

from __future__ import annotations

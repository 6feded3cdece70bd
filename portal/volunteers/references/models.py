"""Models of portal.volunteers.references (filled in by its services' author)."""

from __future__ import annotations

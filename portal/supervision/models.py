"""Models of portal.supervision (filled in by its author)."""

from __future__ import annotations

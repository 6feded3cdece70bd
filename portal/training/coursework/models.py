"""Models of portal.training.coursework (filled in by its author)."""

from __future__ import annotations

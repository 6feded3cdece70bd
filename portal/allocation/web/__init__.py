"""Allocation pages: coordinators' allocation page for a case, bulk proposals and settings;
facilitators' offers and their allocation preferences."""

from portal.allocation.web.blueprint import bp

__all__ = ["bp"]

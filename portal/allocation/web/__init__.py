"""Allocation pages: coordinators' allocation page for a case, bulk proposals and settings (routes);
facilitators' case offers (offers)."""

from portal.allocation.web import offers, routes
from portal.allocation.web.blueprint import bp

__all__ = ["bp", "offers", "routes"]

"""Volunteer pages: applying online (applicant) and reviewing applications (coordinator)."""

from portal.volunteers.web import applicant, coordinator
from portal.volunteers.web.blueprint import bp

__all__ = ["applicant", "bp", "coordinator"]

"""Volunteer pages: applying, reviewing, interviews, references, offers and vetting."""

from portal.volunteers.web import applicant, coordinator, interviews, offers, preferences, references, vetting
from portal.volunteers.web.blueprint import bp

__all__ = ["applicant", "bp", "coordinator", "interviews", "offers", "preferences", "references", "vetting"]

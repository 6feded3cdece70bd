"""Volunteer pages: applicant."""

from portal.volunteers.web.blueprint import bp  # noqa: F401

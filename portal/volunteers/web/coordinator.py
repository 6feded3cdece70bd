"""Volunteer pages: coordinator."""

from portal.volunteers.web.blueprint import bp  # noqa: F401

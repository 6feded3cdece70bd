"""Case pages: routes."""

from portal.cases.web.blueprint import bp  # noqa: F401

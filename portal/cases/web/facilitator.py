"""Case pages: facilitator."""

from portal.cases.web.blueprint import bp  # noqa: F401

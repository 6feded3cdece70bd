"""Case pages: reports."""

from portal.cases.web.blueprint import bp  # noqa: F401

"""Case pages: coordinators' case work (routes), facilitators' own cases, referrer reports."""

from portal.cases.web import facilitator, reports, routes
from portal.cases.web.blueprint import bp

__all__ = ["bp", "facilitator", "reports", "routes"]

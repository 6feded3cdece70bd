"""Supervision pages: volunteers' own pages (routes) and supervisors' and coordinators' pages (manage)."""

from portal.supervision.web import manage, routes
from portal.supervision.web.blueprint import bp

__all__ = ["bp", "manage", "routes"]

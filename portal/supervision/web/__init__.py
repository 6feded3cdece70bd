"""supervision pages."""

from portal.supervision.web import routes
from portal.supervision.web.blueprint import bp

__all__ = ["bp", "routes"]

"""expenses pages."""

from portal.expenses.web import routes
from portal.expenses.web.blueprint import bp

__all__ = ["bp", "routes"]

"""expenses pages."""

from portal.expenses.web import payments, review, routes
from portal.expenses.web.blueprint import bp

__all__ = ["bp", "payments", "review", "routes"]

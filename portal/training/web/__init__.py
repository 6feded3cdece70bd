"""Training pages: cohorts, enrolment and registers (cohorts.py); coursework and marking (coursework.py)."""

from portal.training.web import cohorts, coursework
from portal.training.web.blueprint import bp

__all__ = ["bp", "cohorts", "coursework"]

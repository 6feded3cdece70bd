"""The cases blueprint object, shared by the coordinator, facilitator and report routes."""

from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/cases")

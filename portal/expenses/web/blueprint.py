"""The expenses blueprint object."""

from flask import Blueprint

bp = Blueprint("expenses", __name__, url_prefix="/expenses")

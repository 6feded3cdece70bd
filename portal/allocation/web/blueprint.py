"""The allocation blueprint object."""

from flask import Blueprint

bp = Blueprint("allocation", __name__, url_prefix="/allocation")

"""The supervision blueprint object."""

from flask import Blueprint

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

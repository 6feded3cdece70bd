"""The volunteers blueprint object, shared by the applicant and coordinator pages."""

from flask import Blueprint

bp = Blueprint("volunteers", __name__, url_prefix="/volunteering")

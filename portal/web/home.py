"""Each role's home page: what that role can do today. Later modules add their panels."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from portal.cases import queries as case_queries
from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from portal.web.decorators import role_required

bp = Blueprint("home", __name__)

HOME_ENDPOINTS = {
    Role.ADMIN: "home.admin",
    Role.COORDINATOR: "home.coordinator",
    Role.TRAINER: "home.trainer",
    Role.VOLUNTEER: "home.volunteer",
    Role.APPLICANT: "home.applicant",
}


@bp.route("/")
def index():
    """Signed-in people land on their most senior role's home; others see the front page."""
    if not current_user.is_authenticated:
        return render_template("home/public.html", title="Welcome")
    role = current_user.primary_role
    if role is None:
        return render_template("home/no_role.html", title="No role yet")
    return redirect(url_for(HOME_ENDPOINTS[role]))


def _home(role: Role, **panels):
    others = [r for r in current_user.sorted_roles if r is not role]
    return render_template(
        f"home/{role.value}.html",
        title=f"{role.label} home",
        role=role,
        other_homes=[(r, url_for(HOME_ENDPOINTS[r])) for r in others],
        **panels,
    )


@bp.route("/admin")
@role_required(Role.ADMIN)
def admin():
    return _home(Role.ADMIN)


@bp.route("/coordinator")
@role_required(Role.COORDINATOR)
def coordinator():
    return _home(
        Role.COORDINATOR,
        overdue=case_queries.list_overdue_first_contacts(db.session, today=clock.today(), limit=10),
        review=case_queries.list_allocations_needing_review(db.session, limit=10),
    )


@bp.route("/trainer")
@role_required(Role.TRAINER)
def trainer():
    return _home(Role.TRAINER)


@bp.route("/volunteer")
@role_required(Role.VOLUNTEER)
def volunteer():
    return _home(Role.VOLUNTEER, my_cases=case_queries.list_my_cases(db.session, current_user, on=clock.today()))


@bp.route("/applicant")
@role_required(Role.APPLICANT)
def applicant():
    return _home(Role.APPLICANT)


"""Each role's home page: what that role can do today. Later modules add their panels.

A home page never loads a list that grows with the data: it shows counts from aggregate queries, each
linking to its list, and at most a few rows (the ten most overdue cases, the ten oldest reviews), so it
runs the same number of statements with 10 volunteers or 20,000 (tests/web/test_home_statements.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from portal.cases import queries as case_queries
from portal.core import clock
from portal.core.accounts import Role
from portal.expenses import queries as expense_queries
from portal.expenses.models import ClaimStatus
from portal.extensions import db
from portal.volunteers import queries as application_queries
from portal.volunteers.models import ApplicationStatus
from portal.web.decorators import role_required

bp = Blueprint("home", __name__)

HOME_ENDPOINTS = {
    Role.ADMIN: "home.admin",
    Role.COORDINATOR: "home.coordinator",
    Role.TRAINER: "home.trainer",
    Role.VOLUNTEER: "home.volunteer",
    Role.APPLICANT: "home.applicant",
}


@dataclass(frozen=True)
class Count:
    """One line of a home page's counts: '3 expense claims to decide', linking to that list."""

    key: str
    count: int
    text: str
    href: str


def _count(key: str, count: int, one: str, many: str, href: str) -> Count:
    return Count(key, count, f"{count} {one if count == 1 else many}", href)


def coordinator_counts() -> list[Count]:
    """What waits for a coordinator: three aggregate statements."""
    claims = expense_queries.count_claims(db.session, (ClaimStatus.SUBMITTED,))[ClaimStatus.SUBMITTED]
    applications = application_queries.count_applications(db.session, (ApplicationStatus.SUBMITTED,))
    unbatched = expense_queries.count_awaiting_batch(db.session)
    return [
        _count("applications", applications, "application waiting for a decision",
               "applications waiting for a decision", url_for("volunteers.queue", status="submitted")),
        _count("claims", claims, "expense claim to decide", "expense claims to decide", url_for("expenses.review")),
        _count("unbatched", unbatched, "approved claim waiting for a payment batch",
               "approved claims waiting for a payment batch", url_for("expenses.batches")),
    ]


def volunteer_counts() -> list[Count]:
    """The volunteer's own expense claims that need them: one aggregate statement."""
    counts = expense_queries.count_claims(db.session, (ClaimStatus.QUERIED, ClaimStatus.DRAFT),
                                          claimant_id=current_user.id)
    href = url_for("expenses.index")
    return [
        _count("queried", counts[ClaimStatus.QUERIED], "expense claim with a question for you",
               "expense claims with a question for you", href),
        _count("drafts", counts[ClaimStatus.DRAFT], "draft expense claim not yet submitted",
               "draft expense claims not yet submitted", href),
    ]


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
        counts=coordinator_counts(),
    )


@bp.route("/trainer")
@role_required(Role.TRAINER)
def trainer():
    return _home(Role.TRAINER)


@bp.route("/volunteer")
@role_required(Role.VOLUNTEER)
def volunteer():
    return _home(Role.VOLUNTEER, my_cases=case_queries.list_my_cases(db.session, current_user, on=clock.today()),
                 counts=volunteer_counts())


@bp.route("/applicant")
@role_required(Role.APPLICANT)
def applicant():
    return _home(Role.APPLICANT)


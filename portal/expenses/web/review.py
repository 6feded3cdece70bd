"""Expense pages for coordinators: claims to decide, and the decisions (query, approve the claim or
each line, reject, dismiss a possible duplicate). Nobody decides on their own claim."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from portal.core import clock
from portal.core.accounts import Role
from portal.core.errors import RuleViolation
from portal.core.search import clean_term
from portal.expenses import permissions, queries, services
from portal.expenses.models import ClaimLine, ClaimStatus
from portal.expenses.web import forms
from portal.expenses.web.blueprint import bp
from portal.expenses.web.routes import claim_page, show_problem
from portal.extensions import db
from portal.web.decorators import require, role_required
from portal.web.forms import add_service_problem
from portal.web.pagination import page_arg, pagination

coordinator_only = role_required(Role.COORDINATOR)
VIEWS = {
    "to-decide": ("To decide", (ClaimStatus.SUBMITTED,)),
    "queried": ("Queried", (ClaimStatus.QUERIED,)),
    "approved": ("Approved, waiting for payment", (ClaimStatus.APPROVED,)),
    "in-batch": ("In a payment batch", (ClaimStatus.IN_BATCH,)),
    "closed": ("Paid, rejected or withdrawn", (ClaimStatus.PAID, ClaimStatus.REJECTED, ClaimStatus.WITHDRAWN)),
}


def _decidable(claim_id: int):
    claim = queries.get_claim(db.session, claim_id)
    require(permissions.can_view_claim(current_user, claim) and claim.status is not ClaimStatus.DRAFT)
    require(permissions.can_decide_claim(current_user, claim), hide=False)
    return claim


def _back(claim, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("expenses.claim", claim_id=claim.id))


MONTHS_SHOWN = 24


def month_choices(today) -> list[SelectChoice]:
    """'Any month' and the last two years' months, newest first, as YYYY-MM."""
    index = today.year * 12 + today.month - 1
    months = [dt.date(number // 12, number % 12 + 1, 1) for number in range(index, index - MONTHS_SHOWN, -1)]
    return [SelectChoice("", "Any month")] + [SelectChoice(f"{month:%Y-%m}", f"{month:%B %Y}") for month in months]


def claim_filter(form: forms.ClaimFilterForm, **fixed) -> tuple[queries.ClaimFilter, dict[str, str]]:
    """The filters from a validated form (none when it has errors, which the page shows), and the same
    as query parameters for the pagination links."""
    if not (form.search.raw_data or form.month.raw_data) or not form.validate():
        return queries.ClaimFilter(**fixed), {}
    search = clean_term(form.search.data)
    month = dt.date.fromisoformat(f"{form.month.data}-01") if form.month.data else None
    return (queries.ClaimFilter(search=search, month=month, **fixed),
            {key: value for key, value in (("search", search), ("month", form.month.data or "")) if value})


@bp.route("/review")
@coordinator_only
def review():
    view = request.args.get("view", "")
    view = view if view in VIEWS else "to-decide"  # an unknown view shows the queue, never an error
    heading, statuses = VIEWS[view]
    form = forms.ClaimFilterForm(request.args)
    form.month.choices = month_choices(clock.today())
    filters, narrowed = claim_filter(form, statuses=statuses)
    found = queries.claims_page(db.session, filters, page=page_arg(),
                                order="newest-made" if view == "closed" else "oldest-submitted")
    return render_template(
        "expenses/review.html", found=found, views=VIEWS, view=view, heading=heading, filter_form=form,
        narrowed=narrowed, pagination=pagination(found.window, "expenses.review", {**narrowed, "view": view},
                                                 label=f"Pages of claims: {heading.lower()}"),
        format_pence=services.format_pence, title="Expense claims to review",
    )


@bp.route("/claims/<int:claim_id>/approve", methods=["POST"])
@coordinator_only
def approve(claim_id: int):
    claim = _decidable(claim_id)
    form = forms.ApproveForm()
    if form.validate_on_submit():
        version = int(form.version.data) if (form.version.data or "").isdigit() else None
        try:
            services.approve_claim(db.session, claim.id, actor=current_user, now=clock.now(),
                                   expected_version=version, cost_code=form.cost_code.data)
        except RuleViolation as problem:
            db.session.rollback()
            claim = queries.get_claim(db.session, claim_id)
            add_service_problem(form, form.submit, problem)
            return claim_page(claim, status=409, approve_form=form, form=form)
        return _back(claim, f"Claim {claim.reference} approved. We have e-mailed the claimant.")
    return claim_page(claim, status=400, approve_form=form, form=form)


@bp.route("/lines/<int:line_id>/decide", methods=["POST"])
@coordinator_only
def decide_line(line_id: int):
    line = db.session.get(ClaimLine, line_id)
    require(line is not None)
    claim = _decidable(line.claim_id)
    form = forms.LineDecisionForm()
    if form.validate_on_submit():
        approve = bool(form.approve.data) and not form.reject.data
        try:
            services.decide_line(db.session, line.id, approve=approve, reason=form.reason.data, actor=current_user,
                                 now=clock.now())
        except RuleViolation as problem:
            db.session.rollback()
            return claim_page(queries.get_claim(db.session, claim.id), status=409, problems=problem.reasons)
        return _back(claim, "Expense approved" if approve else "Expense rejected")
    return claim_page(claim, status=400, problems=["Enter a reason of 500 characters or fewer"])


def _reason_page(claim_id: int, form_class, template: str, title: str, act, field: str, message: str):
    claim = _decidable(claim_id)
    form = form_class()
    status = 200
    if form.validate_on_submit():
        try:
            act(claim, form)
        except RuleViolation as problem:
            show_problem(form, problem, field)
            claim = queries.get_claim(db.session, claim_id)
            status = 409
        else:
            return _back(claim, message.format(reference=claim.reference))
    elif request.method == "POST":
        status = 400
    return render_template(template, form=form, claim=claim, title=title), status


@bp.route("/claims/<int:claim_id>/query", methods=["GET", "POST"])
@coordinator_only
def query(claim_id: int):
    return _reason_page(
        claim_id, forms.QueryForm, "expenses/query.html", "Ask the claimant a question",
        lambda claim, form: services.query_claim(db.session, claim.id, form.question.data, actor=current_user,
                                                 now=clock.now()),
        "question", "Question sent on claim {reference}. We have e-mailed the claimant.",
    )


@bp.route("/claims/<int:claim_id>/reject", methods=["GET", "POST"])
@coordinator_only
def reject(claim_id: int):
    return _reason_page(
        claim_id, forms.RejectForm, "expenses/reject.html", "Reject this claim",
        lambda claim, form: services.reject_claim(db.session, claim.id, form.reason.data, actor=current_user,
                                                  now=clock.now()),
        "reason", "Claim {reference} rejected. We have e-mailed the claimant.",
    )


@bp.route("/lines/<int:line_id>/not-a-duplicate", methods=["GET", "POST"])
@coordinator_only
def dismiss_duplicate(line_id: int):
    line = db.session.get(ClaimLine, line_id)
    require(line is not None)
    claim = _decidable(line.claim_id)
    form = forms.DismissDuplicateForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.dismiss_duplicate(db.session, line.id, form.reason.data, actor=current_user, now=clock.now())
        except RuleViolation as problem:
            show_problem(form, problem, "reason")
            status = 409
        else:
            return _back(claim, "Duplicate warning dismissed")
    elif request.method == "POST":
        status = 400
    duplicates = queries.find_duplicates(db.session, line)
    return render_template("expenses/dismiss_duplicate.html", form=form, claim=claim, line=line,
                           duplicates=duplicates, format_pence=services.format_pence,
                           title="Is this a duplicate?"), status

"""Expense pages for the claimant: their claims, one claim, adding and changing lines with receipts,
submitting, answering a query, withdrawing, other organisations' miles, and receipt downloads.

Each route: load → authorise → validate → call one service → commit and respond. Someone else's claim
or receipt is a 404, whatever the id in the URL.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from wtforms import SelectChoice

from portal.core import clock, files
from portal.core.accounts import Role
from portal.core.errors import RuleViolation
from portal.expenses import mileage, permissions, queries, services
from portal.expenses.models import ActivityKind, Category, Claim, ClaimLine, ClaimStatus
from portal.expenses.web import forms
from portal.expenses.web.blueprint import bp
from portal.extensions import db
from portal.web.decorators import require, role_required
from portal.web.files import upload_response
from portal.web.forms import add_service_problem
from portal.web.pagination import page_arg, pagination

claimant_only = role_required(Role.VOLUNTEER, Role.TRAINER)
signed_in_staff = role_required(Role.VOLUNTEER, Role.TRAINER, Role.COORDINATOR, Role.ADMIN)


# ---------------------------------------------------------------------------------------------
# Helpers shared by the expenses pages


def receipts_dir() -> Path:
    """Where receipts are kept: EXPENSES_RECEIPT_DIR, or `receipts` in the instance folder (never static/)."""
    configured = current_app.config.get("EXPENSES_RECEIPT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "receipts"


def receipt_max_bytes() -> int:
    return int(current_app.config.get("EXPENSES_RECEIPT_MAX_BYTES") or services.RECEIPT_MAX_BYTES)


def show_problem(form, problem: RuleViolation, default_field: str) -> None:
    """Put a service's reasons on the form's fields, so the error summary links to them."""
    db.session.rollback()
    errors = getattr(problem, "errors", None)
    if errors:
        for name, messages in errors.items():
            field = form._fields.get(name) or form._fields[default_field]
            field.errors = [*field.errors, *messages]
        form._errors = None
        return
    name = getattr(problem, "field", None) or default_field
    add_service_problem(form, form._fields.get(name) or form._fields[default_field], problem)


def load_claim(claim_id: int) -> Claim:
    """The claim with everything its page shows, if the signed-in person may see it (else 404)."""
    claim = queries.get_claim_in_full(db.session, claim_id)  # NotFound -> 404 page
    require(permissions.can_view_claim(current_user, claim))
    return claim


def own_claim(claim_id: int) -> Claim:
    claim = queries.get_claim(db.session, claim_id)
    require(permissions.is_claimant(current_user, claim))
    return claim


def claim_page(claim: Claim, *, status: int = 200, problems: list[str] | None = None, **forms_given):
    policy = services.get_policy(db.session)
    can_decide = permissions.can_decide_claim(current_user, claim)
    flags = queries.line_flags(db.session, claim, policy, today=clock.today()) if can_decide else {}
    approve_form = forms_given.get("approve_form") or forms.ApproveForm(
        formdata=None, version=claim.version, cost_code=claim.cost_code or policy.default_cost_code)
    return render_template(
        "expenses/claim.html", claim=claim, policy=policy, flags=flags, problems=problems or [],
        is_claimant=permissions.is_claimant(current_user, claim), can_decide=can_decide,
        can_view_receipts=permissions.can_view_receipts(current_user, claim),
        approve_form=approve_form, action_form=forms.ConfirmForm(formdata=None),
        decision_form=forms.LineDecisionForm(formdata=None), format_pence=services.format_pence,
        format_miles=services.format_miles,
        form=forms_given.get("form"), title=f"Expense claim {claim.reference}",
    ), status


# ---------------------------------------------------------------------------------------------
# The claimant's pages


@bp.route("/")
@claimant_only
def index():
    found = queries.claims_page(db.session, queries.ClaimFilter(claimant_id=current_user.id), page=page_arg(),
                                order="newest")
    this_year = mileage.tax_year_of(clock.today())
    return render_template(
        "expenses/index.html", found=found, form=forms.ConfirmForm(formdata=None),
        pagination=pagination(found.window, "expenses.index", {}, label="Pages of your claims"),
        miles=services.format_miles(services.miles_counted(db.session, current_user.id, this_year)),
        other_miles=services.format_miles(services.declared_other_miles(db.session, current_user.id, this_year)),
        tax_year=mileage.tax_year_label(this_year), format_pence=services.format_pence,
        title="Your expense claims",
    )


@bp.route("/claims/new", methods=["POST"])
@claimant_only
def new_claim():
    form = forms.ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("expenses.index"))
    claim = services.start_claim(db.session, actor=current_user, now=clock.now())
    db.session.commit()
    return redirect(url_for("expenses.claim", claim_id=claim.id))


@bp.route("/claims/<int:claim_id>")
@signed_in_staff
def claim(claim_id: int):
    return claim_page(load_claim(claim_id))


def _activity_choices(claim: Claim) -> list[SelectChoice]:
    activities = services.list_activities(db.session, claim.claimant, today=clock.today())
    return (
        [SelectChoice("", "Not linked to an activity")]
        + [SelectChoice(activity.key, f"{activity.label} ({activity.day:%-d %b %Y})") for activity in activities]
        + [SelectChoice(ActivityKind.SUPERVISION.value, "A supervision session"),
           SelectChoice(ActivityKind.OTHER.value, "Something else (say what)")]
    )


def _line_defaults(line: ClaimLine) -> dict:
    activity = ""
    if line.activity_kind in (ActivityKind.TRAINING_DAY, ActivityKind.CASE_MEETING):
        activity = f"{line.activity_kind.value}:{line.activity_id}"
    elif line.activity_kind:
        activity = line.activity_kind.value
    purpose = line.activity_label if line.activity_kind in (ActivityKind.SUPERVISION, ActivityKind.OTHER) else ""
    return {
        "spent_on": line.spent_on, "description": line.description, "activity": activity, "purpose": purpose,
        "category": line.category.value, "amount": f"{line.amount_pence / 100:.2f}" if not line.is_mileage else "",
        "pre_approval": line.pre_approval or "", "from_place": line.from_place or "", "to_place": line.to_place or "",
        "miles": str(line.miles) if line.miles is not None else "",
        "vehicle": line.vehicle.value if line.vehicle else None, "passengers": str(line.passengers),
    }


def _uploads(field) -> list[FileStorage]:
    return [item for item in (field.data or []) if isinstance(item, FileStorage) and item.filename]


def _save_receipts(line_id: int, uploads: list[FileStorage]) -> None:
    for upload in uploads:
        # The request as a whole is bounded by MAX_CONTENT_LENGTH, so reading a file whole is safe.
        services.add_receipt(db.session, line_id, upload.read(), filename=upload.filename,
                             directory=receipts_dir(), actor=current_user, now=clock.now(),
                             max_bytes=receipt_max_bytes())


@bp.route("/claims/<int:claim_id>/lines/new/<kind>", methods=["GET", "POST"])
@bp.route("/claims/<int:claim_id>/lines/<int:line_id>/edit", methods=["GET", "POST"])
@claimant_only
def line_form(claim_id: int, kind: str | None = None, line_id: int | None = None):
    claim = own_claim(claim_id)
    line = None
    if line_id is not None:
        line = next((item for item in claim.lines if item.id == line_id), None)
        require(line is not None)
        kind = "mileage" if line.is_mileage else "expense"
    require(kind in ("mileage", "expense"))
    form_class = forms.MileageForm if kind == "mileage" else forms.ExpenseForm
    form = form_class(data=_line_defaults(line) if line and request.method == "GET" else None)
    form.activity.choices = _activity_choices(claim)
    status = 200
    if request.method == "POST" and not claim.is_editable_by_claimant:
        status = 409
        add_service_problem(form, form.submit, RuleViolation(
            f"Claim {claim.reference} is {claim.status.label} and cannot be changed"))
    elif form.validate_on_submit():
        data = {name: field.data for name, field in form._fields.items()}
        data["category"] = Category.MILEAGE.value if kind == "mileage" else form.category.data
        was_approved = claim.status is ClaimStatus.APPROVED
        try:
            saved = services.save_line(db.session, claim.id, data, line_id=line_id, actor=current_user,
                                       now=clock.now())
            _save_receipts(saved.id, _uploads(form.receipts))
        except (RuleViolation, files.UploadRejected) as problem:
            show_problem(form, problem, "receipts" if isinstance(problem, files.UploadRejected) else "submit")
            status = 400
        else:
            db.session.commit()
            message = "Expense saved" if line else "Expense added"
            if was_approved:
                message += ". The claim has gone back for approval because it changed"
            flash(message, "success")
            return redirect(url_for("expenses.claim", claim_id=claim.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "expenses/line_form.html", form=form, claim=claim, line=line, kind=kind,
        title=("Change" if line else "Add") + (" a journey" if kind == "mileage" else " an expense"),
    ), status


@bp.route("/claims/<int:claim_id>/lines/<int:line_id>/remove", methods=["POST"])
@claimant_only
def remove_line(claim_id: int, line_id: int):
    claim = own_claim(claim_id)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        services.remove_line(db.session, claim.id, line_id, actor=current_user, now=clock.now(),
                             directory=receipts_dir())
        db.session.commit()
        flash("Expense removed", "success")
    return redirect(url_for("expenses.claim", claim_id=claim.id))


@bp.route("/claims/<int:claim_id>/lines/<int:line_id>/receipts", methods=["GET", "POST"])
@claimant_only
def add_receipts(claim_id: int, line_id: int):
    claim = own_claim(claim_id)
    line = next((item for item in claim.lines if item.id == line_id), None)
    require(line is not None)
    form = forms.ReceiptForm()
    status = 200
    if form.validate_on_submit():
        uploads = _uploads(form.receipts)
        if not uploads:
            form.receipts.errors = ["Select a receipt to upload"]
            status = 400
        else:
            try:
                _save_receipts(line.id, uploads)
            except (RuleViolation, files.UploadRejected) as problem:
                show_problem(form, problem, "receipts")
                status = 400
            else:
                db.session.commit()
                flash("Receipt added" if len(uploads) == 1 else f"{len(uploads)} receipts added", "success")
                return redirect(url_for("expenses.claim", claim_id=claim.id))
    return render_template("expenses/receipts.html", form=form, claim=claim, line=line,
                           format_pence=services.format_pence, title="Add receipts"), status


@bp.route("/receipts/<int:receipt_id>")
@signed_in_staff
def receipt(receipt_id: int):
    found = queries.get_visible_receipt(db.session, receipt_id, current_user)  # NotFound -> 404
    try:
        data = files.read(receipts_dir(), found.stored_name)
    except FileNotFoundError:
        data = None
    require(data is not None)
    # Photos we re-encoded open in the browser; PDFs and anything stored before re-encoding are downloaded.
    return upload_response(data, kind=found.kind, name=found.display_name, reencoded=found.is_reencoded)


@bp.route("/receipts/<int:receipt_id>/remove", methods=["POST"])
@claimant_only
def remove_receipt(receipt_id: int):
    found = queries.get_visible_receipt(db.session, receipt_id, current_user)
    claim = found.line.claim
    require(permissions.is_claimant(current_user, claim))
    if forms.ConfirmForm().validate_on_submit():
        services.remove_receipt(db.session, found.id, directory=receipts_dir(), actor=current_user, now=clock.now())
        db.session.commit()
        flash("Receipt removed", "success")
    return redirect(url_for("expenses.claim", claim_id=claim.id))


@bp.route("/claims/<int:claim_id>/submit", methods=["POST"])
@claimant_only
def submit(claim_id: int):
    claim = own_claim(claim_id)
    if not forms.ConfirmForm().validate_on_submit():
        return redirect(url_for("expenses.claim", claim_id=claim.id))
    try:
        services.submit_claim(db.session, claim.id, actor=current_user, now=clock.now())
    except RuleViolation as problem:
        db.session.rollback()
        return claim_page(own_claim(claim_id), status=409, problems=problem.reasons)
    db.session.commit()
    flash(f"Claim {claim.reference} submitted. We have e-mailed you a confirmation.", "success")
    return redirect(url_for("expenses.claim", claim_id=claim.id))


@bp.route("/claims/<int:claim_id>/answer", methods=["GET", "POST"])
@claimant_only
def answer(claim_id: int):
    claim = own_claim(claim_id)
    require(claim.status is ClaimStatus.QUERIED)
    form = forms.AnswerForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.answer_query(db.session, claim.id, form.answer.data, actor=current_user, now=clock.now())
        except RuleViolation as problem:
            show_problem(form, problem, "answer")
            claim = own_claim(claim_id)
            status = 409
        else:
            db.session.commit()
            flash("Answer sent: your claim is back with a coordinator", "success")
            return redirect(url_for("expenses.claim", claim_id=claim.id))
    elif request.method == "POST":
        status = 400
    return render_template("expenses/answer.html", form=form, claim=claim, title="Answer the question"), status


@bp.route("/claims/<int:claim_id>/withdraw", methods=["GET", "POST"])
@claimant_only
def withdraw(claim_id: int):
    claim = own_claim(claim_id)
    form = forms.WithdrawForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.withdraw_claim(db.session, claim.id, actor=current_user, now=clock.now(),
                                    reason=form.reason.data)
        except RuleViolation as problem:
            show_problem(form, problem, "reason")
            claim = own_claim(claim_id)
            status = 409
        else:
            db.session.commit()
            flash(f"Claim {claim.reference} withdrawn", "success")
            return redirect(url_for("expenses.claim", claim_id=claim.id))
    return render_template("expenses/withdraw.html", form=form, claim=claim, title="Withdraw this claim"), status


@bp.route("/other-miles", methods=["GET", "POST"])
@claimant_only
def other_miles():
    this_year = mileage.tax_year_of(clock.today())
    form = forms.OtherMilesForm()
    form.tax_year.choices = [SelectChoice(str(year), mileage.tax_year_label(year))
                             for year in (this_year, this_year - 1)]
    if request.method == "GET":
        form.tax_year.data = str(this_year)
        form.miles.data = str(services.declared_other_miles(db.session, current_user.id, this_year))
    status = 200
    if form.validate_on_submit():
        try:
            services.declare_other_mileage(db.session, int(form.tax_year.data), form.miles.data,
                                           actor=current_user, now=clock.now())
        except (RuleViolation, ValueError) as problem:
            if isinstance(problem, ValueError):
                problem = RuleViolation("Choose the tax year")
            show_problem(form, problem, "miles")
            status = 400
        else:
            db.session.commit()
            flash("Miles from other organisations saved", "success")
            return redirect(url_for("expenses.index"))
    elif request.method == "POST":
        status = 400
    return render_template("expenses/other_miles.html", form=form, title="Miles for other organisations"), status

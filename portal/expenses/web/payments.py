"""Payment batches (coordinators and admins): gather approved claims, lock, export CSV and XLSX, mark paid;
expense reports; and the admin's mileage rates and expenses policy."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.core import audit, clock
from portal.core.accounts import Role
from portal.core.errors import RuleViolation, ValidationFailed
from portal.expenses import export, mileage, queries, services
from portal.expenses.web import forms
from portal.expenses.web.blueprint import bp
from portal.expenses.web.routes import show_problem
from portal.extensions import db
from portal.web.decorators import role_required
from portal.web.forms import add_service_problem
from portal.web.input import int_arg
from portal.web.pagination import page_arg, pagination

payments_only = role_required(Role.COORDINATOR, Role.ADMIN)
admin_only = role_required(Role.ADMIN)


def _batch_page(batch, *, status: int = 200, form=None, problems=None):
    """The batch with its totals and one page of its claims (50 a page), in a fixed number of statements."""
    found = queries.claims_page(db.session, queries.ClaimFilter(batch_id=batch.id), page=page_arg(), order="claim")
    return render_template(
        "expenses/batch.html", batch=batch, found=found,
        totals=queries.batch_totals(db.session, [batch.id]).get(batch.id, queries.BatchTotals()),
        pagination=pagination(found.window, "expenses.batch", {}, label=f"Pages of batch {batch.reference}",
                              batch_id=batch.id),
        form=form, paid_form=form or forms.PaidForm(formdata=None),
        action_form=forms.ConfirmForm(formdata=None), problems=problems or [],
        exportable=queries.batch_is_exportable(batch), format_pence=services.format_pence,
        title=f"Payment batch {batch.reference}",
    ), status


@bp.route("/batches")
@payments_only
def batches():
    found = queries.batches_page(db.session, page=page_arg())
    return render_template(
        "expenses/batches.html", found=found, waiting=queries.awaiting_batch_totals(db.session),
        pagination=pagination(found.window, "expenses.batches", {}, label="Pages of payment batches"),
        form=forms.ConfirmForm(formdata=None), format_pence=services.format_pence, title="Payment batches",
    )


@bp.route("/batches/new", methods=["POST"])
@payments_only
def new_batch():
    if not forms.ConfirmForm().validate_on_submit():
        return redirect(url_for("expenses.batches"))
    try:
        batch = services.create_batch(db.session, actor=current_user, now=clock.now())
    except RuleViolation as problem:
        db.session.rollback()
        flash(problem.reasons[0], "important")
        return redirect(url_for("expenses.batches"))
    db.session.commit()
    flash(f"Batch {batch.reference} made with {len(batch.claims)} claims", "success")
    return redirect(url_for("expenses.batch", batch_id=batch.id))


@bp.route("/batches/<int:batch_id>")
@payments_only
def batch(batch_id: int):
    return _batch_page(queries.get_batch(db.session, batch_id))


def _batch_action(batch_id: int, act, message: str):
    found = queries.get_batch(db.session, batch_id)
    if not forms.ConfirmForm().validate_on_submit():
        return redirect(url_for("expenses.batch", batch_id=found.id))
    try:
        act(found)
    except RuleViolation as problem:
        db.session.rollback()
        return _batch_page(queries.get_batch(db.session, batch_id), status=409, problems=problem.reasons)
    db.session.commit()
    flash(message.format(reference=found.reference), "success")
    return redirect(url_for("expenses.batch", batch_id=found.id))


@bp.route("/batches/<int:batch_id>/lock", methods=["POST"])
@payments_only
def lock_batch(batch_id: int):
    return _batch_action(
        batch_id, lambda found: services.lock_batch(db.session, found.id, actor=current_user, now=clock.now()),
        "Batch {reference} locked: export it for finance, then mark it paid",
    )


@bp.route("/batches/<int:batch_id>/claims/<int:claim_id>/remove", methods=["POST"])
@payments_only
def remove_from_batch(batch_id: int, claim_id: int):
    return _batch_action(
        batch_id, lambda found: services.remove_from_batch(db.session, found.id, claim_id, actor=current_user,
                                                           now=clock.now()),
        "Claim taken out of batch {reference}",
    )


@bp.route("/batches/<int:batch_id>/paid", methods=["POST"])
@payments_only
def mark_paid(batch_id: int):
    found = queries.get_batch(db.session, batch_id)
    form = forms.PaidForm()
    if form.validate_on_submit():
        try:
            services.mark_batch_paid(db.session, found.id, form.paid_on.data, actor=current_user, now=clock.now())
        except ValidationFailed as problem:
            show_problem(form, problem, "paid_on")
        except RuleViolation as problem:
            db.session.rollback()
            add_service_problem(form, form.paid_on, problem)
        else:
            db.session.commit()
            flash(f"Batch {found.reference} marked paid. We have e-mailed each claimant.", "success")
            return redirect(url_for("expenses.batch", batch_id=found.id))
        return _batch_page(queries.get_batch(db.session, batch_id), status=409, form=form)
    return _batch_page(found, status=400, form=form)


def _download(batch_id: int, file_format: str, body, mimetype: str, suffix: str):
    found = queries.get_batch(db.session, batch_id)
    try:
        services.record_export(db.session, found.id, file_format, actor=current_user, now=clock.now())
    except RuleViolation as problem:
        db.session.rollback()
        return _batch_page(queries.get_batch(db.session, batch_id), status=409, problems=problem.reasons)
    content = body(found)
    db.session.commit()
    return Response(content, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{export.filename(found, suffix)}"',
        "Cache-Control": "no-store",
    })


@bp.route("/batches/<int:batch_id>/claims.csv")
@payments_only
def batch_claims_csv(batch_id: int):
    return _download(batch_id, "claims.csv", export.claims_csv, "text/csv", "claims.csv")


@bp.route("/batches/<int:batch_id>/lines.csv")
@payments_only
def batch_lines_csv(batch_id: int):
    return _download(batch_id, "lines.csv", export.lines_csv, "text/csv", "lines.csv")


@bp.route("/batches/<int:batch_id>/batch.xlsx")
@payments_only
def batch_xlsx(batch_id: int):
    return _download(batch_id, "xlsx", export.batch_xlsx,
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "batch.xlsx")


# ---------------------------------------------------------------------------------------------
# Reports


def _tax_year_arg() -> int:
    """?tax_year=, or this tax year when it is missing, not a number or not a year the reports cover."""
    this_year = mileage.tax_year_of(clock.today())
    return int_arg("tax_year", this_year, minimum=2000, maximum=this_year)


REPORT_TABLES = {"volunteers": "Totals by volunteer", "miles": "Car and van miles this tax year"}


@bp.route("/reports")
@payments_only
def reports():
    """Totals by month, category and activity, and one paginated table (by volunteer, or miles): every
    figure is summed in SQL, so the page costs the same however many claims there are."""
    year = _tax_year_arg()
    starts_on, ends_on = mileage.tax_year_bounds(year)
    this_year = mileage.tax_year_of(clock.today())
    table = request.args.get("table", "")
    table = table if table in REPORT_TABLES else "volunteers"  # an unknown table shows the first
    if table == "miles":
        found = queries.miles_page(db.session, year, page=page_arg())
    else:
        found = queries.volunteer_totals_page(db.session, starts_on, ends_on, page=page_arg())
    return render_template(
        "expenses/reports.html", year=year, years=list(range(this_year, max(2000, this_year - 6) - 1, -1)),
        label=mileage.tax_year_label, totals=queries.expense_totals(db.session, starts_on, ends_on),
        table=table, tables=REPORT_TABLES, found=found,
        pagination=pagination(found.window, "expenses.reports", {"tax_year": str(year), "table": table},
                              label=f"Pages of {REPORT_TABLES[table].lower()}"),
        format_pence=services.format_pence, title="Expense reports",
    )


@bp.route("/reports.csv")
@payments_only
def reports_csv():
    year = _tax_year_arg()
    starts_on, ends_on = mileage.tax_year_bounds(year)
    totals = queries.expense_totals(db.session, starts_on, ends_on)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Grouping", "Group", "Total (£)"])
    for grouping, values in (("Month", totals.by_month), ("Category", totals.by_category),
                             ("Activity", totals.by_activity)):
        for name, pence in values.items():
            writer.writerow([grouping, export._safe(name), export.pounds(pence)])
    for row in queries.volunteer_totals(db.session, starts_on, ends_on):
        writer.writerow(["Volunteer", export._safe(row.name), export.pounds(row.pence)])
    writer.writerow(["Total", "", export.pounds(totals.total_pence)])
    for miles in queries.miles_by_volunteer(db.session, year):
        writer.writerow(["Car and van miles", export._safe(miles.name), miles.total_miles])
    audit.record(db.session, current_user, "expenses.report_exported", None, at=clock.now(), tax_year=year)
    db.session.commit()
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="expenses-{year}-{year + 1}.csv"', "Cache-Control": "no-store"})


# ---------------------------------------------------------------------------------------------
# Admin: policy and rates


def _pence(raw: str) -> int | None:
    return services.parse_pounds(raw)


@bp.route("/settings", methods=["GET", "POST"])
@admin_only
def settings():
    policy = services.get_policy(db.session)
    form = forms.PolicyForm(data=None if request.method == "POST" else {
        "receipt_required_above": f"{policy.receipt_required_above_pence / 100:.2f}",
        "subsistence_cap": f"{policy.subsistence_cap_pence / 100:.2f}",
        "max_line": f"{policy.max_line_pence / 100:.2f}",
        "old_claim_months": str(policy.old_claim_months),
        "preapproval_categories": list(policy.preapproval_categories),
        "default_cost_code": policy.default_cost_code,
    })
    status = 200
    if form.validate_on_submit():
        values = {}
        for name, key in (("receipt_required_above", "receipt_required_above_pence"),
                          ("subsistence_cap", "subsistence_cap_pence"), ("max_line", "max_line_pence")):
            pence = _pence(form[name].data)
            if pence is None:
                form[name].errors.append("Enter an amount in pounds and pence, like 10.00")
            values[key] = pence
        months = (form.old_claim_months.data or "").strip()
        if not months.isdigit():
            form.old_claim_months.errors.append("Enter a whole number of months, like 3")
        if not form.errors:
            try:
                services.update_policy(db.session, actor=current_user, now=clock.now(), old_claim_months=int(months),
                                       preapproval_categories=form.preapproval_categories.data or [],
                                       default_cost_code=form.default_cost_code.data, **values)
            except RuleViolation as problem:
                show_problem(form, problem, "submit")
            else:
                db.session.commit()
                flash("Expenses policy saved", "success")
                return redirect(url_for("expenses.settings"))
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("expenses/settings.html", form=form, title="Expenses policy"), status


@bp.route("/rates", methods=["GET", "POST"])
@admin_only
def rates():
    form = forms.RateForm()
    status = 200
    if form.validate_on_submit():
        numbers = {}
        for name in ("pence_per_mile", "threshold_miles", "pence_per_mile_after"):
            raw = (form[name].data or "").strip().replace(",", "")
            if raw and not raw.isdigit():
                form[name].errors.append("Enter a whole number")
            numbers[name] = int(raw) if raw.isdigit() else None
        if not form.errors:
            try:
                services.add_mileage_rate(db.session, vehicle=form.vehicle.data,
                                          effective_from=form.effective_from.data, actor=current_user,
                                          now=clock.now(), **numbers)
            except RuleViolation as problem:
                show_problem(form, problem, "effective_from")
            else:
                db.session.commit()
                flash("Rate added. Claims already made keep the rates they were priced at.", "success")
                return redirect(url_for("expenses.rates"))
        status = 400
    elif request.method == "POST":
        status = 400
    today = clock.today()
    return render_template(
        "expenses/rates.html", form=form, rates=queries.list_rates(db.session),
        current=queries.current_rates(db.session, today), labels=mileage.RATE_KIND_LABELS, today=today,
        threshold=Decimal(mileage.DEFAULT_RATES["car_van"].threshold_miles), title="Mileage rates",
    ), status

"""Vetting pages: the coordinators' dashboard (with CSV export), the volunteer list and record with its
cleared / not cleared banner, recording a check, a renewal or a decision, the admin's rules page, and
the volunteer's own vetting page with its change-of-circumstances form.

Each route: load → authorise → validate → call one service → commit and respond. Anyone who may not
see a volunteer's vetting gets 404 for it, so changing an id in a URL reveals nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal.core import audit, clock
from portal.core.paging import PageWindow
from portal.core.search import SEARCH_MAX_LENGTH, clean_term
from portal.extensions import db
from portal.volunteers import services as application_services
from portal.volunteers.profiles import queries as profile_queries
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from portal.volunteers.vetting import permissions, queries, services
from portal.volunteers.vetting.errors import CheckInvalid
from portal.volunteers.vetting.models import CHECK_KIND_ORDER, LEVELS, CheckKind, CheckStatus, VettingCheck
from portal.volunteers.vetting.rules import CheckRule, normalise_reminder_days
from portal.volunteers.web import vetting_forms as forms
from portal.volunteers.web.blueprint import bp
from portal.volunteers.web.preferences import record_section
from portal.web.decorators import require
from portal.web.pagination import page_arg, pagination

# ---------------------------------------------------------------------------------------------
# Helpers


def _volunteer(volunteer_id: int) -> Volunteer:
    volunteer = profile_queries.get_volunteer(db.session, volunteer_id)  # NotFound -> 404 page
    require(permissions.can_view_vetting(current_user) and permissions.can_view_vetting(current_user, volunteer))
    return volunteer


def _check(check_id: int) -> VettingCheck:
    check = queries.get_check(db.session, check_id)
    require(permissions.can_record_check(current_user, check.volunteer))
    return check


def _show_problems(form, problem: CheckInvalid, fallback: str = "status") -> None:
    """Put each of the service's messages on its field, so the error summary links to it."""
    db.session.rollback()
    for name, messages in problem.errors.items():
        field = form._fields.get(name) or form._fields[fallback]
        field.errors = [*field.errors, *messages]
    form._errors = None


def _details(form: forms.CheckForm, kind: CheckKind) -> services.CheckDetails:
    return services.CheckDetails(
        kind=kind, status=CheckStatus(form.status.data), level=form.level.data or None,
        submitted_on=form.submitted_on.data, cleared_on=form.cleared_on.data, decided_on=form.decided_on.data,
        expires_on=form.expires_on.data, expiry_override_reason=form.expiry_override_reason.data,
        reference_last4=form.reference_last4.data, decision_maker=form.decision_maker.data, notes=form.notes.data,
        dbs_workforce=form.dbs_workforce.data or None, update_service=form.update_service.data,
        update_service_checked_on=form.update_service_checked_on.data,
    )


def _to_record(volunteer: Volunteer, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("volunteers.volunteer_record", volunteer_id=volunteer.id))


# ---------------------------------------------------------------------------------------------
# The coordinator home panel

HOME_ENDPOINT = "home.coordinator"
# (dashboard group, what the count is of); the dashboard's own headings say the same.
HOME_PANEL_GROUPS = (
    ("lapsed", "lapsed or refused"),
    ("expiring-30", "expiring within 30 days"),
    ("waiting", "submitted and waiting for a decision"),
)


@dataclass(frozen=True)
class HomePanelLine:
    key: str
    count: int
    text: str
    href: str


def home_panel_lines(counts: dict[str, int]) -> list[HomePanelLine]:
    """The panel's counts, each linking to its group on the vetting dashboard."""
    lines = []
    for key, what in HOME_PANEL_GROUPS:
        count = counts[key]
        lines.append(HomePanelLine(key, count, f"{count} {'check' if count == 1 else 'checks'} {what}",
                                   url_for("volunteers.vetting_dashboard", group=key)))
    return lines


@bp.app_context_processor
def vetting_home_panel() -> dict:
    """On the coordinator home only, `vetting_panel` for templates/volunteers/vetting/_home_panel.html
    (the home page itself needs no knowledge of vetting, only the include). Two statements (the rules
    and one aggregate), however many volunteers there are."""
    if request.endpoint != HOME_ENDPOINT or not permissions.can_view_vetting(current_user):
        return {}
    counts = queries.dashboard_counts(db.session, clock.today(), queries.get_rules(db.session))
    return {"vetting_panel": home_panel_lines(counts)}


# ---------------------------------------------------------------------------------------------
# Coordinators: dashboard, export, list, record

DASHBOARD_PAGE_SIZE = 50


def _dashboard_filter() -> queries.DashboardFilter:
    """The dashboard's filters from the query string. Anything unexpected is ignored, not refused: the
    search is plain text (control characters dropped, spaces collapsed, at most 100 characters)."""
    kind = request.args.get("kind", "")
    return queries.DashboardFilter(
        kind=CheckKind(kind) if kind in {member.value for member in CheckKind} else None,
        required_only=request.args.get("required") == "yes",
        search=clean_term(request.args.get("search")),
    )


@bp.route("/vetting")
@login_required
def vetting_dashboard():
    require(permissions.can_view_vetting(current_user), hide=False)
    filters = _dashboard_filter()
    rules = queries.get_rules(db.session)
    board = queries.dashboard_page(db.session, clock.today(), rules, group=request.args.get("group"),
                                   filters=filters, page=page_arg(), per_page=DASHBOARD_PAGE_SIZE)
    # The filters as query parameters, kept by every link on the page.
    narrowed = {key: value for key, value in (
        ("kind", filters.kind.value if filters.kind else ""), ("required", "yes" if filters.required_only else ""),
        ("search", filters.search)) if value}
    return render_template(
        "volunteers/vetting/dashboard.html", board=board, filters=filters, narrowed=narrowed,
        pagination=pagination(
            PageWindow(page=board.page, pages=board.pages, per_page=board.per_page, total=board.total),
            "volunteers.vetting_dashboard", {**narrowed, "group": board.group},
            label=f"Pages of {board.heading[:1].lower()}{board.heading[1:]}"),
        kinds=[(kind, rules[kind]) for kind in CHECK_KIND_ORDER], search_max_length=SEARCH_MAX_LENGTH,
        can_record=permissions.can_record_check(current_user),
        can_change_rules=permissions.can_change_rules(current_user), title="Vetting",
    )


def _safe_cell(value) -> str:
    # A cell starting with =, +, - or @ would run as a formula in a spreadsheet.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.route("/vetting/export.csv")
@login_required
def vetting_export():
    require(permissions.can_view_vetting(current_user), hide=False)
    today = clock.today()
    rules = queries.get_rules(db.session)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Group", "Volunteer", "E-mail", "Volunteer status", "Check", "Required", "Check status",
                     "Submitted on", "Cleared on", "Expires or review due on", "Days left", "Detail",
                     "Last 4 characters", "Decided by"])
    rows = 0
    # Every row of every group (an export, not a page), a group at a time.
    for key, heading in queries.DASHBOARD_GROUPS:
        for row in queries.dashboard_rows(db.session, today, rules, key):
            check = row.check
            writer.writerow([_safe_cell(value) for value in (
                heading, row.volunteer.name, row.volunteer.user.email, row.volunteer.status.label,
                check.title if check else row.kind.label, "yes" if row.required else "no",
                check.status.label if check else "missing",
                check.submitted_on if check else "", check.cleared_on if check else "",
                check.expires_on if check else "", "" if row.days_left is None else row.days_left, row.detail,
                check.reference_last4 if check else "", check.decision_maker if check else "",
            )])
            rows += 1
    audit.record(db.session, current_user, "vetting.exported", None, at=clock.now(), on=today, rows=rows)
    db.session.commit()
    return Response(
        "\ufeff" + buffer.getvalue(), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="vetting-{today:%Y-%m-%d}.csv"',
                 "Cache-Control": "no-store"},
    )


VOLUNTEER_PAGE_SIZE = 50


def _volunteer_filter(form: forms.VolunteerFilterForm) -> profile_queries.VolunteerFilter:
    """The list's filters from the query string; none when the form does not validate (it then shows
    why, for example an unknown status or a control character in the search)."""
    form.district.choices = [SelectChoice("", "Any district")] + [
        SelectChoice(name, name) for name in application_services.configured_districts(db.session)]
    if not request.args or not form.validate():
        return profile_queries.VolunteerFilter()
    return profile_queries.VolunteerFilter(
        statuses=(VolunteerStatus(form.status.data),) if form.status.data else (),
        search=clean_term(form.search.data), district=form.district.data or None,
    )


@bp.route("/volunteers")
@login_required
def volunteer_list():
    require(permissions.can_view_vetting(current_user), hide=False)
    form = forms.VolunteerFilterForm(request.args)
    filters = _volunteer_filter(form)
    result = profile_queries.list_volunteer_page(db.session, filters, page=page_arg(), per_page=VOLUNTEER_PAGE_SIZE)
    today = clock.today()
    rules = queries.get_rules(db.session)
    checks = queries.list_checks_by_volunteer(db.session, (volunteer.id for volunteer in result.rows))
    clearances = {volunteer.id: queries.clearance_of(checks[volunteer.id], rules, today) for volunteer in result.rows}
    # The filters as query parameters, kept by every page link.
    narrowed = {key: value for key, value in (
        ("search", filters.search), ("status", filters.statuses[0].value if filters.statuses else ""),
        ("district", filters.district or "")) if value}
    return render_template(
        "volunteers/vetting/volunteers.html", filter_form=form, result=result, clearances=clearances,
        narrowed=narrowed, title="Volunteers",
        pagination=pagination(result.window, "volunteers.volunteer_list", narrowed, label="Pages of volunteers"),
    )


@bp.route("/volunteers/<int:volunteer_id>")
@login_required
def volunteer_record(volunteer_id: int):
    volunteer = _volunteer(volunteer_id)
    today = clock.today()
    checks = queries.list_checks(db.session, volunteer.id)
    rules = queries.get_rules(db.session)
    reports = queries.list_circumstance_reports(db.session, volunteer.id)
    if reports:
        # Restricted data (it may describe an offence): every view is recorded.
        audit.record(db.session, current_user, "vetting.circumstances_viewed", volunteer, at=clock.now(),
                     reports=len(reports))
    preferences = record_section(volunteer)  # records a view of conflicts of interest, if any are shown
    # Rendered before the commit that keeps those audit entries: a commit expires what the page shows.
    page = render_template(
        "volunteers/vetting/record.html", volunteer=volunteer, preferences=preferences,
        clearance=queries.clearance_of(checks, rules, today),
        summaries=queries.summarise_checks(checks, rules, today), checks=checks, reports=reports,
        kinds=CHECK_KIND_ORDER, can_record=permissions.can_record_check(current_user, volunteer), today=today,
        title=f"{volunteer.name}: volunteer record",
    )
    db.session.commit()
    return page


# ---------------------------------------------------------------------------------------------
# Recording checks


def _kind(value: str) -> CheckKind:
    try:
        return CheckKind(value)
    except ValueError:
        abort(404)


def _check_page(form, volunteer: Volunteer, kind: CheckKind, *, heading: str, renews: VettingCheck | None = None,
                check: VettingCheck | None = None, status: int = 200):
    return render_template(
        "volunteers/vetting/check_form.html", form=form, fields=form.fields_for(kind), volunteer=volunteer,
        kind=kind, renews=renews, check=check, rule=queries.get_rules(db.session)[kind],
        title=heading, heading=heading,
    ), status


@bp.route("/volunteers/<int:volunteer_id>/checks/new/<kind_value>", methods=["GET", "POST"])
@login_required
def vetting_record_check(volunteer_id: int, kind_value: str):
    volunteer = _volunteer(volunteer_id)
    require(permissions.can_record_check(current_user, volunteer))
    kind = _kind(kind_value)
    form = forms.CheckForm().prepare(kind, services.RECORDABLE_STATUSES)
    heading = f"Record {kind.label[:1].lower()}{kind.label[1:]}"
    if form.validate_on_submit():
        try:
            check = services.record_check(db.session, volunteer.id, _details(form, kind), actor=current_user,
                                          now=clock.now())
        except CheckInvalid as problem:
            _show_problems(form, problem)
            return _check_page(form, _volunteer(volunteer_id), kind, heading=heading, status=409)
        return _to_record(volunteer, f"{check.title} recorded as {check.status.label}")
    return _check_page(form, volunteer, kind, heading=heading, status=400 if form.errors else 200)


@bp.route("/vetting/checks/<int:check_id>/renew", methods=["GET", "POST"])
@login_required
def vetting_renew_check(check_id: int):
    renews = _check(check_id)
    volunteer, kind = renews.volunteer, renews.kind
    form = forms.CheckForm().prepare(kind, (CheckStatus.CLEARED, CheckStatus.SUBMITTED, CheckStatus.NOT_STARTED))
    form.submit.label.text = "Save renewal"
    if request.method == "GET":
        form.status.data = CheckStatus.CLEARED.value
        form.level.data = renews.level or ""
        form.decision_maker.data = renews.decision_maker
        form.dbs_workforce.data = renews.dbs_workforce or ""
        form.update_service.data = renews.update_service
    heading = f"Record a renewal of {renews.title_in_sentence}"
    if form.validate_on_submit():
        try:
            check = services.record_check(db.session, volunteer.id, _details(form, kind), actor=current_user,
                                          now=clock.now(), renews_id=renews.id)
        except CheckInvalid as problem:
            _show_problems(form, problem)
            renews = _check(check_id)
            return _check_page(form, renews.volunteer, kind, heading=heading, renews=renews, status=409)
        return _to_record(volunteer, f"Renewal of {check.title_in_sentence} recorded as {check.status.label}")
    return _check_page(form, volunteer, kind, heading=heading, renews=renews, status=400 if form.errors else 200)


@bp.route("/vetting/checks/<int:check_id>/edit", methods=["GET", "POST"])
@login_required
def vetting_update_check(check_id: int):
    check = _check(check_id)
    volunteer, kind = check.volunteer, check.kind
    statuses = [check.status, *sorted(services.CHECK_TRANSITIONS[check.status] - {CheckStatus.LAPSED},
                                      key=list(CheckStatus).index)]
    form = forms.CheckForm(obj=check if request.method == "GET" else None).prepare(kind, statuses)
    if request.method == "GET":
        form.status.data = check.status.value
        form.level.data = check.level or ""
        form.dbs_workforce.data = check.dbs_workforce or ""
        form.expires_on.data = check.expires_on if check.expiry_override_reason else None
    heading = f"Update {check.title_in_sentence}"
    if form.validate_on_submit():
        try:
            services.update_check(db.session, check.id, _details(form, kind), actor=current_user, now=clock.now())
        except CheckInvalid as problem:
            _show_problems(form, problem)
            check = _check(check_id)
            return _check_page(form, check.volunteer, kind, heading=heading, check=check, status=409)
        return _to_record(volunteer, f"{check.title} updated")
    return _check_page(form, volunteer, kind, heading=heading, check=check, status=400 if form.errors else 200)


# ---------------------------------------------------------------------------------------------
# Admin: the rules


@bp.route("/vetting/rules", methods=["GET", "POST"])
@login_required
def vetting_rules():
    require(permissions.can_change_rules(current_user), hide=False)
    rules = queries.get_rules(db.session)
    form = forms.RulesForm.for_kinds()()
    if request.method == "GET":
        for kind, rule in rules.items():
            form[f"{kind.value}-required"].data = rule.required
            form[f"{kind.value}-months"].data = rule.months
            form[f"{kind.value}-reminder_days"].data = ", ".join(str(day) for day in rule.reminder_days)
            if kind is CheckKind.DBS:
                form[f"{kind.value}-update_service_months"].data = rule.update_service_months
    status = 200
    if form.validate_on_submit():
        new_rules, problems = {}, {}
        for kind in rules:
            raw_days = form[f"{kind.value}-reminder_days"].data or ""
            try:
                days = normalise_reminder_days(part for part in raw_days.replace(" ", "").split(",") if part)
            except ValueError:
                problems[f"{kind.value}-reminder_days"] = [
                    f"{kind.label}: reminders must be whole numbers separated by commas, like 60, 30, 7"]
                continue
            new_rules[kind] = CheckRule(
                kind, required=form[f"{kind.value}-required"].data, months=form[f"{kind.value}-months"].data,
                reminder_days=days,
                update_service_months=form[f"{kind.value}-update_service_months"].data
                if kind is CheckKind.DBS else None,
            )
        try:
            if problems:
                raise CheckInvalid(problems)
            services.set_rules(db.session, new_rules, actor=current_user, now=clock.now())
        except CheckInvalid as problem:
            _show_problems(form, problem, fallback="submit")
            status = 409
        else:
            db.session.commit()
            flash("Vetting rules saved", "success")
            return redirect(url_for("volunteers.vetting_rules"))
    elif form.errors:
        status = 400
    return render_template("volunteers/vetting/rules.html", form=form, kinds=CHECK_KIND_ORDER, levels=LEVELS,
                           title="Vetting rules"), status


# ---------------------------------------------------------------------------------------------
# The volunteer's own pages


def _own_volunteer() -> Volunteer:
    volunteer = profile_queries.find_volunteer_for_user(db.session, current_user.id)
    require(volunteer is not None)
    return volunteer


@bp.route("/my-vetting")
@login_required
def vetting_mine():
    volunteer = _own_volunteer()
    today = clock.today()
    checks = queries.list_checks(db.session, volunteer.id)
    rules = queries.get_rules(db.session)
    return render_template(
        "volunteers/vetting/mine.html", volunteer=volunteer, clearance=queries.clearance_of(checks, rules, today),
        summaries=queries.summarise_checks(checks, rules, today), today=today, title="Your vetting",
    )


@bp.route("/my-vetting/change-of-circumstances", methods=["GET", "POST"])
@login_required
def vetting_report_change():
    volunteer = _own_volunteer()
    require(permissions.can_report_circumstances(current_user, volunteer))
    form = forms.CircumstancesForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.report_circumstances(db.session, volunteer.id, form.kind.data, form.details.data,
                                          changed_on=form.changed_on.data, actor=current_user, now=clock.now())
        except CheckInvalid as problem:
            _show_problems(form, problem, fallback="details")
            status = 409
        else:
            db.session.commit()
            flash("Thank you. We have told the coordinators, and one of them will contact you.", "success")
            return redirect(url_for("volunteers.vetting_mine"))
    elif form.errors:
        status = 400
    return render_template("volunteers/vetting/change.html", form=form, title="Report a change of circumstances"), \
        status

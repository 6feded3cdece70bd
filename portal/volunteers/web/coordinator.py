"""Volunteer pages for coordinators: the application queue, one application in full, shortlisting
and rejecting. Each route: load → authorise → validate → call one service → commit and respond.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from portal.core import audit, clock
from portal.core.accounts import Role
from portal.core.errors import RuleViolation
from portal.extensions import db
from portal.volunteers import permissions, queries, services
from portal.volunteers.models import DAY_PERIODS, WEEKDAYS, Application, ApplicationStatus
from portal.volunteers.web import coordinator_forms as forms
from portal.volunteers.web.blueprint import COORDINATOR_PANELS, bp, render_panels
from portal.web.decorators import require, role_required
from portal.web.forms import add_service_problem
from portal.web.pagination import page_arg, pagination

coordinator_only = role_required(Role.COORDINATOR)
PAGE_SIZE = 25


# ---------------------------------------------------------------------------------------------
# Helpers


def _load(application_id: int) -> Application:
    """A submitted (non-draft) application, or 404: drafts are the applicant's own business."""
    application = queries.get_application(db.session, application_id)  # NotFound -> 404 page
    require(permissions.can_review_applications(current_user) and not application.is_draft)
    return application


def _show_problems(form, problem: RuleViolation, field_name: str) -> None:
    """Put a service's reasons on a form field, so the page's error summary shows them."""
    db.session.rollback()
    name = getattr(problem, "field", None) or field_name
    add_service_problem(form, form._fields.get(name) or form._fields[field_name], problem)


def _done(application: Application, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("volunteers.application_detail", application_id=application.id))


# ---------------------------------------------------------------------------------------------
# The queue


@bp.route("/applications")
@coordinator_only
def queue():
    form = forms.ApplicationFilterForm(request.args)
    form.district.choices = [SelectChoice("", "Any district")] + [
        SelectChoice(name, name) for name in services.configured_districts(db.session)
    ]
    filters = queries.ApplicationFilter()
    sort, descending = forms.SORTS["submitted-desc"]
    if request.args and form.validate():
        filters = queries.ApplicationFilter(
            statuses=(ApplicationStatus(form.status.data),) if form.status.data else (),
            district=form.district.data or None,
            submitted_from=form.submitted_from.data,
            submitted_to=form.submitted_to.data,
            weekday=form.weekday.data or None,
            period=form.period.data or None,
        )
        sort, descending = forms.SORTS.get(form.sort.data or "", (sort, descending))
    result = queries.list_applications(
        db.session, filters, sort=sort, descending=descending,
        page=page_arg(), per_page=PAGE_SIZE,
    )
    duplicates = queries.list_duplicate_flags(db.session, result.applications)
    query = {key: value for key, value in request.args.items(multi=False) if key not in ("page", "submit")}
    for name in ("submitted_from", "submitted_to"):  # date boxes share one name: keep all three parts
        if name in request.args:
            query[name] = request.args.getlist(name)
    return render_template(
        "volunteers/coordinator/queue.html", filter_form=form, result=result, duplicates=duplicates,
        query=query, pagination=pagination(result.window, "volunteers.queue", query, label="Pages of applications"),
        title="Volunteer applications",
    )


# ---------------------------------------------------------------------------------------------
# One application


def _application_page(application: Application, *, shortlist_form=None, note_form=None, status: int = 200):
    show_convictions = permissions.can_view_convictions(current_user, application)
    duplicates = queries.list_possible_duplicates(db.session, application)
    referees = sorted(application.referees, key=lambda referee: referee.position)
    if show_convictions:
        # Restricted data: every view is recorded.
        audit.record(db.session, current_user, "application.convictions_viewed", application,
                     at=clock.now(), reference=application.reference)
    # Rendered before the commit that keeps the audit entry: a commit expires everything the page shows,
    # and each duplicate, booking and slot would then be loaded again one by one.
    page = render_template(
        "volunteers/coordinator/application.html", application=application, duplicates=duplicates,
        referees=referees, show_convictions=show_convictions, weekdays=WEEKDAYS, periods=DAY_PERIODS,
        form=shortlist_form or note_form, shortlist_form=shortlist_form or forms.ShortlistForm(),
        note_form=note_form or forms.NoteForm(formdata=None), note_max=services.NOTE_MAX,
        notes=queries.list_application_notes(db.session, application.id),
        erasure_date=services.erasure_date(db.session, application),
        can_shortlist=application.status == ApplicationStatus.SUBMITTED,
        can_reject=application.status in services.APPLICATION_TRANSITIONS
        and ApplicationStatus.REJECTED in services.APPLICATION_TRANSITIONS[application.status],
        panels=render_panels(COORDINATOR_PANELS, application),
        title=f"Application {application.reference}",
    )
    if show_convictions:
        db.session.commit()
    return page, status


@bp.route("/applications/<int:application_id>")
@coordinator_only
def application_detail(application_id: int):
    return _application_page(_load(application_id))


@bp.route("/applications/<int:application_id>/shortlist", methods=["POST"])
@coordinator_only
def shortlist(application_id: int):
    application = _load(application_id)
    form = forms.ShortlistForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.shortlist_application(db.session, application.id, actor=current_user, now=clock.now())
    except RuleViolation as problem:
        _show_problems(form, problem, "submit")
        return _application_page(_load(application_id), shortlist_form=form, status=409)
    return _done(application, f"{application.display_name} has been shortlisted for interview")


@bp.route("/applications/<int:application_id>/notes", methods=["POST"])
@coordinator_only
def add_note(application_id: int):
    application = _load(application_id)
    form = forms.NoteForm()
    if form.validate_on_submit():
        try:
            services.add_application_note(db.session, application.id, form.text.data, actor=current_user,
                                          now=clock.now())
        except RuleViolation as problem:
            _show_problems(form, problem, "text")
        else:
            db.session.commit()
            flash("Note saved", "success")
            return redirect(url_for("volunteers.application_detail", application_id=application.id,
                                    _anchor="notes"))
    return _application_page(_load(application_id), note_form=form, status=400)


@bp.route("/applications/<int:application_id>/reject", methods=["GET", "POST"])
@coordinator_only
def reject(application_id: int):
    application = _load(application_id)
    form = forms.RejectForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.reject_application(
                db.session, application.id, form.reason.data, actor=current_user, now=clock.now()
            )
        except RuleViolation as problem:
            _show_problems(form, problem, "reason")
            application = _load(application_id)
            status = 409
        else:
            return _done(application, f"Application {application.reference} has been rejected. "
                                      "We have e-mailed the applicant.")
    return render_template(
        "volunteers/coordinator/reject.html", form=form, application=application,
        reason_max=services.REASON_MAX, title=f"Reject application {application.reference}",
    ), status

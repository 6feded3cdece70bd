"""Reference pages: the coordinator requests, reads, records and decides on references; the referee
answers through a single-use link without signing in; the applicant's progress page shows only whether
each reference was asked for and has arrived. Each route: load → authorise → validate → call one
service → commit and respond.
"""

from __future__ import annotations

from flask import abort, after_this_request, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.core import clock
from portal.core.accounts import Role
from portal.core.clock import to_london
from portal.core.errors import DomainError, RuleViolation
from portal.extensions import db
from portal.volunteers import queries as application_queries
from portal.volunteers.models import Application, ApplicationStatus
from portal.volunteers.references import permissions, queries, services
from portal.volunteers.references.errors import LinkState, ReferenceInvalid, ReferenceLinkUnusable
from portal.volunteers.references.models import Reference
from portal.volunteers.web import reference_forms as forms
from portal.volunteers.web.blueprint import applicant_panel, bp, coordinator_panel
from portal.web.decorators import require, role_required
from portal.web.forms import add_service_problem
from portal.web.links import external_url

coordinator_only = role_required(Role.COORDINATOR)
TEXT_MAX = services.TEXT_MAX
# Before the shortlist there is nothing to do with references; the panel stays hidden.
_HIDDEN_STATUSES = frozenset({ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED})


# ---------------------------------------------------------------------------------------------
# Helpers


def _load(application_id: int) -> Application:
    application = application_queries.get_application(db.session, application_id)  # NotFound -> 404
    require(permissions.can_manage_references(current_user) and not application.is_draft)
    return application


def _link_prefix() -> str:
    """The public address of the reference form without its token, for e-mails sent now and by the
    chase job later (which runs outside any request and cannot build URLs itself)."""
    return external_url("volunteers.reference_form", token="-")[:-1]


def _put_errors(form, problem: DomainError, default: str) -> None:
    """Show a service's messages on their fields, so the page's error summary links to each."""
    db.session.rollback()
    if not isinstance(problem, ReferenceInvalid):
        add_service_problem(form, form._fields[default], problem)
        return
    for name, messages in problem.errors.items():
        field = form._fields.get(name) or form._fields[default]
        field.errors = [*field.errors, *messages]
    form._errors = None  # WTForms caches form.errors


def _done(application: Application, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("volunteers.application_detail", application_id=application.id))


def _referee(application: Application, position: int):
    referee = next((referee for referee in application.referees if referee.position == position), None)
    require(referee is not None)
    return referee


def progress_label(reference: Reference | None) -> str:
    """Where a reference is, in words the applicant may see (never what the referee wrote)."""
    if reference is None:
        return "Not asked yet"
    if reference.is_received:
        return "Received"
    return f"Asked on {to_london(reference.requested_at):%-d %B %Y}" if reference.requested_at else "Asked"


def _status_label(reference: Reference | None) -> str:
    """Where a reference is, for the coordinator."""
    if reference is None:
        return "Not requested"
    if not reference.is_received:
        chased = f", reminded {reference.chase_count} time{'s' if reference.chase_count != 1 else ''}" \
            if reference.chase_count else ""
        missing = ", still missing" if reference.missing_reported_at else ""
        return f"Requested{chased}{missing}"
    if reference.is_satisfactory is None:
        return "Received: decision needed"
    return "Satisfactory" if reference.is_satisfactory else "Not satisfactory"


# ---------------------------------------------------------------------------------------------
# Panels on the application pages


@coordinator_panel(20, "volunteers/references/_coordinator_panel.html")
def coordinator_references_panel(application: Application):
    references = {reference.position: reference for reference in queries.list_references(db.session, application.id)}
    if application.status in _HIDDEN_STATUSES or (
        not references and not permissions.can_request_references(current_user, application)
    ):
        return None
    rows = [
        {"referee": referee, "reference": references.get(referee.position),
         "status": _status_label(references.get(referee.position))}
        for referee in sorted(application.referees, key=lambda referee: referee.position)
    ]
    return {
        "application": application, "rows": rows,
        "can_request": permissions.can_request_references(current_user, application)
        and len(references) < len(rows),
        "can_change": permissions.can_request_references(current_user, application)
        and application.status != ApplicationStatus.OFFERED,
    }


@applicant_panel(20, "volunteers/references/_applicant_panel.html")
def applicant_references_panel(application: Application):
    if not permissions.can_see_reference_progress(current_user, application):
        return None
    references = {reference.position: reference for reference in queries.list_references(db.session, application.id)}
    if not references and application.status != ApplicationStatus.INTERVIEWED:
        return None
    return {
        "rows": [{"name": referee.name, "progress": progress_label(references.get(referee.position))}
                 for referee in sorted(application.referees, key=lambda referee: referee.position)],
    }


# ---------------------------------------------------------------------------------------------
# Coordinator pages


@bp.route("/applications/<int:application_id>/references/request", methods=["GET", "POST"])
@coordinator_only
def reference_request(application_id: int):
    application = _load(application_id)
    form = forms.RequestReferencesForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.request_references(db.session, application.id, link_prefix=_link_prefix(),
                                        actor=current_user, now=clock.now())
        except RuleViolation as problem:
            _put_errors(form, problem, "submit")
            application = _load(application_id)
            status = 409
        else:
            return _done(application, "We have e-mailed both referees a link to give their reference")
    return render_template(
        "volunteers/references/request.html", form=form, application=application,
        referees=sorted(application.referees, key=lambda referee: referee.position),
        title=f"Ask for references for {application.full_name}",
    ), status


@bp.route("/applications/<int:application_id>/references/<int:reference_id>", methods=["GET", "POST"])
@coordinator_only
def reference_detail(application_id: int, reference_id: int):
    application = _load(application_id)
    reference = queries.get_reference(db.session, application.id, reference_id)  # another application's: 404
    data = None
    if reference.is_decided:
        data = {"is_satisfactory": "yes" if reference.is_satisfactory else "no", "note": reference.decision_note}
    form = forms.DecisionForm(data=data) if data else forms.DecisionForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.decide_reference(db.session, application.id, reference.id,
                                      is_satisfactory=form.is_satisfactory.data, note=form.note.data,
                                      actor=current_user, now=clock.now())
        except RuleViolation as problem:
            _put_errors(form, problem, "is_satisfactory")
            application = _load(application_id)
            reference = queries.get_reference(db.session, application.id, reference_id)
            status = 400 if isinstance(problem, ReferenceInvalid) else 409
        else:
            return _done(application, f"Decision on the reference from {reference.referee.name} saved")
    return render_template(
        "volunteers/references/detail.html", form=form, application=application, reference=reference,
        status_label=_status_label(reference), text_max=TEXT_MAX,
        can_decide=reference.is_received and application.status not in (
            ApplicationStatus.OFFERED, ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN),
        title=f"Reference from {reference.referee.name}",
    ), status


@bp.route("/applications/<int:application_id>/references/<int:reference_id>/resend", methods=["GET", "POST"])
@coordinator_only
def reference_resend(application_id: int, reference_id: int):
    application = _load(application_id)
    reference = queries.get_reference(db.session, application.id, reference_id)
    form = forms.ResendForm() if request.method == "POST" else forms.ResendForm(data={"email": reference.email})
    status = 200
    if form.validate_on_submit():
        try:
            services.resend_reference_request(db.session, application.id, reference.id, form.email.data,
                                              link_prefix=_link_prefix(), actor=current_user, now=clock.now())
        except RuleViolation as problem:
            _put_errors(form, problem, "email")
            application = _load(application_id)
            reference = queries.get_reference(db.session, application.id, reference_id)
            status = 400 if isinstance(problem, ReferenceInvalid) else 409
        else:
            return _done(application, f"We have sent the request to {reference.referee.name} again, "
                                      f"to {reference.email}")
    return render_template(
        "volunteers/references/resend.html", form=form, application=application, reference=reference,
        title=f"Send the request to {reference.referee.name} again",
    ), status


@bp.route("/applications/<int:application_id>/referees/<int:position>/record", methods=["GET", "POST"])
@coordinator_only
def reference_record(application_id: int, position: int):
    application = _load(application_id)
    referee = _referee(application, position)
    form = forms.RecordReferenceForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.record_reference(
                db.session, application.id, position, received_by=form.received_by.data or "",
                summary=form.summary.data, is_satisfactory=form.is_satisfactory.data, note=form.note.data,
                actor=current_user, now=clock.now(),
            )
        except RuleViolation as problem:
            _put_errors(form, problem, "received_by")
            application = _load(application_id)
            referee = _referee(application, position)
            status = 400 if isinstance(problem, ReferenceInvalid) else 409
        else:
            return _done(application, f"Reference from {referee.name} recorded")
    return render_template(
        "volunteers/references/record.html", form=form, application=application, referee=referee,
        text_max=TEXT_MAX, title=f"Record the reference from {referee.name}",
    ), status


# ---------------------------------------------------------------------------------------------
# The referee's pages (no sign-in: the token is the key)


def _unusable(state: LinkState):
    db.session.rollback()
    if state is LinkState.UNKNOWN:
        abort(404)
    template = "volunteers/references/used.html" if state is LinkState.USED else "volunteers/references/expired.html"
    title = "You have already sent this reference" if state is LinkState.USED else "This link has expired"
    return render_template(template, title=title), 410


def _no_store(response):
    # The link is the referee's key and the page names the applicant: keep it out of shared caches.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/reference/<token>", methods=["GET", "POST"])
def reference_form(token: str):
    after_this_request(_no_store)
    found = queries.find_link(db.session, token, now=clock.now())
    if found.state is not LinkState.VALID:
        return _unusable(found.state)
    reference = found.reference
    form = forms.ReferenceForm() if request.method == "POST" else forms.ReferenceForm(
        data={"referee_name": reference.referee.name})
    status = 200
    if form.is_submitted():
        if form.validate():
            answers = {name: field.data for name, field in form._fields.items()
                       if field.type not in ("CSRFTokenField", "SubmitField")}
            try:
                services.submit_reference(db.session, token, answers, now=clock.now())
            except ReferenceLinkUnusable as unusable:
                return _unusable(unusable.state)
            except ReferenceInvalid as problem:
                _put_errors(form, problem, "referee_name")
                found = queries.find_link(db.session, token, now=clock.now())
                reference = found.reference
            else:
                db.session.commit()
                return redirect(url_for("volunteers.reference_thanks"))
        status = 400
    return render_template(
        "volunteers/references/form.html", form=form, applicant_name=reference.application.full_name,
        referee_name=reference.referee.name, text_max=TEXT_MAX,
        title=f"Reference for {reference.application.full_name}",
    ), status


@bp.route("/reference-sent")
def reference_thanks():
    return render_template("volunteers/references/thanks.html", title="Thank you for your reference")

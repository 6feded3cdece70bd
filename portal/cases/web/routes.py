"""Coordinator case pages: the case list, referral intake, the case page, every record form and
the status moves. Each route: load → authorise → validate → call one service → commit and respond.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from portal.cases import permissions, queries, services
from portal.cases.errors import AllocationBlocked
from portal.cases.models import (
    ActionStatus,
    AgreementAction,
    Allocation,
    AllocationRole,
    Case,
    CaseStatus,
    ClosureReason,
    Consent,
    ConsentMethod,
    ConsentPurpose,
    ContactMethod,
    ContactOutcome,
    InterventionType,
    JusticeStage,
    NoteVisibility,
    OffenceCategory,
    OutcomeAgreement,
    Party,
    PartyRole,
    ReferralSource,
    RiskAssessment,
    RiskRating,
    RiskStage,
    SensitiveKind,
    SessionType,
)
from portal.cases.web import forms
from portal.cases.web.blueprint import bp
from portal.core import clock
from portal.core.accounts import Role, User, UserRole
from portal.core.errors import RuleViolation, ValidationFailed
from portal.core.search import clean_term, contains
from portal.extensions import db
from portal.web.decorators import require, role_required
from portal.web.forms import add_service_problem
from portal.web.input import int_arg

coordinator_only = role_required(Role.COORDINATOR)
PAGE_SIZE = 25
TIMELINE_PAGE_SIZE = 25


# ---------------------------------------------------------------------------------------------
# Helpers


def _load_case(case_id: int) -> Case:
    case = queries.get_case(db.session, case_id)  # NotFound -> 404 page
    require(permissions.can_manage_cases(current_user))
    return case


def _owned(model, object_id: int, case: Case, case_id_of=lambda found: found.case_id):
    """An object that belongs to `case`, or 404 (a changed id in a URL reveals nothing)."""
    found = db.session.get(model, object_id)
    if found is None or case_id_of(found) != case.id:
        abort(404)
    return found


def _show_problems(form, problem: RuleViolation, field_name: str | None = None) -> None:
    """Put a service's reasons on the form: on the named field, else on the first field shown."""
    db.session.rollback()
    name = field_name or getattr(problem, "field", None)
    field = form._fields.get(name) if name else None
    if field is None:
        field = next(item for item in form if item.type not in ("CSRFTokenField", "SubmitField"))
    add_service_problem(form, field, problem)


def _refused_button(form, target_id: str, problem: RuleViolation):
    """A button-only form carrying a service's refusal, for the error summary to link to the
    record with this id on the page (its button may be gone: the usual refusal is a second click
    from a page that was out of date)."""
    db.session.rollback()
    form.submit.id = target_id
    add_service_problem(form, form.submit, problem)
    return form


def _done(case: Case, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("cases.detail", case_id=case.id))


def _party_choices(case: Case, *, principal_only: bool = False) -> list[tuple[int, str]]:
    return forms.to_choices(
        (party.id, f"{party.name} ({party.role.label})")
        for party in case.parties
        if party.is_principal or not principal_only
    )


def _record_page(form, case: Case, title: str, *, intro: str | None = None, status: int = 200,
                 extra: str | None = None, template: str = "cases/record_form.html", **context):
    return render_template(
        template, form=form, case=case, title=title, intro=intro, extra=extra,
        **context,
    ), status


def _now() -> dt.datetime:
    return clock.now()


# ---------------------------------------------------------------------------------------------
# The case list


@bp.route("/")
@coordinator_only
def index():
    form = forms.CaseFilterForm(request.args)
    form.status.choices = forms.choices(CaseStatus, blank="Any status")
    form.district.choices = forms.to_choices(
        [("", "Any district")] + [(name, name) for name in queries.list_districts(db.session)]
    )
    form.referrer.choices = forms.to_choices(
        [("", "Any referrer")] + [(name, name) for name in queries.list_referrers(db.session)]
    )
    filters = queries.CaseFilter()
    if request.args and form.validate():
        filters = queries.CaseFilter(
            status=CaseStatus(form.status.data) if form.status.data else None,
            district=form.district.data or None,
            referrer=form.referrer.data or None,
            overdue=bool(form.overdue.data),
            sensitive=forms.yes_no(form.sensitive.data),
            search=clean_term(form.search.data),
        )
    today = clock.today()
    result = queries.list_cases(
        db.session, filters, today=today, page=int_arg("page", 1, minimum=1), per_page=PAGE_SIZE
    )
    query = {key: value for key, value in request.args.items(multi=False) if key not in ("page", "submit")}
    return render_template(
        "cases/index.html", filter_form=form, result=result, query=query, today=today, title="Cases"
    )


# ---------------------------------------------------------------------------------------------
# Referral intake


def _referral_details(form) -> services.ReferralDetails:
    return services.ReferralDetails(
        source=ReferralSource(form.source.data),
        referrer_organisation=form.referrer_organisation.data,
        referrer_name=form.referrer_name.data,
        referrer_email=form.referrer_email.data,
        referrer_phone=form.referrer_phone.data,
        crime_reference=form.crime_reference.data,
        received_on=form.received_on.data,
        incident_on=form.incident_on.data,
        offence_category=OffenceCategory(form.offence_category.data),
        justice_stage=JusticeStage(form.justice_stage.data),
        district=form.district.data,
        summary=form.summary.data,
        victim_has_enhanced_rights=forms.yes_no(form.victim_has_enhanced_rights.data) or False,
        sensitive_kinds=frozenset(SensitiveKind(kind) for kind in form.sensitive_kinds.data or ()),
    )


def _new_parties(form) -> list[services.PartyDetails]:
    parties = []
    for prefix, role in (("harmed", PartyRole.HARMED_PERSON), ("responsible", PartyRole.PERSON_RESPONSIBLE)):
        name = (form[f"{prefix}_name"].data or "").strip()
        if name:
            parties.append(
                services.PartyDetails(
                    role=role, name=name, phone=form[f"{prefix}_phone"].data,
                    email=form[f"{prefix}_email"].data, address=form[f"{prefix}_address"].data,
                    safe_contact_notes=form[f"{prefix}_safe_contact_notes"].data,
                    is_under_18=bool(form[f"{prefix}_under_18"].data),
                )
            )
    return parties


def _referral_problem_field(reason: str) -> str:
    """The referral field a service reason is about, so the summary links to it."""
    lowered = reason.lower()
    for words, name in (
        ("received", "received_on"), ("incident", "incident_on"), ("district", "district"),
        ("summary", "summary"), ("referring organisation", "referrer_organisation"),
        ("sensitive", "sensitive_kinds"), ("harmed person or person responsible", "harmed_name"),
        ("party's name", "harmed_name"),
    ):
        if words in lowered:
            return name
    return "summary"


def _referral_errors(form, problem: RuleViolation) -> None:
    db.session.rollback()
    for reason in problem.reasons or [str(problem)]:
        field = form._fields.get(_referral_problem_field(reason)) or form.summary
        field.errors = [*field.errors, reason]
    form._errors = None


@bp.route("/new", methods=["GET", "POST"])
@coordinator_only
def new():
    form = forms.NewReferralForm()
    if form.validate_on_submit():
        try:
            case = services.record_referral(
                db.session, _referral_details(form), _new_parties(form), actor=current_user, now=_now()
            )
        except RuleViolation as problem:
            _referral_errors(form, problem)
        else:
            return _done(case, f"Referral recorded: {case.reference}")
    return render_template("cases/referral.html", form=form, case=None, title="Record a referral")


@bp.route("/<int:case_id>/referral", methods=["GET", "POST"])
@coordinator_only
def edit_referral(case_id: int):
    case = _load_case(case_id)
    form = forms.EditReferralForm(
        data={
            "source": case.source.value, "referrer_organisation": case.referrer_organisation,
            "referrer_name": case.referrer_name, "referrer_email": case.referrer_email,
            "referrer_phone": case.referrer_phone, "crime_reference": case.crime_reference,
            "received_on": case.received_on, "incident_on": case.incident_on,
            "offence_category": case.offence_category.value, "justice_stage": case.justice_stage.value,
            "district": case.district, "summary": case.summary,
            "victim_has_enhanced_rights": "yes" if case.victim_has_enhanced_rights else "no",
            "sensitive_kinds": [kind.value for kind in case.sensitive_kinds],
        }
    )
    if form.validate_on_submit():
        try:
            services.update_referral(db.session, case.id, _referral_details(form), actor=current_user, now=_now())
        except RuleViolation as problem:
            _referral_errors(form, problem)
        else:
            return _done(case, "Referral details saved")
    return render_template("cases/referral.html", form=form, case=case, title=f"Edit referral {case.reference}")


# ---------------------------------------------------------------------------------------------
# The case page


def _move_targets(case: Case) -> list[CaseStatus]:
    allowed = services.CASE_TRANSITIONS[case.status]
    if case.status is CaseStatus.ON_HOLD:
        allowed = {case.status_before_hold, CaseStatus.CLOSED}
    return [status for status in CaseStatus if status in allowed]


def _closure_reasons(case: Case) -> list[ClosureReason]:
    from_status = case.status_before_hold if case.status is CaseStatus.ON_HOLD else case.status
    allowed = services.CLOSURE_REASONS.get(from_status, frozenset())
    return [reason for reason in ClosureReason if reason in allowed]


def _move_form(case: Case, *, submitted: bool = False) -> forms.MoveForm:
    form = forms.MoveForm() if submitted else forms.MoveForm(formdata=None)
    form.target.choices = forms.to_choices(
        (status.value, status.label[:1].upper() + status.label[1:]) for status in _move_targets(case)
    )
    form.closure_reason.choices = forms.to_choices([("", "Not closing")] + [
        (reason.value, reason.label[:1].upper() + reason.label[1:]) for reason in _closure_reasons(case)
    ])
    return form


def _case_records(case: Case) -> dict:
    """The records the coordinator's case page lists with actions (a fixed number of statements)."""
    session = db.session
    consents = list(session.scalars(
        select(Consent).where(Consent.case_id == case.id).order_by(Consent.given_on, Consent.id)
    ))
    assessments = list(session.scalars(
        select(RiskAssessment).where(RiskAssessment.case_id == case.id)
        .order_by(RiskAssessment.assessed_on, RiskAssessment.id)
    ))
    allocations = list(session.scalars(
        select(Allocation).where(Allocation.case_id == case.id)
        .options(selectinload(Allocation.user), selectinload(Allocation.party_links))
        .order_by(Allocation.id)
    ))
    agreement = session.scalar(
        select(OutcomeAgreement).where(OutcomeAgreement.case_id == case.id)
        .options(selectinload(OutcomeAgreement.actions))
    )
    names = {party.id: party.name for party in case.parties}
    return {
        "consents": consents, "assessments": assessments, "allocations": allocations,
        "agreement": agreement, "party_names": names,
    }


def _render_detail(case: Case, move_form: forms.MoveForm, *, status: int = 200, refused=None):
    """The case page. `refused` is a button form (approve, mark reviewed) whose service refusal
    the error summary shows, linked to the record it was about."""
    services.record_case_viewed(db.session, case, current_user, restricted=True, now=_now())
    db.session.commit()
    today = clock.today()
    timeline, timeline_page, timeline_pages = queries.list_case_timeline_page(
        db.session, case.id, viewer=current_user, page=int_arg("timeline_page", 1, minimum=1),
        per_page=TIMELINE_PAGE_SIZE,
    )
    return render_template(
        "cases/detail.html", case=case, move_form=move_form, timeline=timeline, today=today,
        timeline_page=timeline_page, timeline_pages=timeline_pages,
        confirm=forms.ConfirmForm(), title=f"Case {case.reference}",
        # The error summary (base.html) shows the move form's errors when a move was refused.
        form=refused or (move_form if move_form.errors else None),
        refused_id=refused.submit.id if refused else None,
        refused_message=refused.submit.errors[0] if refused else None,
        **_case_records(case),
    ), status


@bp.route("/<int:case_id>")
@coordinator_only
def detail(case_id: int):
    case = _load_case(case_id)
    return _render_detail(case, _move_form(case))


@bp.route("/<int:case_id>/views")
@coordinator_only
def views(case_id: int):
    case = _load_case(case_id)
    require(permissions.can_see_case_viewers(current_user))
    result = queries.list_case_views(db.session, case.id, page=int_arg("page", 1, minimum=1), per_page=50)
    return render_template("cases/views.html", case=case, result=result, title=f"Who viewed {case.reference}")


# ---------------------------------------------------------------------------------------------
# Status moves


@bp.route("/<int:case_id>/move", methods=["POST"])
@coordinator_only
def move(case_id: int):
    case = _load_case(case_id)
    form = _move_form(case, submitted=True)
    if form.validate_on_submit():
        target = CaseStatus(form.target.data)
        try:
            services.move_case(
                db.session, case.id, target, actor=current_user, now=_now(),
                reason=form.reason.data or None,
                closure_reason=ClosureReason(form.closure_reason.data) if form.closure_reason.data else None,
                review_on=form.review_on.data,
            )
        except RuleViolation as problem:
            _show_problems(form, problem, "target")
        else:
            return _done(case, f"{case.reference} is now {target.phrase}")
    case = _load_case(case_id)
    return _render_detail(case, form, status=409 if form.errors else 200)


@bp.route("/<int:case_id>/close", methods=["GET", "POST"])
@coordinator_only
def close(case_id: int):
    case = _load_case(case_id)
    form = forms.CloseForm()
    form.closure_reason.choices = forms.to_choices(
        (reason.value, reason.label[:1].upper() + reason.label[1:]) for reason in _closure_reasons(case)
    )
    if form.validate_on_submit():
        try:
            services.close_case(
                db.session, case.id, ClosureReason(form.closure_reason.data), actor=current_user,
                now=_now(), notes=form.notes.data,
            )
        except RuleViolation as problem:
            _show_problems(form, problem, "closure_reason")
        else:
            return _done(case, f"{case.reference} is closed")
    intro = None if form.closure_reason.choices else (
        f"A case that is {case.status.phrase} cannot be closed; move it to triage first."
    )
    return _record_page(form, case, f"Close case {case.reference}", intro=intro)


# ---------------------------------------------------------------------------------------------
# Parties


def _party_details(form) -> services.PartyDetails:
    return services.PartyDetails(
        role=PartyRole(form.role.data), name=form.name.data, email=form.email.data, phone=form.phone.data,
        address=form.address.data, safe_contact_notes=form.safe_contact_notes.data,
        interpreter_language=form.interpreter_language.data, access_needs=form.access_needs.data,
        is_under_18=bool(form.is_under_18.data), supports_party_id=form.supports_party_id.data,
    )


def _party_form(case: Case, **kwargs) -> forms.PartyForm:
    form = forms.PartyForm(**kwargs)
    form.supports_party_id.choices = forms.to_choices([("", "Nobody")]) + _party_choices(case, principal_only=True)
    return form


@bp.route("/<int:case_id>/parties/new", methods=["GET", "POST"])
@coordinator_only
def add_party(case_id: int):
    case = _load_case(case_id)
    form = _party_form(case)
    if form.validate_on_submit():
        try:
            party = services.add_party(db.session, case.id, _party_details(form), actor=current_user, now=_now())
        except RuleViolation as problem:
            _show_problems(form, problem, "name")
        else:
            return _done(case, f"{party.name} added to the case")
    return _record_page(form, case, "Add a person to the case")


@bp.route("/<int:case_id>/parties/<int:party_id>", methods=["GET", "POST"])
@coordinator_only
def edit_party(case_id: int, party_id: int):
    case = _load_case(case_id)
    party = _owned(Party, party_id, case)
    form = _party_form(case, obj=party, data={"role": party.role.value} if request.method == "GET" else None)
    form.supports_party_id.choices = [
        choice for choice in form.supports_party_id.choices if choice.value != party.id
    ]
    if form.validate_on_submit():
        try:
            services.update_party(db.session, party.id, _party_details(form), actor=current_user, now=_now())
        except RuleViolation as problem:
            _show_problems(form, problem, "name")
        else:
            return _done(case, f"{form.name.data.strip()}'s details saved")
    return _record_page(form, case, f"Change {party.name}'s details")


@bp.route("/<int:case_id>/parties/<int:party_id>/home-visit", methods=["GET", "POST"])
@coordinator_only
def home_visit(case_id: int, party_id: int):
    case = _load_case(case_id)
    party = _owned(Party, party_id, case)
    form = forms.HomeVisitForm(data={"approved": "yes" if party.home_visit_approved else "no"})
    if form.validate_on_submit():
        approved = forms.yes_no(form.approved.data) is True
        try:
            services.set_home_visit_approval(db.session, party.id, approved, actor=current_user, now=_now())
        except RuleViolation as problem:
            _show_problems(form, problem, "approved")
        else:
            return _done(case, f"Home visit to {party.name} {'approved' if approved else 'not approved'}")
    return _record_page(form, case, f"Home visit to {party.name}")


# ---------------------------------------------------------------------------------------------
# Records on the case


@bp.route("/<int:case_id>/contact-attempts/new", methods=["GET", "POST"])
@coordinator_only
def contact_attempt(case_id: int):
    case = _load_case(case_id)
    form = forms.ContactAttemptForm()
    form.party_id.choices = _party_choices(case)
    if form.validate_on_submit():
        hours, minutes = form.time_parts()
        attempted_at = clock.london_to_utc(form.attempted_on.data, dt.time(hours, minutes))
        try:
            services.record_contact_attempt(
                db.session, case.id, form.party_id.data, attempted_at=attempted_at,
                method=ContactMethod(form.method.data), outcome=ContactOutcome(form.outcome.data),
                notes=form.notes.data, actor=current_user, now=_now(),
            )
        except RuleViolation as problem:
            _show_problems(form, problem, "attempted_on")
        else:
            return _done(case, "Contact attempt saved")
    return _record_page(form, case, "Log a contact attempt")


@bp.route("/<int:case_id>/consents/new", methods=["GET", "POST"])
@coordinator_only
def consent(case_id: int):
    case = _load_case(case_id)
    form = forms.ConsentForm()
    form.party_id.choices = _party_choices(case)
    if form.validate_on_submit():
        party = _owned(Party, form.party_id.data, case)
        try:
            services.record_consent(
                db.session, party.id, purpose=ConsentPurpose(form.purpose.data),
                given_on=form.given_on.data, method=ConsentMethod(form.method.data),
                intervention_type=(
                    InterventionType(form.intervention_type.data) if form.intervention_type.data else None
                ),
                actor=current_user, now=_now(),
            )
        except ValidationFailed as problem:
            _show_problems(form, problem, "given_on")
        except RuleViolation as problem:
            _show_problems(form, problem, "party_id")
        else:
            return _done(case, f"Consent from {party.name} saved")
    return _record_page(form, case, "Record consent")


@bp.route("/<int:case_id>/consents/<int:consent_id>/withdraw", methods=["GET", "POST"])
@coordinator_only
def withdraw_consent(case_id: int, consent_id: int):
    case = _load_case(case_id)
    consent_ = _owned(Consent, consent_id, case)
    form = forms.WithdrawConsentForm()
    if form.validate_on_submit():
        try:
            services.withdraw_consent(
                db.session, consent_.id, withdrawn_on=form.withdrawn_on.data, reason=form.reason.data,
                actor=current_user, now=_now(),
            )
        except RuleViolation as problem:
            _show_problems(form, problem, "withdrawn_on")
        else:
            return _done(case, "Withdrawal of consent saved")
    intro = f"{consent_.party.name}: {consent_.purpose.label}, given on {consent_.given_on:%-d %B %Y}."
    return _record_page(form, case, "Record that consent was withdrawn", intro=intro)


@bp.route("/<int:case_id>/risk-assessments/new", methods=["GET", "POST"])
@coordinator_only
def risk_assessment(case_id: int):
    case = _load_case(case_id)
    form = forms.RiskAssessmentForm()
    if form.validate_on_submit():
        try:
            services.record_risk_assessment(
                db.session, case.id, stage=RiskStage(form.stage.data), factors=form.factors.data,
                rating=RiskRating(form.rating.data), proceed=forms.yes_no(form.proceed.data) is True,
                assessed_on=form.assessed_on.data, mitigations=form.mitigations.data,
                police_intelligence=form.police_intelligence.data,
                approved_by=current_user._get_current_object() if form.approve.data else None,
                actor=current_user, now=_now(),
            )
        except RuleViolation as problem:
            _show_problems(form, problem, "assessed_on")
        else:
            return _done(case, "Risk assessment saved")
    return _record_page(form, case, "Record a risk assessment")


@bp.route("/<int:case_id>/risk-assessments/<int:assessment_id>/approve", methods=["POST"])
@coordinator_only
def approve_risk_assessment(case_id: int, assessment_id: int):
    case = _load_case(case_id)
    assessment = _owned(RiskAssessment, assessment_id, case)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        try:
            services.approve_risk_assessment(db.session, assessment.id, actor=current_user, now=_now())
        except RuleViolation as problem:
            refused = _refused_button(form, f"assessment-{assessment_id}", problem)
            return _render_detail(_load_case(case_id), _move_form(case), status=409, refused=refused)
        else:
            return _done(case, "Risk assessment approved")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.route("/<int:case_id>/notes/new", methods=["GET", "POST"])
@coordinator_only
def note(case_id: int):
    case = _load_case(case_id)
    form = forms.NoteForm()
    if form.validate_on_submit():
        try:
            services.add_note(
                db.session, case.id, form.text.data, visibility=NoteVisibility(form.visibility.data),
                actor=current_user, now=_now(),
            )
        except RuleViolation as problem:
            _show_problems(form, problem, "text")
        else:
            return _done(case, "Note saved")
    return _record_page(form, case, "Add a note")


@bp.route("/<int:case_id>/sessions/new", methods=["GET", "POST"])
@coordinator_only
def case_session(case_id: int):
    case = _load_case(case_id)
    form = forms.SessionForm()
    if form.validate_on_submit():
        try:
            services.record_session(
                db.session, case.id, session_type=SessionType(form.session_type.data),
                held_on=form.held_on.data, duration_minutes=form.duration_minutes.data,
                attendees=form.attendees.data, notes=form.notes.data, actor=current_user, now=_now(),
            )
        except ValidationFailed as problem:
            _show_problems(form, problem, "held_on")
        except RuleViolation as problem:
            _show_problems(form, problem, "session_type")
        else:
            return _done(case, "Session saved")
    return _record_page(form, case, "Log a session")


@bp.route("/<int:case_id>/intervention", methods=["GET", "POST"])
@coordinator_only
def intervention_type(case_id: int):
    case = _load_case(case_id)
    form = forms.InterventionTypeForm(
        data={"intervention_type": case.intervention_type.value} if case.intervention_type else None
    )
    if form.validate_on_submit():
        try:
            services.choose_intervention_type(
                db.session, case.id, InterventionType(form.intervention_type.data), actor=current_user, now=_now()
            )
        except RuleViolation as problem:
            _show_problems(form, problem, "intervention_type")
        else:
            return _done(case, "Intervention saved")
    return _record_page(form, case, "Choose the intervention")


@bp.route("/<int:case_id>/agreement", methods=["GET", "POST"])
@coordinator_only
def agreement(case_id: int):
    case = _load_case(case_id)
    existing = case.agreement
    if existing is not None:
        return render_template(
            "cases/agreement.html", case=case, agreement=existing, form=None,
            action_form=forms.ActionForm(formdata=None), status_form=forms.ActionStatusForm(formdata=None),
            title=f"Outcome agreement for {case.reference}",
        )
    form = forms.AgreementForm()
    if form.validate_on_submit():
        actions = []
        if (form.action_description.data or "").strip():
            actions.append(services.ActionDetails(
                description=form.action_description.data, due_on=form.action_due_on.data,
                owner=form.action_owner.data or "",
            ))
        try:
            services.record_agreement(
                db.session, case.id, agreed_on=form.agreed_on.data, actions=actions, notes=form.notes.data,
                actor=current_user, now=_now(),
            )
        except RuleViolation as problem:
            _show_problems(form, problem, "agreed_on")
        else:
            return _done(case, "Outcome agreement saved")
    return _record_page(form, case, "Record the outcome agreement")


@bp.route("/<int:case_id>/agreement/actions", methods=["POST"])
@coordinator_only
def add_action(case_id: int):
    case = _load_case(case_id)
    existing = case.agreement
    if existing is None:
        abort(404)
    form = forms.ActionForm()
    if form.validate_on_submit():
        try:
            services.add_action(
                db.session, existing.id,
                services.ActionDetails(description=form.description.data, due_on=form.due_on.data,
                                       owner=form.owner.data),
                actor=current_user, now=_now(),
            )
        except RuleViolation as problem:
            _show_problems(form, problem, "description")
        else:
            db.session.commit()
            flash("Action added", "success")
            return redirect(url_for("cases.agreement", case_id=case.id))
    return render_template(
        "cases/agreement.html", case=case, agreement=existing, form=form, action_form=form,
        status_form=forms.ActionStatusForm(formdata=None), title=f"Outcome agreement for {case.reference}",
    ), 200


@bp.route("/<int:case_id>/actions/<int:action_id>/status", methods=["POST"])
@coordinator_only
def action_status(case_id: int, action_id: int):
    case = _load_case(case_id)
    action = _owned(AgreementAction, action_id, case, lambda found: found.agreement.case_id)
    form = forms.ActionStatusForm()
    if form.validate_on_submit():
        try:
            services.set_action_status(
                db.session, action.id, ActionStatus(form.status.data), actor=current_user, now=_now()
            )
        except RuleViolation as problem:
            db.session.rollback()
            # The summary links to the action's row, where the refusal is repeated.
            form.status.id = f"action-{action_id}"
            add_service_problem(form, form.status, problem)
            case = _load_case(case_id)
            return render_template(
                "cases/agreement.html", case=case, agreement=case.agreement, form=form,
                action_form=forms.ActionForm(formdata=None), status_form=form,
                refused_id=form.status.id, refused_message=form.status.errors[-1],
                title=f"Outcome agreement for {case.reference}",
            ), 409
        else:
            db.session.commit()
            flash(f"Action marked {ActionStatus(form.status.data).label}", "success")
    return redirect(url_for("cases.agreement", case_id=case.id))


@bp.route("/<int:case_id>/feedback/new", methods=["GET", "POST"])
@coordinator_only
def feedback(case_id: int):
    case = _load_case(case_id)
    form = forms.FeedbackForm()
    form.party_id.choices = _party_choices(case)
    if form.validate_on_submit():
        party = _owned(Party, form.party_id.data, case)
        try:
            services.record_feedback(
                db.session, party.id, satisfaction=form.satisfaction.data, given_on=form.given_on.data,
                felt_safe=forms.yes_no(form.felt_safe.data), felt_prepared=forms.yes_no(form.felt_prepared.data),
                would_recommend=forms.yes_no(form.would_recommend.data), comments=form.comments.data,
                actor=current_user, now=_now(),
            )
        except ValidationFailed as problem:
            _show_problems(form, problem, "given_on")
        except RuleViolation as problem:
            _show_problems(form, problem, "party_id")
        else:
            return _done(case, f"Feedback from {party.name} saved")
    return _record_page(form, case, "Record feedback")


# ---------------------------------------------------------------------------------------------
# Allocation


FACILITATORS_SHOWN = 50


def _facilitators(search: str, chosen: int | None) -> tuple[list[tuple[int, str]], int]:
    """Up to FACILITATORS_SHOWN active volunteers in name order whose name or e-mail holds `search` (all
    when empty), with the one already `chosen` in a POST kept among them, and how many match in all.
    A national service has thousands: the page lists a search's matches, never everyone."""
    volunteer = and_(User.is_deactivated.is_(False),
                     select(UserRole.user_id).where(UserRole.user_id == User.id, UserRole.role == Role.VOLUNTEER)
                     .exists())
    matching = volunteer
    if search:
        matching = and_(volunteer, or_(contains(User.name, search), contains(User.email, search)))
    total = db.session.scalar(select(func.count()).select_from(User).where(matching)) or 0
    shown = or_(User.id.in_(select(User.id).where(matching).order_by(User.name, User.id)
                            .limit(FACILITATORS_SHOWN).scalar_subquery()),
                and_(volunteer, User.id == (chosen or 0)))
    people = db.session.execute(select(User.id, User.name, User.email).where(shown).order_by(User.name, User.id))
    return [(user_id, f"{name} ({email})") for user_id, name, email in people], total


@bp.route("/<int:case_id>/allocate", methods=["GET", "POST"])
@coordinator_only
def allocate(case_id: int):
    case = _load_case(case_id)
    form = forms.AllocateForm()
    search = clean_term(request.args.get("search"))
    chosen = int_arg("volunteer_id") if request.method == "GET" else _posted_id("volunteer_id")
    people, total = _facilitators(search, chosen)
    form.volunteer_id.choices = forms.to_choices([("", "Choose a facilitator"), *people])
    form.party_ids.choices = _party_choices(case)
    if form.validate_on_submit():
        try:
            services.allocate_case(
                db.session, case.id, form.volunteer_id.data, AllocationRole(form.role.data),
                actor=current_user, now=_now(), party_ids=form.party_ids.data or (),
            )
        except AllocationBlocked as blocked:
            _show_problems(form, blocked, "volunteer_id")
        except RuleViolation as problem:
            _show_problems(form, problem, "volunteer_id")
        else:
            return _done(case, "Facilitator allocated")
    return _record_page(form, case, "Allocate a facilitator", template="cases/allocate.html", search=search,
                        shown=len(people), total=total, limit=FACILITATORS_SHOWN)


def _posted_id(name: str) -> int | None:
    text = request.form.get(name, "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


@bp.route("/<int:case_id>/allocations/<int:allocation_id>/end", methods=["GET", "POST"])
@coordinator_only
def end_allocation(case_id: int, allocation_id: int):
    case = _load_case(case_id)
    allocation = _owned(Allocation, allocation_id, case)
    form = forms.EndAllocationForm()
    if form.validate_on_submit():
        try:
            services.end_allocation(db.session, allocation.id, reason=form.reason.data, actor=current_user, now=_now())
        except RuleViolation as problem:
            _show_problems(form, problem, "reason")
        else:
            return _done(case, "Allocation ended")
    intro = f"{allocation.user.name}, {allocation.role.label} since {allocation.starts_on:%-d %B %Y}."
    return _record_page(form, case, "End an allocation", intro=intro)


@bp.route("/<int:case_id>/allocations/<int:allocation_id>/review", methods=["POST"])
@coordinator_only
def clear_allocation_review(case_id: int, allocation_id: int):
    case = _load_case(case_id)
    allocation = _owned(Allocation, allocation_id, case)
    name = allocation.user.name
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        try:
            services.clear_allocation_review(db.session, allocation.id, actor=current_user, now=_now())
        except RuleViolation as problem:
            refused = _refused_button(form, f"allocation-{allocation_id}", problem)
            return _render_detail(_load_case(case_id), _move_form(case), status=409, refused=refused)
        else:
            return _done(case, f"Review of {name}'s allocation cleared: they stay on the case")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.route("/<int:case_id>/allocations/<int:allocation_id>/parties", methods=["GET", "POST"])
@coordinator_only
def allocation_parties(case_id: int, allocation_id: int):
    case = _load_case(case_id)
    allocation = _owned(Allocation, allocation_id, case)
    name = allocation.user.name
    # Prefilled on GET only: a POST with every box unticked sends no party_ids at all.
    form = forms.AllocationPartiesForm(
        data={"party_ids": sorted(allocation.party_ids)} if request.method == "GET" else None
    )
    form.party_ids.choices = _party_choices(case)
    if form.validate_on_submit():
        try:
            services.set_allocation_parties(
                db.session, allocation.id, form.party_ids.data or (), actor=current_user, now=_now()
            )
        except RuleViolation as problem:
            _show_problems(form, problem, "party_ids")
        else:
            return _done(case, f"The people {name} works with are saved")
    intro = f"{name}, {allocation.role.label} since {allocation.starts_on:%-d %B %Y}."
    return _record_page(form, case, f"Who {name} works with", intro=intro)



def _intervention_or_none(value: str | None) -> InterventionType | None:
    return InterventionType(value) if value else None

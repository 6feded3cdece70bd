"""Volunteer pages for the public and for applicants: the "Volunteer with us" page, creating an
account, the task list and one question page per section, check your answers, the confirmation,
progress and withdrawing. An applicant only ever reaches their own application: every page looks
it up by the signed-in person, never by an id in the URL.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from portal.core import account_services, clock
from portal.core.accounts import Role
from portal.core.errors import ValidationFailed
from portal.extensions import db, limiter
from portal.volunteers import queries, services
from portal.volunteers.errors import ApplicationIncomplete, SectionInvalid
from portal.volunteers.models import (
    CLOSED_STATUSES,
    WEEKDAYS,
    Application,
    ApplicationSection,
    ApplicationStatus,
    EqualityMonitoring,
)
from portal.volunteers.web import applicant_forms as forms
from portal.volunteers.web.blueprint import APPLICANT_PANELS, bp, render_panels
from portal.web.decorators import role_required
from portal.web.links import external_url

S = ApplicationSection
applicant_only = role_required(Role.APPLICANT)
ACCOUNT_LIMIT = "10 per hour"

SECTION_TITLES = {
    S.PERSONAL_DETAILS: "Personal details",
    S.CONTACT_DETAILS: "Contact details",
    S.DISTRICTS: "Where you can volunteer",
    S.AVAILABILITY: "When you are available",
    S.LANGUAGES: "Languages",
    S.EXPERIENCE: "Relevant experience",
    S.MOTIVATION: "Why you want to volunteer",
    S.REFEREES: "Referees",
    S.CONVICTIONS: "Unspent convictions",
    S.EQUALITY: "Equality monitoring (optional)",
    S.AGREEMENTS: "Privacy notice and commitment",
}
SECTION_INTROS = {
    S.AVAILABILITY: "Select the times you are usually free. Each case takes about 18 to 20 hours over a few weeks.",
    S.REFEREES: "Give two people who know you well and are not related to you. We will ask them for a reference "
    "only after your interview.",
    S.EQUALITY: "These questions are optional. Your answers are stored apart from your application, are not seen "
    "by the people deciding on it, and are only ever reported as totals.",
    S.AGREEMENTS: "We use your information only to process your application and, if you join us, to support "
    "you as a volunteer. After training we ask volunteers to stay with us for at least 12 months.",
}

# Where each status sits on the journey, and what happens next.
STAGES = ("Application", "Interview", "References", "Vetting", "Training", "Ready to volunteer")
STATUS_STAGE = {
    ApplicationStatus.DRAFT: 0,
    ApplicationStatus.SUBMITTED: 0,
    ApplicationStatus.SHORTLISTED: 1,
    ApplicationStatus.INTERVIEW_BOOKED: 1,
    ApplicationStatus.INTERVIEWED: 2,
    ApplicationStatus.OFFERED: 3,
}
NEXT_STEPS = {
    ApplicationStatus.DRAFT: "Finish your application and send it to us.",
    ApplicationStatus.SUBMITTED: "A volunteer coordinator will read your application, usually within 10 working "
    "days, and e-mail you.",
    ApplicationStatus.SHORTLISTED: "We would like to meet you. Look out for an e-mail inviting you to book an "
    "interview: you will need to choose a time.",
    ApplicationStatus.INTERVIEW_BOOKED: "Your interview is booked. The e-mail invitation has the time and place.",
    ApplicationStatus.INTERVIEWED: "Thank you for coming to interview. We will ask your referees for references "
    "and let you know our decision.",
    ApplicationStatus.OFFERED: "We have offered you a place. Next come police vetting and the 4-day facilitator "
    "course; we will e-mail you the dates.",
    ApplicationStatus.REJECTED: "We have not been able to take your application further this time.",
    ApplicationStatus.WITHDRAWN: "You withdrew your application.",
}


# ---------------------------------------------------------------------------------------------
# Helpers


def _current_application() -> Application | None:
    return queries.find_current_application(db.session, current_user.id)


def _draft_or_none() -> Application | None:
    application = _current_application()
    return application if application is not None and application.is_draft else None


def _section(name: str) -> ApplicationSection:
    try:
        return S(name)
    except ValueError:
        abort(404)


def _section_title(section: ApplicationSection) -> str:
    return SECTION_TITLES[section]


def _put_errors(form, errors: dict[str, list[str]]) -> None:
    """Put a service's messages on the matching fields (or the first field when none matches)."""
    first = next(field for field in form if field.type not in ("CSRFTokenField", "SubmitField"))
    for name, messages in errors.items():
        field = form._fields.get(name, first)
        field.errors = [*field.errors, *messages]
    form._errors = None  # WTForms caches form.errors


def _equality_record(application: Application) -> EqualityMonitoring | None:
    if not application.equality_link:
        return None
    return db.session.scalar(select(EqualityMonitoring).where(EqualityMonitoring.link == application.equality_link))


def _saved_answers(application: Application, section: ApplicationSection) -> dict:
    """The draft's answers in the shape of the section's form (to prefill it)."""
    a = application
    match section:
        case S.PERSONAL_DETAILS:
            return {"full_name": a.full_name, "preferred_name": a.preferred_name, "date_of_birth": a.date_of_birth}
        case S.CONTACT_DETAILS:
            return {"email": a.email, "phone": a.phone, "address_line_1": a.address_line_1,
                    "address_line_2": a.address_line_2, "town": a.town, "postcode": a.postcode}
        case S.DISTRICTS:
            return {"districts": list(a.districts or [])}
        case S.AVAILABILITY:
            return {day: list((a.availability or {}).get(day, [])) for day in WEEKDAYS}
        case S.LANGUAGES:
            return {"languages": ", ".join(a.languages or [])}
        case S.EXPERIENCE:
            return {"experience": a.experience}
        case S.MOTIVATION:
            return {"motivation": a.motivation}
        case S.REFEREES:
            answers = {}
            for referee in a.referees:
                prefix = f"referee_{referee.position}_"
                answers |= {f"{prefix}name": referee.name, f"{prefix}email": referee.email,
                            f"{prefix}relationship": referee.relationship_to_applicant}
            return answers
        case S.CONVICTIONS:
            answer = a.has_unspent_convictions
            return {"has_unspent_convictions": None if answer is None else ("yes" if answer else "no"),
                    "convictions_details": a.convictions_details}
        case S.EQUALITY:
            record = _equality_record(a)
            return record.answers() if record is not None else {}
        case S.AGREEMENTS:
            return {"privacy_notice_agreed": bool(a.privacy_notice_agreed_at),
                    "commitment_agreed": bool(a.commitment_agreed_at)}
    return {}  # pragma: no cover


def _form_answers(form, section: ApplicationSection) -> dict:
    """What the applicant sent, in the shape save_section expects."""
    data = {name: field.data for name, field in form._fields.items()
            if field.type not in ("CSRFTokenField", "SubmitField")}
    if section == S.AVAILABILITY:
        return {"availability": {day: data.get(day) or [] for day in WEEKDAYS}}
    return data


def _summary(application: Application) -> list[dict]:
    """Check your answers: one summary card per section, each row with a Change link."""
    a = application

    def text(value) -> str:
        return value if value else "Not given"

    referees = {referee.position: referee for referee in a.referees}
    rows: dict[ApplicationSection, list[tuple[str, str]]] = {
        S.PERSONAL_DETAILS: [
            ("Full name", text(a.full_name)), ("Preferred name", text(a.preferred_name)),
            ("Date of birth", f"{a.date_of_birth:%-d %B %Y}" if a.date_of_birth else "Not given"),
        ],
        S.CONTACT_DETAILS: [
            ("Email address", text(a.email)), ("Telephone", text(a.phone)),
            ("Address", "\n".join(part for part in (a.address_line_1, a.address_line_2, a.town, a.postcode) if part)
             or "Not given"),
        ],
        S.DISTRICTS: [("Districts", ", ".join(a.districts or []) or "Not given")],
        S.AVAILABILITY: [
            (day.capitalize(), ", ".join((a.availability or {}).get(day, [])).capitalize() or "Not available")
            for day in WEEKDAYS
        ] if a.availability else [("Availability", "Not given")],
        S.LANGUAGES: [("Languages", ", ".join(a.languages or []) or "Not given")],
        S.EXPERIENCE: [("Relevant experience", text(a.experience))],
        S.MOTIVATION: [("Why you want to volunteer", text(a.motivation))],
        S.REFEREES: [
            (f"{'First' if position == 1 else 'Second'} referee",
             f"{referees[position].name}\n{referees[position].email}\n{referees[position].relationship_to_applicant}"
             if position in referees else "Not given")
            for position in (1, 2)
        ],
        S.CONVICTIONS: [
            ("Unspent convictions", "Not given" if a.has_unspent_convictions is None
             else ("Yes" if a.has_unspent_convictions else "No")),
        ] + ([("Details", text(a.convictions_details))] if a.has_unspent_convictions else []),
        S.EQUALITY: [("Equality monitoring", "Answered" if a.equality_link else "Not answered (optional)")],
        S.AGREEMENTS: [
            ("Privacy notice", "Agreed" if a.privacy_notice_agreed_at else "Not agreed"),
            ("12-month commitment", "Agreed" if a.commitment_agreed_at else "Not agreed"),
        ],
    }
    return [
        {"section": section, "title": _section_title(section), "rows": section_rows,
         "href": url_for("volunteers.section", section=section.value)}
        for section, section_rows in rows.items()
    ]


# ---------------------------------------------------------------------------------------------
# Public pages


@bp.route("/")
def about():
    return render_template("volunteers/public/about.html", title="Volunteer with us")


@bp.route("/privacy")
def privacy():
    return render_template(
        "volunteers/public/privacy.html", title="Privacy notice for volunteer applicants",
        draft_days=services.draft_retention_days(db.session),
        closed_days=services.closed_retention_days(db.session),
    )


@bp.route("/account", methods=["GET", "POST"])
@limiter.limit(ACCOUNT_LIMIT, methods=["POST"])
def account():
    if current_user.is_authenticated:
        if current_user.has_role(Role.APPLICANT):
            return redirect(url_for("volunteers.application"))
        abort(403)
    form = forms.AccountForm()
    if form.validate_on_submit():
        if form.website.data:
            # A bot filled in the hidden field: look as though it worked, create nothing.
            return render_template("volunteers/public/account_check_email.html", email=form.email.data,
                                   title="Check your email")
        try:
            account_services.sign_up_applicant(
                db.session, email=form.email.data, name=form.name.data,
                confirm_link=lambda token: external_url("auth.confirm_sign_up", token=token),
                sign_in_link=external_url("auth.login"), reset_link=external_url("auth.forgotten_password"),
                service_name=current_app.config["SERVICE_NAME"],
                lifetime=timedelta(days=current_app.config["INVITATION_DAYS"]), now=clock.now(),
            )
        except ValidationFailed as problem:
            db.session.rollback()
            form.name.errors = [*form.name.errors, *problem.reasons]
            form._errors = None
        else:
            db.session.commit()
            # The same page whether or not the address already has an account: it reveals nothing.
            return render_template("volunteers/public/account_check_email.html", email=form.email.data,
                                   title="Check your email")
    return render_template("volunteers/public/account.html", form=form, title="Create an account to apply")


# ---------------------------------------------------------------------------------------------
# The application


@bp.route("/application")
@applicant_only
def application():
    application = _current_application()
    if application is None or application.status in CLOSED_STATUSES:
        return render_template("volunteers/applicant/start.html", start_form=forms.StartForm(),
                               application=application, title="Apply to volunteer")
    if not application.is_draft:
        return redirect(url_for("volunteers.progress"))
    tasks = services.task_list(application)
    return render_template(
        "volunteers/applicant/task_list.html", application=application, title="Apply to volunteer",
        tasks=[{"title": _section_title(task.section), "status": task.status, "complete": task.is_complete,
                "href": url_for("volunteers.section", section=task.section.value)} for task in tasks],
        done=sum(task.is_complete for task in tasks), total=len(tasks),
        ready=not services.incomplete_sections(application),
    )


@bp.route("/application/start", methods=["POST"])
@applicant_only
def start():
    form = forms.StartForm()
    if form.validate_on_submit():
        services.start_application(db.session, current_user, now=clock.now())  # RuleViolation -> 409 page
        db.session.commit()
    return redirect(url_for("volunteers.application"))


@bp.route("/application/check", methods=["GET", "POST"])
@applicant_only
def check():
    application = _current_application()
    if application is None or application.status in CLOSED_STATUSES:
        return redirect(url_for("volunteers.application"))
    if application.submitted_at is not None:
        return redirect(url_for("volunteers.confirmation"))
    form = forms.SubmitApplicationForm()
    problems: list[dict] = []
    status = 200
    if form.validate_on_submit():
        try:
            services.submit_application(db.session, application.id, actor=current_user, now=clock.now())
        except ApplicationIncomplete as incomplete:
            db.session.rollback()
            missing = services.incomplete_sections(application)
            problems = [{"text": f"Complete the section “{_section_title(section)}” before you send your "
                                 "application",
                         "href": url_for("volunteers.section", section=section.value)} for section in missing]
            if not problems:  # pragma: no cover
                problems = [{"text": reason} for reason in incomplete.reasons]
            status = 400
        except ValidationFailed as problem:
            db.session.rollback()
            problems = [{"text": reason, "href": url_for("volunteers.section", section=S.PERSONAL_DETAILS.value)}
                        for reason in problem.reasons]
            status = 400
        else:
            db.session.commit()
            return redirect(url_for("volunteers.confirmation"))
    return render_template(
        "volunteers/applicant/check.html", application=application, submit_form=form, problems=problems,
        summary=_summary(application), title="Check your answers before sending your application",
    ), status


@bp.route("/application/confirmation")
@applicant_only
def confirmation():
    application = _current_application()
    if application is None or application.submitted_at is None:
        return redirect(url_for("volunteers.application"))
    return render_template("volunteers/applicant/confirmation.html", application=application,
                           title="Application sent")


@bp.route("/application/progress")
@applicant_only
def progress():
    application = _current_application()
    if application is None:
        return redirect(url_for("volunteers.application"))
    current = STATUS_STAGE.get(application.status)
    return render_template(
        "volunteers/applicant/progress.html", application=application, title="Your application",
        stages=[{"name": name, "state": ("done" if current is not None and index < current
                                         else "current" if index == current else "to do")}
                for index, name in enumerate(STAGES)],
        next_step=NEXT_STEPS[application.status],
        closed=application.status in CLOSED_STATUSES,
        erasure_date=services.erasure_date(db.session, application),
        panels=render_panels(APPLICANT_PANELS, application),
    )


@bp.route("/application/withdraw", methods=["GET", "POST"])
@applicant_only
def withdraw():
    application = _current_application()
    if application is None or application.status in CLOSED_STATUSES:
        return redirect(url_for("volunteers.application"))
    form = forms.WithdrawForm()
    if form.validate_on_submit():
        try:
            services.withdraw_application(db.session, application.id, actor=current_user, now=clock.now(),
                                          reason=form.reason.data)
        except ValidationFailed as problem:
            db.session.rollback()
            form.reason.errors = [*form.reason.errors, *problem.reasons]
            form._errors = None
        else:
            db.session.commit()
            flash(f"You have withdrawn your application {application.reference}.", "success")
            return redirect(url_for("volunteers.progress"))
    return render_template("volunteers/applicant/withdraw.html", form=form, application=application,
                           retention_days=services.closed_retention_days(db.session),
                           title="Withdraw your application")


@bp.route("/application/<section>", methods=["GET", "POST"])
@applicant_only
def section(section: str):
    chosen = _section(section)
    application = _draft_or_none()
    if application is None:
        return redirect(url_for("volunteers.application"))
    form_class = forms.SECTION_FORMS[chosen]
    form = form_class() if request.method == "POST" else form_class(data=_saved_answers(application, chosen))
    if chosen == S.DISTRICTS:
        form.districts.choices = [SelectChoice(name, name) for name in services.configured_districts(db.session)]
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                services.save_section(db.session, application.id, chosen, _form_answers(form, chosen),
                                      actor=current_user, now=clock.now())
            except SectionInvalid as invalid:
                db.session.rollback()
                _put_errors(form, invalid.errors)
            else:
                db.session.commit()
                return redirect(url_for("volunteers.application"))
        status = 400
    return render_template(
        "volunteers/applicant/section.html", form=form, application=application, section=chosen,
        title=_section_title(chosen), intro=SECTION_INTROS.get(chosen),
        privacy_link=chosen is S.AGREEMENTS,
    ), status

"""Volunteers' allocation preferences (availability, districts, case limit, away dates, conflicts,
pause) and coordinators' view of them.

Each route: load → authorise → validate → call one service → commit and respond. A volunteer reaches
only their own record (the services look everything up by the signed-in person), so another
volunteer's dates away or conflict is a 404. The coordinators' section of the volunteer record page
gets its context from `record_section`, called by the record page's route.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal.core import audit, clock
from portal.core.accounts import Role
from portal.core.errors import RuleViolation
from portal.extensions import db
from portal.volunteers import services as application_services
from portal.volunteers.models import WEEKDAYS
from portal.volunteers.profiles import availability, permissions, queries, services
from portal.volunteers.profiles.models import Volunteer
from portal.volunteers.web import preferences_forms as forms
from portal.volunteers.web.blueprint import bp
from portal.web.decorators import require, role_required
from portal.web.forms import add_service_problem

volunteers_only = role_required(Role.VOLUNTEER)
coordinators_only = role_required(Role.COORDINATOR)


def _own() -> Volunteer:
    return queries.get_volunteer_for_user(db.session, current_user.id)  # NotFound -> 404 page


def _put_errors(form, problem: RuleViolation, fallback: str, aliases: dict[str, str] | None = None) -> None:
    """Put a service's messages on the matching fields, so the page's error summary links to each."""
    db.session.rollback()
    errors = getattr(problem, "errors", None)
    if not errors:
        add_service_problem(form, form[fallback], problem)
        return
    for name, messages in errors.items():
        name = (aliases or {}).get(name, name)
        field = form._fields.get(name) or form._fields[fallback]
        field.errors = [*field.errors, *messages]
    form._errors = None


def _back_to_preferences(message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("volunteers.preferences"))


# ---------------------------------------------------------------------------------------------
# The volunteer's page


@bp.route("/my-availability")
@volunteers_only
def preferences():
    volunteer = _own()
    today = clock.today()
    conflicts = [conflict for conflict in queries.list_conflicts(db.session, volunteer.id) if conflict.is_current]
    return render_template(
        "volunteers/preferences/mine.html", title="Your availability and preferences", volunteer=volunteer,
        times=availability.describe(volunteer.availability_mask), absences=queries.list_absences(
            db.session, volunteer.id, today=today),
        conflicts=conflicts, paused=queries.is_paused(volunteer, today=today), button=forms.ButtonForm(),
    )


@bp.route("/my-availability/edit", methods=["GET", "POST"])
@volunteers_only
def preferences_edit():
    volunteer = _own()
    form = forms.PreferencesForm()
    form.districts.choices = application_services.configured_districts(db.session)
    if not form.is_submitted():
        for day in WEEKDAYS:
            form[day].data = list((volunteer.availability or {}).get(day, []))
        form.districts.data = list(volunteer.districts or [])
        form.max_cases.data = volunteer.max_cases
        form.languages.data = ", ".join(volunteer.languages or [])
        form.drives.data = "yes" if volunteer.drives else "no"
    status = 200
    if form.validate_on_submit():
        details = services.PreferenceDetails(
            availability={day: form[day].data or [] for day in WEEKDAYS}, districts=form.districts.data or [],
            max_cases=form.max_cases.data, languages=form.languages.data or "",
            drives={"yes": True, "no": False}.get(form.drives.data or ""),
        )
        try:
            services.update_preferences(db.session, current_user.id, details, actor=current_user, now=clock.now())
        except RuleViolation as problem:
            _put_errors(form, problem, "monday", {"availability": "monday"})
            status = 400
        else:
            return _back_to_preferences("Your availability and preferences are saved")
    elif form.is_submitted():
        status = 400
    return render_template("volunteers/preferences/edit.html", title="Change your availability and preferences",
                           form=form), status


# ---------------------------------------------------------------------------------------------
# Dates away


@bp.route("/my-availability/away/new", methods=["GET", "POST"])
@volunteers_only
def preferences_absence_add():
    _own()
    form = forms.AbsenceForm()
    status = 200
    if form.validate_on_submit():
        try:
            absence = services.add_absence(db.session, current_user.id, form.starts_on.data, form.ends_on.data,
                                           form.note.data, actor=current_user, now=clock.now())
        except RuleViolation as problem:
            _put_errors(form, problem, "starts_on")
            status = 400
        else:
            return _back_to_preferences(f"Dates away added: {absence.starts_on:%-d %B %Y} to "
                                        f"{absence.ends_on:%-d %B %Y}")
    elif form.is_submitted():
        status = 400
    return render_template("volunteers/preferences/absence.html", title="Add dates you are away", form=form), status


@bp.route("/my-availability/away/<int:absence_id>/remove", methods=["POST"])
@volunteers_only
def preferences_absence_remove(absence_id: int):
    _own()
    require(forms.ButtonForm().validate_on_submit(), hide=False)
    services.remove_absence(db.session, current_user.id, absence_id, actor=current_user, now=clock.now())
    return _back_to_preferences("Dates away removed")


# ---------------------------------------------------------------------------------------------
# Conflicts of interest


@bp.route("/my-availability/conflicts/new", methods=["GET", "POST"])
@volunteers_only
def preferences_conflict_declare():
    _own()
    form = forms.ConflictForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.declare_conflict(db.session, current_user.id, form.kind.data, form.name.data,
                                      form.details.data, actor=current_user, now=clock.now())
        except RuleViolation as problem:
            _put_errors(form, problem, "name")
            status = 400
        else:
            return _back_to_preferences("Conflict of interest declared. We have told the coordinators.")
    elif form.is_submitted():
        status = 400
    return render_template("volunteers/preferences/conflict.html", title="Declare a conflict of interest",
                           form=form), status


@bp.route("/my-availability/conflicts/<int:conflict_id>/withdraw", methods=["POST"])
@volunteers_only
def preferences_conflict_withdraw(conflict_id: int):
    _own()
    require(forms.ButtonForm().validate_on_submit(), hide=False)
    services.withdraw_conflict(db.session, current_user.id, conflict_id, actor=current_user, now=clock.now())
    return _back_to_preferences("Conflict of interest withdrawn")


# ---------------------------------------------------------------------------------------------
# Pause and resume


@bp.route("/my-availability/pause", methods=["GET", "POST"])
@volunteers_only
def preferences_pause():
    volunteer = _own()
    form = forms.PauseForm()
    if not form.is_submitted() and volunteer.paused_until:
        form.until.data = volunteer.paused_until
        form.reason.data = volunteer.pause_reason
    status = 200
    if form.validate_on_submit():
        try:
            paused = services.pause_volunteering(db.session, current_user.id, form.until.data, form.reason.data,
                                                 actor=current_user, now=clock.now())
        except RuleViolation as problem:
            _put_errors(form, problem, "until")
            status = 400
        else:
            return _back_to_preferences(f"Your volunteering is paused until {paused.paused_until:%-d %B %Y}. "
                                        "You will not be offered new cases until then.")
    elif form.is_submitted():
        status = 400
    return render_template("volunteers/preferences/pause.html", title="Pause your volunteering", form=form,
                           volunteer=volunteer), status


@bp.route("/my-availability/resume", methods=["POST"])
@volunteers_only
def preferences_resume():
    _own()
    require(forms.ButtonForm().validate_on_submit(), hide=False)
    services.resume_volunteering(db.session, current_user.id, actor=current_user, now=clock.now())
    return _back_to_preferences("Welcome back: you can be offered new cases again")


# ---------------------------------------------------------------------------------------------
# Coordinators: the section on the volunteer record, and the experience level


def record_section(volunteer: Volunteer) -> dict | None:
    """What the volunteer record's preferences section shows to the signed-in person (None: nothing).

    Conflicts of interest are restricted: showing them records an audit entry (flushed; the record
    page's route commits it), like changes of circumstances.
    """
    if not permissions.can_view_preferences(current_user, volunteer):
        return None
    today = clock.today()
    conflicts = None
    if permissions.can_view_conflicts(current_user, volunteer):
        conflicts = [conflict for conflict in queries.list_conflicts(db.session, volunteer.id) if conflict.is_current]
        if conflicts:
            audit.record(db.session, current_user, "volunteers.conflicts_viewed", volunteer, at=clock.now(),
                         conflicts=len(conflicts))
    form = None
    if permissions.can_set_experience(current_user, volunteer):
        form = forms.ExperienceForm()
        form.experience.data = volunteer.experience.value
    return {
        "times": availability.describe(volunteer.availability_mask),
        "absences": queries.list_absences(db.session, volunteer.id, today=today),
        "paused": queries.is_paused(volunteer, today=today), "conflicts": conflicts, "experience_form": form,
    }


@bp.route("/volunteers/<int:volunteer_id>/experience", methods=["GET", "POST"])
@coordinators_only
def preferences_experience(volunteer_id: int):
    volunteer = queries.get_volunteer(db.session, volunteer_id)  # NotFound -> 404 page
    require(permissions.can_set_experience(current_user, volunteer))
    form = forms.ExperienceForm()
    if not form.is_submitted():
        form.experience.data = volunteer.experience.value
    status = 200
    if form.validate_on_submit():
        try:
            services.set_experience(db.session, volunteer.id, form.experience.data or None, actor=current_user,
                                    now=clock.now())
        except RuleViolation as problem:
            _put_errors(form, problem, "experience")
            volunteer = queries.get_volunteer(db.session, volunteer_id)
            status = 400
        else:
            db.session.commit()
            flash(f"{volunteer.name}'s experience level is now “{volunteer.experience.label}”", "success")
            return redirect(url_for("volunteers.volunteer_record", volunteer_id=volunteer.id))
    elif form.is_submitted():
        status = 400
    return render_template("volunteers/preferences/experience.html", title=f"{volunteer.name}: experience level",
                           form=form, volunteer=volunteer), status

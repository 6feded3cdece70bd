"""Training pages: the training home, courses and cohorts, enrolment and the waiting list, registers,
make-up days, completion, certificates and the cohort report.

Each route: load → authorise → validate → call one service → commit and respond (POST-redirect-GET).
"""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from portal.core import clock
from portal.core.accounts import Role
from portal.core.errors import DomainError
from portal.extensions import db
from portal.training import permissions, queries, services
from portal.training.coursework import permissions as coursework_permissions
from portal.training.errors import AlreadyEnrolled, CohortInvalid
from portal.training.models import COURSE_DAYS, Cohort, Enrolment, EnrolmentStatus
from portal.training.web import forms
from portal.training.web.blueprint import bp
from portal.web.decorators import require, role_required
from portal.web.forms import add_service_problem
from portal.web.pagination import page_arg, pagination

coordinator_only = role_required(Role.COORDINATOR)
staff_only = role_required(Role.COORDINATOR, Role.TRAINER)
DAY_IN_MESSAGE = re.compile(r"^Day (\d)\b")


# ---------------------------------------------------------------------------------------------
# Helpers


def _problem(form, field_name: str, problem: DomainError) -> None:
    db.session.rollback()
    add_service_problem(form, form._fields[field_name], problem)


def _cohort_problems(form, invalid: CohortInvalid) -> None:
    """Put each of the service's messages on the field it is about (a day's messages on that day's date)."""
    db.session.rollback()
    for name, messages in invalid.errors.items():
        for message in messages:
            target = name
            if name == "days":
                match = DAY_IN_MESSAGE.match(message)
                target = forms.day_field_names(int(match.group(1)) if match else 1)[0]
            field = form._fields.get(target) or form._fields["name"]
            field.errors = [*field.errors, message]
    form._errors = None


def _load_cohort_for_staff(cohort_id: int) -> Cohort:
    cohort = queries.get_cohort(db.session, cohort_id)  # NotFound -> 404 page
    require(permissions.can_view_cohort(current_user, cohort))
    return cohort


def _load_enrolment(enrolment_id: int) -> Enrolment:
    enrolment = queries.get_enrolment(db.session, enrolment_id)
    require(permissions.can_view_enrolment(current_user, enrolment))
    return enrolment


def _done(message: str, endpoint: str, **values):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


# ---------------------------------------------------------------------------------------------
# Home


COHORTS_PAGE_SIZE = 50
OWN_COHORTS_SHOWN = 50
OPEN_COHORTS_SHOWN = 50


@bp.route("/")
@login_required
def index():
    """What each role needs: coordinators every cohort (50 a page, by first day), trainers their 50 latest,
    volunteers their enrolments and the 50 soonest cohorts they can join. Statements do not grow with
    the number of cohorts."""
    now = clock.now()
    coordinator = permissions.can_manage_courses(current_user)
    trainer = current_user.has_role(Role.TRAINER)
    volunteer = permissions.can_join_cohorts(current_user)
    require(coordinator or trainer or volunteer, hide=False)
    my_enrolments = queries.list_enrolments_for_user(db.session, current_user.id) if volunteer else []
    live_cohort_ids = {e.cohort_id for e in my_enrolments if e.is_live}
    all_cohorts = (queries.cohorts_page(db.session, page=page_arg(), per_page=COHORTS_PAGE_SIZE)
                   if coordinator else None)
    open_cohorts = ([c for c in queries.list_open_cohorts_soonest(db.session, now=now, limit=OPEN_COHORTS_SHOWN)
                     if c.id not in live_cohort_ids] if volunteer else [])
    return render_template(
        "training/index.html",
        title="Training",
        now=now,
        is_coordinator=coordinator,
        can_see_marking=coursework_permissions.can_see_marking(current_user),
        courses=queries.list_courses(db.session) if coordinator else [],
        all_cohorts=all_cohorts.rows if all_cohorts else [],
        all_cohorts_window=all_cohorts.window if all_cohorts else None,
        pagination=pagination(all_cohorts.window, "training.index", {}, label="Pages of cohorts")
        if all_cohorts else None,
        my_cohorts=queries.cohorts_page(db.session, page=1, per_page=OWN_COHORTS_SHOWN, trainer_id=current_user.id,
                                        newest_first=True).rows if trainer else [],
        my_enrolments=my_enrolments,
        open_cohorts=open_cohorts,
        places_left=queries.places_left_of(db.session, open_cohorts),
    )


# ---------------------------------------------------------------------------------------------
# Courses


def _course_details(form) -> services.CourseDetails:
    return services.CourseDetails(title=form.title.data, description=form.description.data or "",
                                  hours=form.hours.data, competencies=form.competency_list)


@bp.route("/courses/new", methods=["GET", "POST"])
@coordinator_only
def course_new():
    form = forms.CourseForm()
    if form.validate_on_submit():
        try:
            course = services.create_course(db.session, _course_details(form), actor=current_user, now=clock.now())
        except CohortInvalid as invalid:
            _cohort_problems(form, invalid)
        else:
            return _done(f"Course “{course.title}” added", "training.course_detail", course_id=course.id)
    return render_template("training/course_form.html", form=form, course=None, title="Add a course")


@bp.route("/courses/<int:course_id>")
@coordinator_only
def course_detail(course_id: int):
    """The course and its cohorts, 50 a page by first day."""
    course = queries.get_course(db.session, course_id)
    cohorts = queries.cohorts_page(db.session, page=page_arg(), per_page=COHORTS_PAGE_SIZE, course_id=course.id)
    return render_template("training/course.html", course=course, title=course.title, cohorts=cohorts.rows,
                           window=cohorts.window,
                           pagination=pagination(cohorts.window, "training.course_detail", {}, label="Pages of cohorts",
                                                 course_id=course.id))


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@coordinator_only
def course_edit(course_id: int):
    course = queries.get_course(db.session, course_id)
    form = forms.CourseForm(obj=course)
    if not form.is_submitted():
        form.competencies.data = "\n".join(course.competencies)
    if form.validate_on_submit():
        try:
            services.update_course(db.session, course.id, _course_details(form), actor=current_user, now=clock.now())
        except CohortInvalid as invalid:
            _cohort_problems(form, invalid)
        else:
            return _done("Course saved", "training.course_detail", course_id=course.id)
    return render_template("training/course_form.html", form=form, course=course, title=f"Edit {course.title}")


# ---------------------------------------------------------------------------------------------
# Cohorts


def _cohort_form(cohort: Cohort | None = None):
    form = forms.CohortForm(obj=cohort)
    form.trainer_ids.choices = forms.trainer_choices(queries.list_trainers(db.session))
    if cohort is not None and not form.is_submitted():
        form.trainer_ids.data = sorted(cohort.trainer_ids)
        for day in cohort.days:
            date_name, starts_name, ends_name = forms.day_field_names(day.day_number)
            starts, ends = clock.to_london(day.starts_at), clock.to_london(day.ends_at)
            form[date_name].data = starts.date()
            form[starts_name].data = f"{starts:%H:%M}"
            form[ends_name].data = f"{ends:%H:%M}"
    return form


def _cohort_details(form) -> services.CohortDetails:
    days = []
    for number in range(1, COURSE_DAYS + 1):
        date_name, starts_name, ends_name = forms.day_field_names(number)
        days.append(services.DayTimes(form[date_name].data, form[starts_name].time, form[ends_name].time))
    return services.CohortDetails(
        name=form.name.data, capacity=form.capacity.data, days=days, trainer_ids=form.trainer_ids.data or [],
        venue_name=form.venue_name.data, venue_address=form.venue_address.data,
        access_notes=form.access_notes.data, online_link=form.online_link.data,
    )


@bp.route("/courses/<int:course_id>/cohorts/new", methods=["GET", "POST"])
@coordinator_only
def cohort_new(course_id: int):
    course = queries.get_course(db.session, course_id)
    form = _cohort_form()
    if form.validate_on_submit():
        try:
            cohort = services.create_cohort(db.session, course.id, _cohort_details(form), actor=current_user,
                                            now=clock.now())
        except CohortInvalid as invalid:
            _cohort_problems(form, invalid)
        else:
            return _done(f"Cohort “{cohort.name}” added", "training.cohort_detail", cohort_id=cohort.id)
    return render_template("training/cohort_form.html", form=form, course=course, cohort=None,
                           day_numbers=range(1, COURSE_DAYS + 1), title=f"Add a cohort of {course.title}")


@bp.route("/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
@coordinator_only
def cohort_edit(cohort_id: int):
    cohort = queries.get_cohort(db.session, cohort_id)
    form = _cohort_form(cohort)
    if form.validate_on_submit():
        try:
            services.update_cohort(db.session, cohort.id, _cohort_details(form), actor=current_user, now=clock.now())
        except CohortInvalid as invalid:
            _cohort_problems(form, invalid)
        else:
            return _done("Cohort saved. Everyone enrolled has been sent any changed dates.",
                         "training.cohort_detail", cohort_id=cohort.id)
    return render_template("training/cohort_form.html", form=form, course=cohort.course, cohort=cohort,
                           day_numbers=range(1, COURSE_DAYS + 1), title=f"Edit {cohort.name}")


@bp.route("/cohorts/<int:cohort_id>/cancel", methods=["GET", "POST"])
@coordinator_only
def cohort_cancel(cohort_id: int):
    cohort = queries.get_cohort(db.session, cohort_id)
    form = forms.CancelCohortForm()
    if form.validate_on_submit():
        try:
            services.cancel_cohort(db.session, cohort.id, reason=form.reason.data, actor=current_user,
                                   now=clock.now())
        except CohortInvalid as invalid:
            _cohort_problems(form, invalid)
        else:
            return _done(f"{cohort.name} is cancelled and everyone on it has been told", "training.cohort_detail",
                         cohort_id=cohort.id)
    return render_template("training/cancel.html", cohort=cohort, form=form, title=f"Cancel {cohort.name}")


ENROL_MATCHES = 20


def _enrol_search(cohort: Cohort, search_form, enrol_form) -> dict:
    """The "Enrol a volunteer" section: the search, and the people it found as choices (at most
    ENROL_MATCHES, with whether more match). One statement, only when something was searched for."""
    search_form.validate()
    text = "" if search_form.q.errors else " ".join((search_form.q.data or "").split())
    matches, more = ([], False)
    if text:
        matches, more = queries.search_enrollable_volunteers(db.session, cohort.id, text, limit=ENROL_MATCHES)
    enrol_form.user_id.choices = [SelectChoice(person.user_id, f"{person.name} ({person.email})")
                                  for person in matches]
    enrol_form.q.data = text
    return {"search_form": search_form, "search": text, "matches": matches, "more_matches": more}


def _cohort_page(cohort: Cohort, *, enrol_form=None, search: str | None = None, status: int = 200):
    enrol_form = enrol_form or forms.EnrolForm(formdata=None)
    search_form = forms.VolunteerSearchForm(request.args if search is None else MultiDict({"q": search}))
    can_manage = permissions.can_manage_courses(current_user)
    enrolments = queries.cohort_enrolments(db.session, cohort)
    return render_template(
        "training/cohort.html", cohort=cohort, roster=queries.cohort_roster(db.session, cohort, enrolments),
        needing_make_up=queries.needing_make_up(db.session, cohort, enrolments), now=clock.now(),
        places_left=queries.places_left(db.session, cohort), form=enrol_form if enrol_form.errors else None,
        enrol_form=enrol_form, can_manage=can_manage,
        can_register=permissions.can_take_register(current_user, cohort), title=cohort.name,
        **(_enrol_search(cohort, search_form, enrol_form) if can_manage and not cohort.is_cancelled else {}),
    ), status


@bp.route("/cohorts/<int:cohort_id>")
@staff_only
def cohort_detail(cohort_id: int):
    """The cohort, its people and registers; for a coordinator, `?q=` searches for a volunteer to enrol."""
    return _cohort_page(_load_cohort_for_staff(cohort_id))


@bp.route("/cohorts/<int:cohort_id>/enrol", methods=["POST"])
@coordinator_only
def cohort_enrol(cohort_id: int):
    cohort = queries.get_cohort(db.session, cohort_id)
    form = forms.EnrolForm()
    if form.validate_on_submit():
        try:
            enrolment = services.enrol_volunteer(db.session, cohort.id, form.user_id.data, actor=current_user,
                                                 now=clock.now())
        except DomainError as problem:
            _problem(form, "user_id", problem)
        else:
            where = "on the waiting list" if enrolment.status is EnrolmentStatus.WAITING else "enrolled"
            return _done(f"{enrolment.user.name} is {where}", "training.cohort_detail", cohort_id=cohort.id)
    return _cohort_page(cohort, enrol_form=form, search=form.q.data or "", status=400)


@bp.route("/cohorts/<int:cohort_id>/report")
@staff_only
def cohort_report(cohort_id: int):
    cohort = _load_cohort_for_staff(cohort_id)
    require(permissions.can_view_report(current_user, cohort))
    return render_template("training/report.html", cohort=cohort, report=queries.cohort_report(db.session, cohort),
                           title=f"Report: {cohort.name}")


# ---------------------------------------------------------------------------------------------
# Volunteers join and leave


def _load_open_cohort(cohort_id: int) -> Cohort:
    cohort = queries.get_cohort(db.session, cohort_id)
    is_open = not cohort.is_cancelled and cohort.starts_at is not None and cohort.starts_at > clock.now()
    require(is_open or permissions.can_view_cohort(current_user, cohort))
    return cohort


@bp.route("/cohorts/<int:cohort_id>/join", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def cohort_join(cohort_id: int):
    cohort = _load_open_cohort(cohort_id)
    existing = queries.find_live_enrolment(db.session, cohort.id, current_user.id)
    if existing is not None:
        return redirect(url_for("training.enrolment_detail", enrolment_id=existing.id))
    form = forms.JoinForm()
    now = clock.now()
    if form.validate_on_submit():
        try:
            enrolment = services.enrol_volunteer(
                db.session, cohort.id, current_user.id, actor=current_user, now=now,
                dietary_needs=form.dietary_needs.data, access_needs=form.access_needs.data,
            )
        except AlreadyEnrolled as twice:  # a second click: the first one worked
            db.session.rollback()
            return redirect(url_for("training.enrolment_detail", enrolment_id=twice.enrolment.id))
        except DomainError as problem:
            _problem(form, "submit", problem)
        else:
            message = ("You are on the waiting list: we will e-mail you if a place comes up"
                       if enrolment.status is EnrolmentStatus.WAITING
                       else "You are enrolled. We have e-mailed you a calendar invitation for all four days")
            return _done(message, "training.enrolment_detail", enrolment_id=enrolment.id)
    problems = services.enrolment_problems(db.session, cohort, current_user, now=now)
    return render_template("training/join.html", cohort=cohort, form=form, problems=problems,
                           places_left=queries.places_left(db.session, cohort), title=f"Join {cohort.name}")


@bp.route("/enrolments/<int:enrolment_id>")
@login_required
def enrolment_detail(enrolment_id: int):
    enrolment = _load_enrolment(enrolment_id)
    return render_template(
        "training/enrolment.html", enrolment=enrolment, cohort=enrolment.cohort,
        progress=services.day_progress(db.session, enrolment),
        needs_form=forms.NeedsForm(obj=enrolment) if permissions.can_edit_needs(current_user, enrolment) else None,
        can_withdraw=permissions.can_withdraw(current_user, enrolment),
        can_book_make_up=permissions.can_book_make_up(current_user, enrolment),
        can_complete=permissions.can_complete(current_user, enrolment),
        is_own=permissions.is_own(current_user, enrolment), now=clock.now(),
        title=f"{enrolment.cohort.course.title}: {enrolment.cohort.name}",
    )


@bp.route("/enrolments/<int:enrolment_id>/needs", methods=["POST"])
@login_required
def enrolment_needs(enrolment_id: int):
    enrolment = _load_enrolment(enrolment_id)
    require(permissions.can_edit_needs(current_user, enrolment))
    form = forms.NeedsForm()
    if form.validate_on_submit():
        services.update_needs(db.session, enrolment.id, dietary_needs=form.dietary_needs.data,
                              access_needs=form.access_needs.data, actor=current_user, now=clock.now())
        return _done("Saved what you share with your trainers", "training.enrolment_detail",
                     enrolment_id=enrolment.id)
    return render_template(
        "training/enrolment.html", enrolment=enrolment, cohort=enrolment.cohort, form=form, needs_form=form,
        progress=services.day_progress(db.session, enrolment), can_withdraw=True, can_book_make_up=False,
        can_complete=False, is_own=True, now=clock.now(),
        title=f"{enrolment.cohort.course.title}: {enrolment.cohort.name}",
    ), 400


@bp.route("/enrolments/<int:enrolment_id>/withdraw", methods=["GET", "POST"])
@login_required
def enrolment_withdraw(enrolment_id: int):
    enrolment = _load_enrolment(enrolment_id)
    require(permissions.can_withdraw(current_user, enrolment))
    form = forms.WithdrawForm()
    if form.validate_on_submit():
        try:
            services.withdraw_enrolment(db.session, enrolment.id, actor=current_user, now=clock.now(),
                                        reason=form.reason.data)
        except DomainError as problem:
            _problem(form, "reason", problem)
        else:
            if permissions.is_own(current_user, enrolment):
                return _done("You have withdrawn. We have e-mailed you a cancellation for your calendar",
                             "training.index")
            return _done(f"{enrolment.user.name} has been withdrawn", "training.cohort_detail",
                         cohort_id=enrolment.cohort_id)
    return render_template("training/withdraw.html", enrolment=enrolment, form=form,
                           is_own=permissions.is_own(current_user, enrolment), title="Withdraw from the course")


# ---------------------------------------------------------------------------------------------
# Registers


@bp.route("/cohorts/<int:cohort_id>/days/<int:day_number>/register", methods=["GET", "POST"])
@staff_only
def register(cohort_id: int, day_number: int):
    cohort = _load_cohort_for_staff(cohort_id)
    require(permissions.can_take_register(current_user, cohort))
    day = queries.get_cohort_day(db.session, cohort.id, day_number)  # a day outside the cohort is a 404
    rows = queries.register_rows(db.session, day)
    form = forms.register_form_class([row.enrolment.id for row in rows])()
    now = clock.now()
    if not form.is_submitted():
        for row in rows:
            form[f"mark_{row.enrolment.id}"].data = row.mark
            form[f"reason_{row.enrolment.id}"].data = row.reason or ""
    if form.validate_on_submit():
        marks = {
            row.enrolment.id: services.Mark(form[f"mark_{row.enrolment.id}"].data,
                                            form[f"reason_{row.enrolment.id}"].data)
            for row in rows if form[f"mark_{row.enrolment.id}"].data
        }
        try:
            services.take_register(db.session, day.id, marks, actor=current_user, now=now)
        except DomainError as problem:
            db.session.rollback()
            _register_problems(form, rows, problem)
        else:
            return _done(f"Register for day {day.day_number} saved", "training.cohort_detail", cohort_id=cohort.id)
    return render_template("training/register.html", cohort=cohort, day=day, rows=rows, form=form,
                           is_open=day.starts_at <= now, title=f"Register: {cohort.name}, day {day.day_number}")


def _register_problems(form, rows, problem: DomainError) -> None:
    """Put each reason next to the person it names (an absence without a reason), else on the button."""
    for reason in problem.reasons:
        target = form.submit
        for row in rows:
            if row.enrolment.user.name in reason:
                target = form[f"reason_{row.enrolment.id}"]
                break
        target.errors = [*target.errors, reason]
    form._errors = None


# ---------------------------------------------------------------------------------------------
# Make-up days


MAKE_UP_OPTIONS = 20  # the soonest; a make-up day months away helps nobody


@bp.route("/enrolments/<int:enrolment_id>/make-up/<int:day_number>", methods=["GET", "POST"])
@coordinator_only
def make_up(enrolment_id: int, day_number: int):
    enrolment = queries.get_enrolment(db.session, enrolment_id)
    require(permissions.can_book_make_up(current_user, enrolment) and 1 <= day_number <= COURSE_DAYS)
    now = clock.now()
    options = services.make_up_options(db.session, enrolment, day_number, now=now, limit=MAKE_UP_OPTIONS)
    form = forms.MakeUpForm()
    form.cohort_day_id.choices = [
        SelectChoice(day.id, f"{day.cohort.name}: {clock.to_london(day.starts_at):%A %-d %B %Y, %H:%M}")
        for day in options
    ]
    if form.validate_on_submit():
        try:
            services.book_make_up(db.session, enrolment.id, form.cohort_day_id.data, actor=current_user, now=now)
        except DomainError as problem:
            _problem(form, "cohort_day_id", problem)
        else:
            return _done(f"{enrolment.user.name} is booked onto a make-up day {day_number}",
                         "training.enrolment_detail", enrolment_id=enrolment.id)
    return render_template("training/make_up.html", enrolment=enrolment, day_number=day_number, form=form,
                           options=options, title=f"Book a make-up day {day_number}")


@bp.route("/make-ups/<int:booking_id>/cancel", methods=["POST"])
@coordinator_only
def make_up_cancel(booking_id: int):
    booking = queries.get_make_up(db.session, booking_id)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        try:
            services.cancel_make_up(db.session, booking.id, actor=current_user, now=clock.now())
        except DomainError as problem:
            db.session.rollback()
            flash(str(problem), "error")
        else:
            return _done("Make-up day cancelled", "training.enrolment_detail", enrolment_id=booking.enrolment_id)
    return redirect(url_for("training.enrolment_detail", enrolment_id=booking.enrolment_id))


# ---------------------------------------------------------------------------------------------
# Completion and certificate


@bp.route("/enrolments/<int:enrolment_id>/complete", methods=["GET", "POST"])
@staff_only
def enrolment_complete(enrolment_id: int):
    enrolment = _load_enrolment(enrolment_id)
    require(permissions.can_view_cohort(current_user, enrolment.cohort))
    require(permissions.can_complete(current_user, enrolment), hide=False)
    form = forms.ConfirmForm()
    now = clock.now()
    if form.validate_on_submit():
        try:
            services.complete_enrolment(db.session, enrolment.id, actor=current_user, now=now)
        except DomainError as problem:
            _problem(form, "submit", problem)
        else:
            return _done(f"{enrolment.user.name} has completed the course", "training.enrolment_detail",
                         enrolment_id=enrolment.id)
    problems = services.completion_problems(db.session, enrolment, on=clock.today())
    return render_template("training/complete.html", enrolment=enrolment, form=form, problems=problems,
                           title=f"Record completion: {enrolment.user.name}")


@bp.route("/enrolments/<int:enrolment_id>/certificate")
@login_required
def certificate(enrolment_id: int):
    enrolment = _load_enrolment(enrolment_id)
    require(permissions.can_view_certificate(current_user, enrolment))
    return render_template("training/certificate.html", enrolment=enrolment, cohort=enrolment.cohort,
                           course=enrolment.cohort.course, title=f"Certificate: {enrolment.cohort.course.title}")

"""Interview pages: coordinators' slot list, creating (singly or as a series), changing and cancelling
interview times, inviting and booking for an applicant, and the interview record; applicants choose,
change and cancel their own interview. Each route: load → authorise → validate → call one service →
commit and respond. The application pages show interviews through the two panels at the bottom.
"""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SelectChoice

from portal.core import clock
from portal.core.accounts import Role
from portal.core.errors import NotFound, RuleViolation
from portal.extensions import db
from portal.volunteers import queries as application_queries
from portal.volunteers.interviews import permissions, queries, services
from portal.volunteers.interviews.models import Criterion, InterviewBooking, InterviewSlot
from portal.volunteers.models import Application, ApplicationStatus
from portal.volunteers.web import interview_forms as forms
from portal.volunteers.web.blueprint import applicant_panel, bp, coordinator_panel
from portal.web.decorators import require, role_required
from portal.web.forms import add_service_problem
from portal.web.links import external_url
from portal.web.pagination import page_arg, pagination

S = ApplicationStatus
coordinator_only = role_required(Role.COORDINATOR)
applicant_or_coordinator = role_required(Role.APPLICANT, Role.COORDINATOR)
SLOTS_PAGE_SIZE = 50


# ---------------------------------------------------------------------------------------------
# Helpers


def _slot_label(slot: InterviewSlot) -> str:
    return f"{services.london_label(slot.starts_at)} to {services.london_time(slot.ends_at)}"


def _slot_hint(slot: InterviewSlot, *, places: bool = True) -> str:
    where = "Online (video call)" if slot.online_link else f"In person at {slot.where}"
    if not places:
        return where
    left = slot.places_left
    return f"{where}. {left} place{'s' if left != 1 else ''} left"


def _slot_choices(slots: list[InterviewSlot]) -> list[SelectChoice]:
    return [SelectChoice(slot.id, _slot_label(slot)) for slot in slots]


def _put_errors(form, problem: RuleViolation, fallback: str) -> None:
    """Put a service's messages on the matching fields, so the page's error summary lists them."""
    db.session.rollback()
    errors = getattr(problem, "errors", None)
    if errors:
        for name, messages in errors.items():
            field = form._fields.get(name) or form._fields[fallback]
            field.errors = [*field.errors, *messages]
        form._errors = None
        return
    name = getattr(problem, "field", None) or fallback
    add_service_problem(form, form._fields.get(name) or form._fields[fallback], problem)


def _interviewer_choices() -> list[SelectChoice]:
    return [SelectChoice(person.id, person.name) for person in queries.list_coordinators(db.session)]


def _booking_url() -> str:
    return external_url("volunteers.interview_choose")


def _manage_url() -> str:
    return external_url("volunteers.progress")


def _application_for_coordinator(application_id: int) -> Application:
    application = application_queries.get_application(db.session, application_id)  # NotFound -> 404
    require(permissions.can_manage_slots(current_user) and not application.is_draft)
    return application


def _own_application() -> Application | None:
    return application_queries.find_current_application(db.session, current_user.id)


def _booking(booking_id: int) -> InterviewBooking:
    booking = queries.get_booking(db.session, booking_id)  # NotFound -> 404 page
    require(permissions.can_view_booking(current_user, booking))
    return booking


def _after_booking_change(booking: InterviewBooking):
    if permissions.can_manage_slots(current_user):
        return redirect(url_for("volunteers.application_detail", application_id=booking.application_id))
    return redirect(url_for("volunteers.progress"))


# ---------------------------------------------------------------------------------------------
# Slots (coordinators)


@bp.route("/interviews")
@coordinator_only
def slot_list():
    found = queries.upcoming_slots_page(db.session, now=clock.now(), page=page_arg(), per_page=SLOTS_PAGE_SIZE)
    return render_template("volunteers/interviews/slots.html", found=found, slot_label=_slot_label,
                           slot_hint=_slot_hint, title="Interview times",
                           pagination=pagination(found.window, "volunteers.slot_list", {},
                                                 label="Pages of upcoming interview times"))


def _slot_details(form) -> services.SlotDetails:
    return services.SlotDetails(
        day=form.day.data, start_time=form.start_time.data, length_minutes=form.length_minutes.data,
        mode=form.mode.data, venue=form.venue.data, address=form.address.data, online_link=form.online_link.data,
        interviewer_ids=form.interviewer_ids.data or [], capacity=form.capacity.data,
    )


@bp.route("/interviews/new", methods=["GET", "POST"])
@coordinator_only
def slot_new():
    form = forms.NewSlotsForm()
    form.interviewer_ids.choices = _interviewer_choices()
    if not form.is_submitted():
        form.interviewer_ids.data = [current_user.id]
    status = 200
    if form.validate_on_submit():
        series = services.SeriesPattern(every_minutes=form.every_minutes.data, until=form.until.data,
                                        weeks=form.weeks.data)
        try:
            slots = services.create_slots(db.session, _slot_details(form), series=series, actor=current_user,
                                          now=clock.now())
        except RuleViolation as problem:
            _put_errors(form, problem, "day")
            status = 400
        else:
            db.session.commit()
            flash(f"{len(slots)} interview time{'s' if len(slots) != 1 else ''} created", "success")
            return redirect(url_for("volunteers.slot_list"))
    elif form.is_submitted():
        status = 400
    return render_template("volunteers/interviews/slot_form.html", form=form, series=True,
                           title="Create interview times"), status


@bp.route("/interviews/<int:slot_id>/edit", methods=["GET", "POST"])
@coordinator_only
def slot_edit(slot_id: int):
    slot = queries.get_slot(db.session, slot_id)
    if slot.is_cancelled:
        flash("That interview time has been cancelled", "error")
        return redirect(url_for("volunteers.slot_list"))
    form = forms.SlotForm()
    form.interviewer_ids.choices = _interviewer_choices()
    if not form.is_submitted():
        local = slot.starts_at.astimezone(clock.LONDON)
        form.day.data, form.start_time.data = local.date(), local.time()
        form.length_minutes.data, form.mode.data = slot.length_minutes, slot.mode.value
        form.venue.data, form.address.data, form.online_link.data = slot.venue, slot.address, slot.online_link
        form.interviewer_ids.data = [person.id for person in slot.interviewers]
        form.capacity.data = slot.capacity
    status = 200
    if form.validate_on_submit():
        try:
            services.update_slot(db.session, slot.id, _slot_details(form), actor=current_user, now=clock.now(),
                                 manage_url=_manage_url())
        except RuleViolation as problem:
            _put_errors(form, problem, "day")
            slot = queries.get_slot(db.session, slot_id)
            status = 400
        else:
            db.session.commit()
            flash("Interview time updated. Anyone booked has been sent the new details.", "success")
            return redirect(url_for("volunteers.slot_list"))
    elif form.is_submitted():
        status = 400
    return render_template("volunteers/interviews/slot_form.html", form=form, series=False, slot=slot,
                           slot_label=_slot_label, title="Change interview time"), status


@bp.route("/interviews/<int:slot_id>/cancel", methods=["GET", "POST"])
@coordinator_only
def slot_cancel(slot_id: int):
    slot = queries.get_slot(db.session, slot_id)
    form = forms.CancelSlotForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.cancel_slot(db.session, slot.id, form.reason.data, actor=current_user, now=clock.now(),
                                 booking_url=_booking_url())
        except RuleViolation as problem:
            _put_errors(form, problem, "reason")
            slot = queries.get_slot(db.session, slot_id)
            status = 400
        else:
            db.session.commit()
            flash("Interview time cancelled. Anyone booked has been told and asked to book again.", "success")
            return redirect(url_for("volunteers.slot_list"))
    elif form.is_submitted():
        status = 400
    return render_template("volunteers/interviews/slot_cancel.html", form=form, slot=slot,
                           slot_label=_slot_label, reason_max=services.REASON_MAX,
                           title="Cancel interview time"), status


# ---------------------------------------------------------------------------------------------
# Inviting and booking for an applicant (coordinators)


@bp.route("/applications/<int:application_id>/interview/invite", methods=["POST"])
@coordinator_only
def interview_invite(application_id: int):
    application = _application_for_coordinator(application_id)
    form = forms.InviteForm()
    if form.validate_on_submit():
        try:
            services.invite_to_book(db.session, application.id, actor=current_user, now=clock.now(),
                                    booking_url=_booking_url())
        except RuleViolation as problem:
            db.session.rollback()
            flash(str(problem), "error")
        else:
            db.session.commit()
            flash(f"We have e-mailed {application.display_name} inviting them to choose an interview time",
                  "success")
    return redirect(url_for("volunteers.application_detail", application_id=application.id))


def _choose_page(form, *, slots, application, heading, back_url, status=200, booking=None):
    return render_template(
        "volunteers/interviews/choose.html", form=form, slots=slots, application=application, booking=booking,
        back_url=back_url, title=heading, slot_label=_slot_label,
        hints=[{"hint": {"text": _slot_hint(slot)}} for slot in slots],
    ), status


@bp.route("/applications/<int:application_id>/interview/book", methods=["GET", "POST"])
@coordinator_only
def interview_book_for(application_id: int):
    application = _application_for_coordinator(application_id)
    back_url = url_for("volunteers.application_detail", application_id=application.id)
    if application.status != S.SHORTLISTED:
        flash("Only a shortlisted applicant can be booked for interview", "error")
        return redirect(back_url)
    # Coordinators may book at short notice (the applicant's minimum notice does not apply).
    slots = queries.list_bookable_slots(db.session, now=clock.now(), notice=dt.timedelta(0))
    form = forms.ChooseSlotForm()
    form.slot_id.choices = _slot_choices(slots)
    status = 200
    if form.validate_on_submit():
        try:
            services.book_interview(db.session, application.id, form.slot_id.data, actor=current_user,
                                    now=clock.now(), manage_url=_manage_url())
        except (RuleViolation, NotFound) as problem:
            _put_errors(form, RuleViolation(reasons=problem.reasons), "slot_id")
            status = 409
        else:
            db.session.commit()
            flash(f"Interview booked for {application.display_name}. We have e-mailed them the invitation.",
                  "success")
            return redirect(back_url)
    elif form.is_submitted():
        status = 400
    return _choose_page(form, slots=slots, application=application, back_url=back_url, status=status,
                        heading=f"Book an interview for {application.display_name}")


# ---------------------------------------------------------------------------------------------
# The applicant's own interview


@bp.route("/application/interview", methods=["GET", "POST"])
@role_required(Role.APPLICANT)
def interview_choose():
    application = _own_application()
    if application is None:
        return redirect(url_for("volunteers.application"))
    booking = queries.find_active_booking(db.session, application.id)
    if booking is not None and application.status == S.INTERVIEW_BOOKED:
        return redirect(url_for("volunteers.interview_change", booking_id=booking.id))
    if application.status != S.SHORTLISTED:
        return redirect(url_for("volunteers.progress"))
    slots = queries.list_bookable_slots(db.session, now=clock.now())
    form = forms.ChooseSlotForm()
    form.slot_id.choices = _slot_choices(slots)
    status = 200
    if form.validate_on_submit():
        try:
            services.book_interview(db.session, application.id, form.slot_id.data, actor=current_user,
                                    now=clock.now(), manage_url=_manage_url())
        except (RuleViolation, NotFound) as problem:
            _put_errors(form, RuleViolation(reasons=problem.reasons), "slot_id")
            slots = queries.list_bookable_slots(db.session, now=clock.now())
            form.slot_id.choices = _slot_choices(slots)
            status = 409
        else:
            db.session.commit()
            flash("Your interview is booked. We have e-mailed you a calendar invitation.", "success")
            return redirect(url_for("volunteers.progress"))
    elif form.is_submitted():
        status = 400
    return _choose_page(form, slots=slots, application=application, back_url=url_for("volunteers.progress"),
                        status=status, heading="Choose a time for your interview")


@bp.route("/interviews/bookings/<int:booking_id>/change", methods=["GET", "POST"])
@applicant_or_coordinator
def interview_change(booking_id: int):
    booking = _booking(booking_id)
    application = booking.application
    back = _after_booking_change(booking)
    if not permissions.can_change_booking(current_user, booking):
        flash("This interview can no longer be changed", "error")
        return back
    coordinator = permissions.can_manage_slots(current_user)
    notice = dt.timedelta(0) if coordinator else None

    def choices():
        return queries.list_bookable_slots(db.session, now=clock.now(), notice=notice, exclude_slot_id=booking.slot_id)

    slots = choices()
    form = forms.ChooseSlotForm()
    form.slot_id.choices = _slot_choices(slots)
    form.submit.label.text = "Change to this time"
    status = 200
    if form.validate_on_submit():
        try:
            services.move_booking(db.session, booking.id, form.slot_id.data, actor=current_user, now=clock.now(),
                                  manage_url=_manage_url())
        except (RuleViolation, NotFound) as problem:
            _put_errors(form, RuleViolation(reasons=problem.reasons), "slot_id")
            booking = queries.get_booking(db.session, booking_id)
            slots = choices()
            form.slot_id.choices = _slot_choices(slots)
            status = 409
        else:
            db.session.commit()
            flash("The interview has moved. We have e-mailed an updated calendar invitation.", "success")
            return back
    elif form.is_submitted():
        status = 400
    return _choose_page(form, slots=slots, application=application, booking=booking, back_url=back.location,
                        status=status, heading="Change the interview time")


@bp.route("/interviews/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@applicant_or_coordinator
def interview_cancel(booking_id: int):
    booking = _booking(booking_id)
    back = _after_booking_change(booking)
    if not permissions.can_change_booking(current_user, booking):
        flash("This interview can no longer be cancelled", "error")
        return back
    form = forms.CancelBookingForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.cancel_booking(db.session, booking.id, actor=current_user, now=clock.now(),
                                    reason=form.reason.data, booking_url=_booking_url())
        except RuleViolation as problem:
            _put_errors(form, problem, "reason")
            booking = queries.get_booking(db.session, booking_id)
            status = 409
        else:
            db.session.commit()
            flash("The interview is cancelled. We have e-mailed a cancellation for the calendar.", "success")
            return back
    elif form.is_submitted():
        status = 400
    return render_template("volunteers/interviews/booking_cancel.html", form=form, booking=booking,
                           back_url=back.location, slot_label=_slot_label, reason_max=services.REASON_MAX,
                           own=booking.application.user_id == current_user.id,
                           title="Cancel the interview"), status


# ---------------------------------------------------------------------------------------------
# The interview record (coordinators)


def _record_details(form) -> services.RecordDetails:
    return services.RecordDetails(
        scores={c.value: form[f"{c.value}_score"].data for c in Criterion},
        notes={c.value: form[f"{c.value}_notes"].data for c in Criterion},
        outcome=form.outcome.data, reason=form.reason.data, panel_ids=form.panel_ids.data or [],
    )


@bp.route("/applications/<int:application_id>/interview/record", methods=["GET", "POST"])
@coordinator_only
def interview_record(application_id: int):
    application = _application_for_coordinator(application_id)
    back_url = url_for("volunteers.application_detail", application_id=application.id)
    if application.status not in (S.INTERVIEW_BOOKED, S.INTERVIEWED):
        flash("An interview can be recorded only once it is booked", "error")
        return redirect(back_url)
    record = queries.find_record(db.session, application.id)
    booking = queries.find_active_booking(db.session, application.id)
    form = forms.RecordForm()
    form.panel_ids.choices = _interviewer_choices()
    if not form.is_submitted():
        if record is not None:
            for score in record.scores:
                form[f"{score.criterion.value}_score"].data = str(score.score)
                form[f"{score.criterion.value}_notes"].data = score.notes
            form.outcome.data, form.reason.data = record.outcome.value, record.outcome_reason
            form.panel_ids.data = [person.id for person in record.panel]
        elif booking is not None:
            form.panel_ids.data = [person.id for person in booking.slot.interviewers]
    status = 200
    if form.validate_on_submit():
        try:
            services.save_interview_record(db.session, application.id, _record_details(form), actor=current_user,
                                           now=clock.now())
        except RuleViolation as problem:
            _put_errors(form, problem, "outcome")
            application = application_queries.get_application(db.session, application_id)
            status = 400
        else:
            db.session.commit()
            flash("Interview record saved", "success")
            return redirect(back_url)
    elif form.is_submitted():
        status = 400
    return render_template(
        "volunteers/interviews/record.html", form=form, application=application, record=record, booking=booking,
        criteria=list(Criterion), back_url=back_url, slot_label=_slot_label,
        title=f"Interview record: {application.display_name}",
    ), status


# ---------------------------------------------------------------------------------------------
# Panels on the application pages


@coordinator_panel(10, "volunteers/interviews/_coordinator_panel.html")
def coordinator_interview_panel(application: Application):
    if application.status in (S.DRAFT, S.SUBMITTED):
        return None
    record = queries.find_record(db.session, application.id)
    bookings = queries.list_bookings(db.session, application.id)
    if application.status not in (S.SHORTLISTED, S.INTERVIEW_BOOKED, S.INTERVIEWED) and not (record or bookings):
        return None
    booking = next((b for b in bookings if b.is_active), None)
    return {
        "application": application,
        "booking": booking,
        "cancelled": [b for b in bookings if not b.is_active],
        "invitation": queries.find_latest_invitation(db.session, application.id),
        "record": record,
        "criteria": list(Criterion),
        "invite_form": forms.InviteForm(),
        "can_invite": application.status == S.SHORTLISTED,
        "can_book": application.status == S.SHORTLISTED,
        "can_change": booking is not None and permissions.can_change_booking(current_user, booking),
        "can_record": application.status in (S.INTERVIEW_BOOKED, S.INTERVIEWED),
        "slot_label": _slot_label,
    }


@applicant_panel(10, "volunteers/interviews/_applicant_panel.html")
def applicant_interview_panel(application: Application):
    if application.status not in (S.SHORTLISTED, S.INTERVIEW_BOOKED, S.INTERVIEWED):
        return None
    booking = queries.find_active_booking(db.session, application.id)
    return {
        "application": application,
        "booking": booking,
        "must_book": application.status == S.SHORTLISTED,
        "open_slots": len(queries.list_bookable_slots(db.session, now=clock.now()))
        if application.status == S.SHORTLISTED else 0,
        "can_change": booking is not None and permissions.can_change_booking(current_user, booking),
        "slot_label": _slot_label,
    }

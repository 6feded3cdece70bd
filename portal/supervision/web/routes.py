"""Volunteers' supervision pages: their due date, debrief prompts and bookings; open slots as a list and
a week view; booking, moving and cancelling. Each route: load → authorise → validate → call one
service → commit and respond. Someone else's booking is a 404.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal.core import clock
from portal.core.accounts import Role
from portal.core.errors import RuleViolation
from portal.extensions import db
from portal.supervision import permissions, queries, services
from portal.supervision.models import BookingPurpose, SlotKind, SupervisionBooking, SupervisionSlot
from portal.supervision.web import forms
from portal.supervision.web.blueprint import bp
from portal.web.decorators import require, role_required
from portal.web.forms import add_service_problem
from portal.web.input import date_arg
from portal.web.links import external_url
from portal.web.pagination import page_arg, pagination

volunteers_only = role_required(Role.VOLUNTEER)


def put_errors(form, problem: RuleViolation, fallback: str) -> None:
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


def mine_url() -> str:
    return external_url("supervision.mine")


def slots_url() -> str:
    return external_url("supervision.slots")


def load_booking(booking_id: int) -> SupervisionBooking:
    booking = queries.get_booking(db.session, booking_id)  # NotFound -> 404 page
    require(permissions.can_view_booking(current_user, booking,
                                         is_supervisor=queries.is_supervisor(db.session, current_user)))
    return booking


def slot_hint(slot: SupervisionSlot) -> str:
    where = "Online (video call)" if slot.online_link else f"In person at {slot.venue}"
    kind = "Group" if slot.kind == SlotKind.GROUP else "Individual"
    left = slot.places_left
    places = f"{left} place{'s' if left != 1 else ''} left" if slot.kind == SlotKind.GROUP else "1 place"
    return f"{kind} with {slot.supervisor.name}. {where}. {places}"


# ---------------------------------------------------------------------------------------------
# The volunteer's own page


@bp.route("/")
@login_required
def mine():
    if not permissions.can_book_slots(current_user):
        if queries.is_supervisor(db.session, current_user):
            return redirect(url_for("supervision.manage"))
        abort(403)
    now = clock.now()
    bookings = queries.list_bookings_of(db.session, current_user.id)
    upcoming = [b for b in bookings if b.is_live and b.slot.ends_at > now and not b.slot.is_cancelled]
    upcoming.reverse()
    past = [b for b in bookings if b.slot.ends_at <= now or not b.is_live]
    return render_template(
        "supervision/mine.html", title="Your supervision",
        due=queries.find_supervision_due(db.session, current_user.id, now=now),
        prompts=queries.list_debrief_prompts(db.session, current_user.id, now=now),
        upcoming=upcoming, past=past, now=now, slot_label=services.slot_label,
    )


# ---------------------------------------------------------------------------------------------
# Open slots: a list and a week view


SLOTS_PAGE_SIZE = 50
MOVE_CHOICES_PAGE_SIZE = 20


@bp.route("/slots")
@volunteers_only
def slots():
    """Sessions the volunteer can book, soonest first, 50 a page."""
    purpose = request.args.get("purpose", "")
    purpose = purpose if purpose in {p.value for p in BookingPurpose} else ""
    found = queries.bookable_slots_page(db.session, now=clock.now(), user_id=current_user.id, page=page_arg(),
                                        per_page=SLOTS_PAGE_SIZE)
    return render_template("supervision/slots.html", title="Book supervision", slots=found.rows, window=found.window,
                           pagination=pagination(found.window, "supervision.slots", {"purpose": purpose},
                                                 label="Pages of sessions"),
                           slot_label=services.slot_label, slot_hint=slot_hint, purpose=purpose)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@bp.route("/slots/week")
@volunteers_only
def week():
    now = clock.now()
    start = _monday(date_arg("start") or clock.today())
    days = [start + dt.timedelta(days=number) for number in range(7)]
    window_start = clock.london_to_utc(start, dt.time())
    window_end = clock.london_to_utc(start + dt.timedelta(days=7), dt.time())
    bookable = {slot.id for slot in queries.list_bookable_slots(db.session, now=now, user_id=current_user.id,
                                                                until=window_end)}
    by_day: dict[dt.date, list[SupervisionSlot]] = {day: [] for day in days}
    for slot in queries.list_slots_between(db.session, window_start, window_end):
        by_day[queries.london_day(slot.starts_at)].append(slot)
    return render_template(
        "supervision/week.html", title=f"Supervision in the week of {start:%-d %B %Y}", days=days, by_day=by_day,
        bookable=bookable, previous_week=start - dt.timedelta(days=7), next_week=start + dt.timedelta(days=7),
        slot_hint=slot_hint,
    )


# ---------------------------------------------------------------------------------------------
# Booking, moving and cancelling


@bp.route("/slots/<int:slot_id>/book", methods=["GET", "POST"])
@volunteers_only
def book(slot_id: int):
    slot = queries.get_slot(db.session, slot_id)
    form = forms.BookForm()
    if not form.is_submitted() and request.args.get("purpose") in {p.value for p in BookingPurpose}:
        form.purpose.data = request.args["purpose"]
    status = 200
    if form.validate_on_submit():
        if slot.kind == SlotKind.GROUP and not form.ground_rules.data:
            form.ground_rules.errors = ["Confirm that you will keep what others share confidential"]
            form._errors = None
            status = 400
        else:
            try:
                services.book_slot(db.session, slot.id, user_id=current_user.id, purpose=form.purpose.data,
                                   actor=current_user, now=clock.now(), manage_url=mine_url())
            except RuleViolation as problem:
                put_errors(form, problem, "purpose")
                slot = queries.get_slot(db.session, slot_id)
                status = 400
            else:
                db.session.commit()
                flash(f"Supervision booked: {services.slot_label(slot)}. We have e-mailed you a calendar invitation.",
                      "success")
                return redirect(url_for("supervision.mine"))
    elif form.is_submitted():
        status = 400
    return render_template("supervision/book.html", title="Book this session", form=form, slot=slot,
                           slot_label=services.slot_label, slot_hint=slot_hint), status


@bp.route("/bookings/<int:booking_id>")
@login_required
def booking_detail(booking_id: int):
    booking = load_booking(booking_id)
    record = booking.record
    return render_template(
        "supervision/booking.html", title="Supervision booking", booking=booking, record=record,
        slot_label=services.slot_label, now=clock.now(), is_own=booking.user_id == current_user.id,
        can_record=permissions.can_record_session(
            current_user, booking, is_supervisor=queries.is_supervisor(db.session, current_user), now=clock.now()),
    )


@bp.route("/bookings/<int:booking_id>/move", methods=["GET", "POST"])
@login_required
def move(booking_id: int):
    booking = load_booking(booking_id)
    require(booking.user_id == current_user.id)
    now = clock.now()
    form = forms.MoveForm()
    # The sessions to move to, 20 a page (the form posts back to the page it is on); the service checks
    # whatever is chosen.
    found = queries.bookable_slots_page(db.session, now=now, user_id=current_user.id, page=page_arg(),
                                        per_page=MOVE_CHOICES_PAGE_SIZE, exclude_slot_id=booking.slot_id)
    choices = found.rows
    form.slot_id.choices = [SelectChoice(slot.id, services.slot_label(slot)) for slot in choices]
    status = 200
    if form.validate_on_submit():
        try:
            moved = services.move_booking(db.session, booking.id, form.slot_id.data, actor=current_user, now=now,
                                          manage_url=mine_url())
        except RuleViolation as problem:
            put_errors(form, problem, "slot_id")
            booking = load_booking(booking_id)
            status = 400
        else:
            db.session.commit()
            flash(f"Booking moved to {services.slot_label(moved.slot)}. We have e-mailed you the updated invitation.",
                  "success")
            return redirect(url_for("supervision.mine"))
    elif form.is_submitted():
        status = 400
    return render_template("supervision/move.html", title="Move your booking", form=form, booking=booking,
                           slots=choices, window=found.window, slot_label=services.slot_label, slot_hint=slot_hint,
                           pagination=pagination(found.window, "supervision.move", {}, label="Pages of sessions",
                                                 booking_id=booking.id)), status


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(booking_id: int):
    booking = load_booking(booking_id)
    form = forms.CancelBookingForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.cancel_booking(db.session, booking.id, actor=current_user, now=clock.now(),
                                    reason=form.reason.data, booking_url=slots_url())
        except RuleViolation as problem:
            put_errors(form, problem, "reason")
            booking = load_booking(booking_id)
            status = 400
        else:
            db.session.commit()
            if booking.user_id == current_user.id:
                flash("Booking cancelled. We have e-mailed you a calendar cancellation.", "success")
                return redirect(url_for("supervision.mine"))
            flash(f"{booking.user.name}'s booking cancelled. They have been told.", "success")
            return redirect(url_for("supervision.manage"))
    elif form.is_submitted():
        status = 400
    return render_template("supervision/cancel_booking.html", title="Cancel the booking", form=form,
                           booking=booking, slot_label=services.slot_label,
                           is_own=booking.user_id == current_user.id), status

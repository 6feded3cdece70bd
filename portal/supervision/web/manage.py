"""Supervisors' and coordinators' supervision pages: their slots and who booked, publishing (once or as
a series), changing and cancelling slots, recording sessions and reading records; and, for
coordinators, the cadence list (overdue and due soon), naming supervisors and the cadence rules.
"""

from __future__ import annotations

import datetime as dt
from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from portal.core import clock
from portal.core.accounts import Role, User
from portal.core.errors import RuleViolation
from portal.extensions import db
from portal.supervision import cadence as cadence_queries
from portal.supervision import permissions, queries, rules, services
from portal.supervision.models import SlotKind
from portal.supervision.web import forms
from portal.supervision.web.blueprint import bp
from portal.supervision.web.routes import mine_url, put_errors, slots_url
from portal.web.decorators import require, role_required
from portal.web.input import int_arg
from portal.web.pagination import page_arg, pagination

coordinators_only = role_required(Role.COORDINATOR)


def supervisors_only(view):
    """Coordinators and named supervisors; anyone else gets 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not queries.is_supervisor(db.session, current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _supervisor_choices() -> list[SelectChoice]:
    if permissions.can_see_cadence(current_user):
        people = queries.list_possible_supervisors(db.session)
    else:
        people = [current_user]
    return [SelectChoice(person.id, person.name) for person in people]


def _people_search(search_people) -> dict:
    """A search for the person to choose (`?q=`, or the `q` a posted form carried): the template's
    `search_form`, `search` and, when something was searched for, `matches` (at most PEOPLE_MATCHES,
    from `search_people(text)`) and `more_matches`. Choosing from a search keeps the page small however
    many people there are."""
    search_form = forms.PersonSearchForm(request.args if request.method == "GET" else
                                         MultiDict({"q": request.form.get("q", "")}))
    search_form.validate()
    text = "" if search_form.q.errors else " ".join((search_form.q.data or "").split())
    matches, more = search_people(text) if text else ([], False)
    return {"search_form": search_form, "search": text, "matches": matches, "more_matches": more}


def _details(form) -> services.SlotDetails:
    return services.SlotDetails(
        day=form.day.data, start_time=form.start_time.data, length_minutes=form.length_minutes.data,
        kind=form.kind.data, mode=form.mode.data, supervisor_id=form.supervisor_id.data, capacity=form.capacity.data,
        venue=form.venue.data, online_link=form.online_link.data,
        minimum_notice_hours=form.minimum_notice_hours.data, cutoff_hours=form.cutoff_hours.data,
    )


MANAGE_PAGE_SIZE = 50
PEOPLE_MATCHES = 20


@bp.route("/manage")
@supervisors_only
def manage():
    """Upcoming sessions (soonest first, 50 a page) and the 50 latest of the last four weeks (whose records
    can still be written); or, with `view=recent`, all of those, 50 a page. A coordinator sees everyone's,
    or one supervisor's. The statements do not grow with the number of sessions."""
    now = clock.now()
    recent = request.args.get("view") == "recent"
    is_coordinator = permissions.can_see_cadence(current_user)
    supervisors = queries.list_possible_supervisors(db.session) if is_coordinator else []
    supervisor_id = int_arg("supervisor") if is_coordinator else None
    if supervisor_id not in {person.id for person in supervisors}:
        supervisor_id = None
    slots = queries.managed_slots_page(db.session, current_user, now=now, upcoming=not recent, page=page_arg(),
                                       per_page=MANAGE_PAGE_SIZE, supervisor_id=supervisor_id)
    # Below the upcoming sessions, the latest of the last four weeks (to record), linking to them all.
    latest = None if recent else queries.managed_slots_page(
        db.session, current_user, now=now, upcoming=False, page=1, per_page=MANAGE_PAGE_SIZE,
        supervisor_id=supervisor_id)
    narrowed = {key: value for key, value in (("view", "recent" if recent else ""),
                                              ("supervisor", str(supervisor_id or ""))) if value}
    return render_template(
        "supervision/manage.html", title="Supervision sessions", slots=slots.rows, window=slots.window,
        latest=latest,
        recent=recent, supervisors=supervisors, supervisor_id=supervisor_id, narrowed=narrowed,
        pagination=pagination(slots.window, "supervision.manage", narrowed, label="Pages of sessions"),
        slot_label=services.slot_label, now=now, is_coordinator=is_coordinator,
    )


@bp.route("/manage/slots/new", methods=["GET", "POST"])
@supervisors_only
def slot_new():
    form = forms.NewSlotsForm()
    form.supervisor_id.choices = _supervisor_choices()
    if not form.is_submitted():
        form.supervisor_id.data = current_user.id
        form.kind.data, form.mode.data = SlotKind.INDIVIDUAL.value, "in_person"
    status = 200
    if form.validate_on_submit():
        try:
            slots = services.publish_slots(db.session, _details(form), repeat=form.repeat.data or "none",
                                           occurrences=form.occurrences.data, actor=current_user, now=clock.now())
        except RuleViolation as problem:
            put_errors(form, problem, "day")
            status = 400
        else:
            db.session.commit()
            flash(f"{len(slots)} supervision session{'s' if len(slots) != 1 else ''} published", "success")
            return redirect(url_for("supervision.manage"))
    elif form.is_submitted():
        status = 400
    return render_template("supervision/slot_form.html", title="Publish supervision", form=form, series=True), status


def _managed_slot(slot_id: int):
    slot = queries.get_slot(db.session, slot_id)
    require(permissions.can_manage_slot(current_user, slot, is_supervisor=queries.is_supervisor(db.session,
                                                                                                 current_user)))
    return slot


@bp.route("/manage/slots/<int:slot_id>/edit", methods=["GET", "POST"])
@supervisors_only
def slot_edit(slot_id: int):
    slot = _managed_slot(slot_id)
    form = forms.SlotForm()
    form.supervisor_id.choices = _supervisor_choices()
    if not form.is_submitted():
        local = slot.starts_at.astimezone(clock.LONDON)
        form.day.data, form.start_time.data = local.date(), local.time()
        form.length_minutes.data, form.kind.data = slot.length_minutes, slot.kind.value
        form.capacity.data = slot.capacity
        form.mode.data, form.venue.data, form.online_link.data = slot.mode.value, slot.venue, slot.online_link
        form.supervisor_id.data = slot.supervisor_id
        form.minimum_notice_hours.data, form.cutoff_hours.data = slot.minimum_notice_hours, slot.cutoff_hours
    status = 200
    if form.validate_on_submit():
        try:
            services.update_slot(db.session, slot.id, _details(form), actor=current_user, now=clock.now(),
                                 manage_url=mine_url())
        except RuleViolation as problem:
            put_errors(form, problem, "day")
            slot = _managed_slot(slot_id)
            status = 400
        else:
            db.session.commit()
            flash("Session updated. Anyone booked has been sent the new details.", "success")
            return redirect(url_for("supervision.manage"))
    elif form.is_submitted():
        status = 400
    return render_template("supervision/slot_form.html", title="Change the session", form=form, series=False,
                           slot=slot), status


@bp.route("/manage/slots/<int:slot_id>/cancel", methods=["GET", "POST"])
@supervisors_only
def slot_cancel(slot_id: int):
    slot = _managed_slot(slot_id)
    form = forms.CancelSlotForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.cancel_slot(db.session, slot.id, form.reason.data, actor=current_user, now=clock.now(),
                                 booking_url=slots_url())
        except RuleViolation as problem:
            put_errors(form, problem, "reason")
            slot = _managed_slot(slot_id)
            status = 400
        else:
            db.session.commit()
            flash("Session cancelled. Everyone booked has been told.", "success")
            return redirect(url_for("supervision.manage"))
    elif form.is_submitted():
        status = 400
    return render_template("supervision/slot_cancel.html", title="Cancel the session", form=form, slot=slot,
                           slot_label=services.slot_label), status


@bp.route("/manage/slots/<int:slot_id>/book-for", methods=["GET", "POST"])
@supervisors_only
def slot_book_for(slot_id: int):
    """Book a volunteer in; the minimum notice does not apply (a debrief after a hard meeting can be soon)."""
    slot = _managed_slot(slot_id)
    form = forms.BookForForm()
    found = _people_search(lambda text: queries.search_active_volunteers(
        db.session, text, limit=PEOPLE_MATCHES, leaving_out=slot.supervisor_id))
    form.user_id.choices = [SelectChoice(person.id, f"{person.name} ({person.email})") for person in found["matches"]]
    status = 200
    if form.validate_on_submit():
        try:
            booking = services.book_slot(db.session, slot.id, user_id=form.user_id.data, purpose=form.purpose.data,
                                         actor=current_user, now=clock.now(), manage_url=mine_url())
        except RuleViolation as problem:
            put_errors(form, problem, "user_id")
            slot = _managed_slot(slot_id)
            status = 400
        else:
            db.session.commit()
            flash(f"{booking.user.name} booked in. We have e-mailed them a calendar invitation.", "success")
            return redirect(url_for("supervision.manage"))
    elif form.is_submitted():
        status = 400
    return render_template("supervision/book_for.html", title="Book a volunteer in", form=form, slot=slot,
                           slot_label=services.slot_label, **found), status


# ---------------------------------------------------------------------------------------------
# Records


@bp.route("/bookings/<int:booking_id>/record", methods=["GET", "POST"])
@login_required
def record(booking_id: int):
    booking = queries.get_booking(db.session, booking_id)
    # The form lists the volunteer's cases: only for a session the person may record now, else 404.
    require(permissions.can_record_session(current_user, booking,
                                           is_supervisor=queries.is_supervisor(db.session, current_user),
                                           now=clock.now()))
    held_on = queries.london_day(booking.slot.starts_at)
    existing = booking.record
    form = forms.RecordForm()
    form.case_ids.choices = [
        SelectChoice(case.case_id, f"{case.reference} ({case.role.label}, {case.district})")
        for case in queries.list_discussable_cases(db.session, booking.user_id, on=held_on)
    ]
    if not form.is_submitted():
        if existing is not None:
            form.attendance.data = existing.attendance.value
            form.case_ids.data = [case.id for case in existing.cases]
            form.actions.data, form.wellbeing_concerns.data = existing.actions, existing.wellbeing_concerns
            form.next_due_on.data = existing.next_due_on
        else:
            cadence = queries.cadence_rules(db.session)
            form.next_due_on.data = held_on + dt.timedelta(weeks=cadence.cadence_weeks)
    status = 200
    if form.validate_on_submit():
        details = services.RecordDetails(
            attendance=form.attendance.data, case_ids=form.case_ids.data or [], actions=form.actions.data,
            wellbeing_concerns=form.wellbeing_concerns.data, next_due_on=form.next_due_on.data,
        )
        try:
            saved = services.record_session(db.session, booking.id, details, actor=current_user, now=clock.now())
        except RuleViolation as problem:
            put_errors(form, problem, "attendance")
            booking = queries.get_booking(db.session, booking_id)
            status = 400
        else:
            db.session.commit()
            flash(f"Session with {booking.user.name} recorded", "success")
            return redirect(url_for("supervision.record_detail", record_id=saved.id))
    elif form.is_submitted():
        status = 400
    return render_template("supervision/record_form.html", title=f"Record supervision with {booking.user.name}",
                           form=form, booking=booking, slot_label=services.slot_label), status


@bp.route("/records/<int:record_id>")
@login_required
def record_detail(record_id: int):
    now = clock.now()
    record = services.view_record(db.session, record_id, actor=current_user, now=now)  # NotFound -> 404
    db.session.commit()  # the viewing is audited
    # The author of an old record reads it, but not the rest of the volunteer's history.
    sees_history = permissions.can_view_history(
        current_user, supervises_volunteer=queries.supervises(db.session, current_user, record.user_id, now=now))
    can_change = permissions.can_record_session(
        current_user, record.booking, is_supervisor=queries.is_supervisor(db.session, current_user), now=now)
    return render_template(
        "supervision/record.html", title=f"Supervision record: {record.user.name}", record=record,
        history=queries.list_records_of(db.session, record.user_id) if sees_history else [],
        can_change=can_change, sees_concerns=permissions.can_read_wellbeing_concerns(current_user, record),
        slot_label=services.slot_label, long_date=rules.long_date,
    )


@bp.route("/volunteers/<int:user_id>")
@login_required
def volunteer(user_id: int):
    """A volunteer's supervision history, for coordinators and the volunteer's current supervisors
    (`queries.supervises`); 404 for anyone else."""
    now = clock.now()
    require(permissions.can_view_history(
        current_user, supervises_volunteer=queries.supervises(db.session, current_user, user_id, now=now)))
    person = db.session.get(User, user_id)
    require(person is not None)
    return render_template(
        "supervision/volunteer.html", title=f"Supervision: {person.name}", person=person,
        due=queries.find_supervision_due(db.session, user_id, now=now),
        bookings=queries.list_bookings_of(db.session, user_id), slot_label=services.slot_label,
        long_date=rules.long_date,
    )


# ---------------------------------------------------------------------------------------------
# Coordinators: cadence, supervisors, rules


CADENCE_PAGE_SIZE = 50
BOOKED_CHOICES = [SelectChoice("", "Booked or not"), SelectChoice(cadence_queries.BookedFilter.BOOKED, "Booked"),
                  SelectChoice(cadence_queries.BookedFilter.NOT_BOOKED, "Not booked")]


def _cadence_filter(form: forms.CadenceFilterForm) -> cadence_queries.CadenceFilter:
    """The filters from the query string; a value that fails its check is left out (its message shows)."""
    form.validate()
    good = {name: field.data for name, field in form._fields.items() if not field.errors}
    supervisor = good.get("supervisor") or ""
    return cadence_queries.CadenceFilter(
        state=rules.DueState(good["state"]) if good.get("state") else None,
        supervisor_id=int(supervisor) if supervisor else None,
        booked=good.get("booked") or "",
        search=" ".join((good.get("search") or "").split()),
    )


def _by_state(rows: list[queries.SupervisionDue]) -> list[tuple[rules.DueState, list[queries.SupervisionDue]]]:
    """The page's rows in a table per state; rows come earliest due first, so each state's are together."""
    groups: list[tuple[rules.DueState, list[queries.SupervisionDue]]] = []
    for row in rows:
        if not groups or groups[-1][0] is not row.state:
            groups.append((row.state, []))
        groups[-1][1].append(row)
    return groups


@bp.route("/cadence")
@coordinators_only
def cadence():
    """Active volunteers' supervision, 50 a page, earliest due first: by state (with counts), supervisor,
    booked or not, and name or e-mail address. Five statements with the signed-in user, however many
    volunteers there are."""
    form = forms.CadenceFilterForm(request.args)
    form.state.choices = [SelectChoice("", "All")] + [SelectChoice(s.value, s.label) for s in rules.DueState]
    form.supervisor.choices = [SelectChoice("", "Any supervisor")] + [
        SelectChoice(str(person.id), person.name) for person in queries.list_possible_supervisors(db.session)]
    form.booked.choices = BOOKED_CHOICES
    filters = _cadence_filter(form)
    result = cadence_queries.supervision_due_page(db.session, now=clock.now(), filters=filters, page=page_arg(),
                                                  per_page=CADENCE_PAGE_SIZE)
    narrowed = {key: value for key, value in (
        ("supervisor", str(filters.supervisor_id or "")), ("booked", filters.booked), ("search", filters.search),
    ) if value}
    state = filters.state.value if filters.state else ""
    return render_template(
        "supervision/cadence.html", title="Supervision due", form=form, result=result, rows=result.page.rows,
        groups=_by_state(result.page.rows),
        state=state, narrowed=narrowed, states=rules.DueState,
        pagination=pagination(result.page.window, "supervision.cadence", {**narrowed, "state": state},
                              label="Pages of volunteers"),
        rules_in_force=result.rules, long_date=rules.long_date, slot_label=services.london_label,
    )


@bp.route("/supervisors", methods=["GET", "POST"])
@coordinators_only
def supervisors():
    form = forms.NameSupervisorForm()
    found = _people_search(lambda text: queries.search_people_to_name(db.session, text, limit=PEOPLE_MATCHES))
    form.user_id.choices = [SelectChoice(person.id, f"{person.name} ({person.email})") for person in found["matches"]]
    status = 200
    if form.validate_on_submit():
        try:
            named = services.name_supervisor(db.session, form.user_id.data, actor=current_user, now=clock.now())
        except RuleViolation as problem:
            put_errors(form, problem, "user_id")
            status = 400
        else:
            db.session.commit()
            flash(f"{named.user.name} can now publish supervision and record sessions", "success")
            return redirect(url_for("supervision.supervisors"))
    elif form.is_submitted():
        status = 400
    return render_template("supervision/supervisors.html", title="Supervisors", form=form,
                           named=queries.list_named_supervisors(db.session),
                           remove_form=forms.RemoveSupervisorForm(), **found), status


@bp.route("/supervisors/<int:user_id>/remove", methods=["POST"])
@coordinators_only
def supervisor_remove(user_id: int):
    form = forms.RemoveSupervisorForm()
    if not form.validate_on_submit():
        abort(400)
    removed = services.remove_supervisor(db.session, user_id, actor=current_user, now=clock.now(),
                                         booking_url=slots_url())
    db.session.commit()
    count = len(removed.cancelled_slots)
    cancelled = (f" {count} upcoming session{'s' if count != 1 else ''} they led cancelled; everyone booked has "
                 "been told." if count else "")
    flash(f"{removed.supervisor.user.name} is no longer a supervisor.{cancelled}", "success")
    return redirect(url_for("supervision.supervisors"))


@bp.route("/rules", methods=["GET", "POST"])
@coordinators_only
def cadence_rules():
    form = forms.RulesForm()
    if not form.is_submitted():
        current = queries.cadence_rules(db.session)
        form.cadence_weeks.data, form.due_soon_days.data = current.cadence_weeks, current.due_soon_days
        form.overdue_blocks_allocation.data = "block" if current.overdue_blocks_allocation else "warn"
    status = 200
    if form.validate_on_submit():
        try:
            services.set_cadence_rules(
                db.session, cadence_weeks=form.cadence_weeks.data, due_soon_days=form.due_soon_days.data,
                overdue_blocks_allocation=form.overdue_blocks_allocation.data == "block", actor=current_user,
                now=clock.now(),
            )
        except RuleViolation as problem:
            put_errors(form, problem, "cadence_weeks")
            status = 400
        else:
            db.session.commit()
            flash("Supervision rules saved", "success")
            return redirect(url_for("supervision.cadence"))
    elif form.is_submitted():
        status = 400
    return render_template("supervision/rules.html", title="Supervision rules", form=form), status

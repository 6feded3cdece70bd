"""Training use cases: courses and cohorts, enrolment and the waiting list, calendar invitations,
registers, make-up days and completion.

Every function takes the Session first and `actor`/`now` as keywords, flushes and never commits,
audits every change and queues mail through the outbox in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal.core import audit, outbox
from portal.core.accounts import Role, User
from portal.core.calendar import CalendarEvent, Method, build_invite, event_uid
from portal.core.clock import LONDON, london_to_utc
from portal.core.errors import NotFound
from portal.training import signals
from portal.training.errors import (
    AlreadyEnrolled,
    CohortInvalid,
    CompletionBlocked,
    EnrolmentRefused,
    MakeUpRefused,
    RegisterInvalid,
)
from portal.training.models import (
    ATTENDED_MARKS,
    COURSE_DAYS,
    LIVE_STATUSES,
    PLACE_STATUSES,
    Attendance,
    AttendanceMark,
    Cohort,
    CohortDay,
    CohortTrainer,
    Course,
    Enrolment,
    EnrolmentStatus,
    MakeUpBooking,
)
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from portal.volunteers.vetting.queries import cleared_to_practise

INVITE_FILENAME = "course-days.ics"
REQUEST_TYPE = "text/calendar; method=REQUEST; charset=UTF-8"
CANCEL_TYPE = "text/calendar; method=CANCEL; charset=UTF-8"
MAX_NEEDS = 500
# A cohort is one group learning together: its four days fall within this many days of day 1.
COHORT_MAX_SPAN_DAYS = 84
REASON_MAX = 500
# Volunteers who may be enrolled: those with an offer who are still on the way to practising.
ENROLLABLE_VOLUNTEER_STATUSES = frozenset({VolunteerStatus.VETTING, VolunteerStatus.TRAINING})

ENROLMENT_TRANSITIONS: dict[EnrolmentStatus, frozenset[EnrolmentStatus]] = {
    EnrolmentStatus.WAITING: frozenset({EnrolmentStatus.ENROLLED, EnrolmentStatus.WITHDRAWN}),
    EnrolmentStatus.ENROLLED: frozenset({EnrolmentStatus.WITHDRAWN, EnrolmentStatus.COMPLETED}),
    EnrolmentStatus.WITHDRAWN: frozenset(),
    EnrolmentStatus.COMPLETED: frozenset(),
}


# ---------------------------------------------------------------------------------------------
# Helpers


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(LONDON).date()


def _london_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LONDON).date()


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(LONDON).strftime("%A %-d %B %Y, %H:%M")


def _load(session: Session, model: type, object_id: int, what: str):
    found = session.get(model, object_id)
    if found is None:
        raise NotFound(f"There is no {what} {object_id}")
    return found


def _lock_cohort(session: Session, cohort_id: int) -> Cohort:
    # Serialises every change to a cohort's places: two people can never take the last one.
    cohort = session.scalar(
        select(Cohort).where(Cohort.id == cohort_id).with_for_update().execution_options(populate_existing=True)
    )
    if cohort is None:
        raise NotFound(f"There is no cohort {cohort_id}")
    return cohort


def _move(enrolment: Enrolment, target: EnrolmentStatus) -> EnrolmentStatus:
    previous = enrolment.status
    if target not in ENROLMENT_TRANSITIONS[previous]:
        raise EnrolmentRefused(f"An enrolment cannot move from {previous.label} to {target.label}")
    enrolment.status = target
    return previous


def _clean(text: str | None, limit: int = MAX_NEEDS) -> str | None:
    text = (text or "").strip()
    return text[:limit] or None


# ---------------------------------------------------------------------------------------------
# Courses


@dataclass(frozen=True)
class CourseDetails:
    title: str
    description: str = ""
    hours: int = 28
    competencies: Sequence[str] = ()


def _course_errors(details: CourseDetails) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not details.title.strip():
        errors["title"] = ["Enter the course title"]
    if details.hours < 1 or details.hours > 200:
        errors["hours"] = ["Hours must be between 1 and 200"]
    competencies = [c.strip() for c in details.competencies if c.strip()]
    if len({c.casefold() for c in competencies}) != len(competencies):
        errors["competencies"] = ["Each competency must be listed once"]
    return errors


def _apply_course(course: Course, details: CourseDetails) -> None:
    course.title = details.title.strip()
    course.description = details.description.strip()
    course.hours = details.hours
    course.competencies = [c.strip() for c in details.competencies if c.strip()]


def create_course(session: Session, details: CourseDetails, *, actor: User, now: dt.datetime) -> Course:
    """A new course; raises CohortInvalid for a missing title, silly hours or repeated competencies."""
    if errors := _course_errors(details):
        raise CohortInvalid(errors)
    course = Course(created_at=now)
    _apply_course(course, details)
    session.add(course)
    session.flush()
    audit.record(session, actor, "training.course_created", course, at=now, title=course.title)
    return course


def update_course(
    session: Session, course_id: int, details: CourseDetails, *, actor: User, now: dt.datetime
) -> Course:
    """Change a course's details; raises NotFound or CohortInvalid."""
    course = _load(session, Course, course_id, "course")
    if errors := _course_errors(details):
        raise CohortInvalid(errors)
    before = {"title": course.title, "hours": course.hours, "competencies": list(course.competencies)}
    _apply_course(course, details)
    session.flush()
    audit.record(session, actor, "training.course_updated", course, at=now, before=before,
                 after={"title": course.title, "hours": course.hours, "competencies": list(course.competencies)})
    return course


# ---------------------------------------------------------------------------------------------
# Cohorts


@dataclass(frozen=True)
class DayTimes:
    """One course day as the coordinator types it: a date and wall-clock times in London."""

    on: dt.date | None
    starts: dt.time | None
    ends: dt.time | None


@dataclass(frozen=True)
class CohortDetails:
    name: str
    capacity: int
    days: Sequence[DayTimes]
    trainer_ids: Sequence[int] = ()
    venue_name: str | None = None
    venue_address: str | None = None
    access_notes: str | None = None
    online_link: str | None = None


def _cohort_errors(
    session: Session, details: CohortDetails, *, now: dt.datetime, cohort: Cohort | None = None
) -> tuple[dict[str, list[str]], list[tuple[dt.datetime, dt.datetime]]]:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not details.name.strip():
        add("name", "Enter a name for the cohort")
    if details.capacity is None or details.capacity < 1:
        add("capacity", "Capacity must be at least 1")
    elif cohort is not None:
        taken = sum(1 for e in cohort.enrolments if e.status is EnrolmentStatus.ENROLLED)
        if details.capacity < taken:
            add("capacity", f"Capacity cannot be below the {taken} people already enrolled")
    has_venue = bool((details.venue_name or "").strip() or (details.venue_address or "").strip())
    link = (details.online_link or "").strip()
    if not has_venue and not link:
        add("venue_name", "Enter a venue (name or address) or an online link")
    if link and not link.startswith(("https://", "http://")):
        add("online_link", "The online link must start with https://")

    times: list[tuple[dt.datetime, dt.datetime]] = []
    if len(details.days) != COURSE_DAYS:
        add("days", f"A cohort has {COURSE_DAYS} days")
    for number, day in enumerate(details.days, start=1):
        if day.on is None or day.starts is None or day.ends is None:
            add("days", f"Enter the date, start and end time of day {number}")
            continue
        starts, ends = london_to_utc(day.on, day.starts), london_to_utc(day.on, day.ends)
        if ends <= starts:
            add("days", f"Day {number} must end after it starts")
        times.append((starts, ends))
    if len(times) == len(details.days) == COURSE_DAYS and "days" not in errors:
        for number in range(1, COURSE_DAYS):
            (previous_start, previous_end), (start, _end) = times[number - 1], times[number]
            if start < previous_start:
                add("days", f"Day {number + 1} is before day {number}: enter the days in order")
            elif start < previous_end:
                add("days", f"Day {number + 1} overlaps day {number}")
            elif _london_date(start) == _london_date(previous_start):
                add("days", f"Day {number + 1} is on the same date as day {number}: each day needs its own date")
        if "days" not in errors and times[-1][0] - times[0][0] > dt.timedelta(days=COHORT_MAX_SPAN_DAYS):
            add("days", f"Day {COURSE_DAYS} is outside the cohort: all {COURSE_DAYS} days must fall within "
                        f"{COHORT_MAX_SPAN_DAYS // 7} weeks of day 1")
        if cohort is None and "days" not in errors and times[0][0] <= now:
            add("days", "Day 1 must be in the future")
    trainer_ids = list(dict.fromkeys(details.trainer_ids))
    if not trainer_ids:
        add("trainer_ids", "Choose at least one trainer")
    for user_id in trainer_ids:
        user = session.get(User, user_id)
        if user is None or user.is_deactivated or not user.has_role(Role.TRAINER):
            add("trainer_ids", "Trainers must be people with the trainer role")
            break
    return errors, times


def _apply_cohort_fields(cohort: Cohort, details: CohortDetails) -> None:
    cohort.name = details.name.strip()
    cohort.capacity = details.capacity
    cohort.venue_name = _clean(details.venue_name, 200)
    cohort.venue_address = _clean(details.venue_address, 2000)
    cohort.access_notes = _clean(details.access_notes, 2000)
    cohort.online_link = _clean(details.online_link, 500)
    wanted = list(dict.fromkeys(details.trainer_ids))
    cohort.trainer_links = [link for link in cohort.trainer_links if link.user_id in wanted] + [
        CohortTrainer(user_id=user_id) for user_id in wanted if user_id not in cohort.trainer_ids
    ]


def create_cohort(
    session: Session, course_id: int, details: CohortDetails, *, actor: User, now: dt.datetime
) -> Cohort:
    """A new cohort of the course with its four days (London wall-clock times stored in UTC).

    Raises CohortInvalid naming each problem: days missing, out of order, overlapping or in the past,
    no venue or link, no trainer, someone who is not a trainer.
    """
    course = _load(session, Course, course_id, "course")
    errors, times = _cohort_errors(session, details, now=now)
    if errors:
        raise CohortInvalid(errors)
    cohort = Cohort(course=course, created_at=now)
    _apply_cohort_fields(cohort, details)
    cohort.days = [
        CohortDay(day_number=number, starts_at=starts, ends_at=ends)
        for number, (starts, ends) in enumerate(times, start=1)
    ]
    session.add(cohort)
    session.flush()
    audit.record(
        session, actor, "training.cohort_created", cohort, at=now, course_id=course.id, name=cohort.name,
        capacity=cohort.capacity, trainer_ids=sorted(cohort.trainer_ids),
        days=[[day.starts_at, day.ends_at] for day in cohort.days],
    )
    return cohort


def update_cohort(
    session: Session, cohort_id: int, details: CohortDetails, *, actor: User, now: dt.datetime
) -> Cohort:
    """Change a cohort. A day whose time changes (or every day, when the place changes) gets a higher
    SEQUENCE and everyone enrolled is sent an updated invitation. A larger capacity gives places to the
    waiting list in order. Raises CohortInvalid (including capacity below the number enrolled)."""
    cohort = _lock_cohort(session, cohort_id)
    if cohort.is_cancelled:
        raise CohortInvalid({"name": ["This cohort is cancelled and can no longer be changed"]})
    errors, times = _cohort_errors(session, details, now=now, cohort=cohort)
    if errors:
        raise CohortInvalid(errors)
    moves: dict[str, list[str]] = {}
    for day, (starts, ends) in zip(cohort.days, times, strict=True):
        if (day.starts_at, day.ends_at) != (starts, ends):
            if day.starts_at <= now:
                moves.setdefault("days", []).append(f"Day {day.day_number} has already started and cannot move")
            elif starts <= now:
                moves.setdefault("days", []).append(f"Day {day.day_number} cannot move into the past")
    if moves:
        raise CohortInvalid(moves)
    place_before = (cohort.venue_name, cohort.venue_address, cohort.online_link)
    before = {"name": cohort.name, "capacity": cohort.capacity, "trainer_ids": sorted(cohort.trainer_ids)}
    _apply_cohort_fields(cohort, details)
    place_changed = place_before != (cohort.venue_name, cohort.venue_address, cohort.online_link)
    changed_days: list[int] = []
    for day, (starts, ends) in zip(cohort.days, times, strict=True):
        if (day.starts_at, day.ends_at) != (starts, ends) or place_changed:
            day.starts_at, day.ends_at = starts, ends
            day.sequence += 1
            changed_days.append(day.day_number)
    session.flush()
    audit.record(
        session, actor, "training.cohort_updated", cohort, at=now, before=before,
        after={"name": cohort.name, "capacity": cohort.capacity, "trainer_ids": sorted(cohort.trainer_ids)},
        changed_days=changed_days, place_changed=place_changed,
    )
    if changed_days:
        for enrolment in cohort.enrolments:
            if enrolment.status is EnrolmentStatus.ENROLLED:
                _send_invitation(session, enrolment, kind="changed", now=now)
        for booking in _make_ups_onto(session, [d.id for d in cohort.days if d.day_number in changed_days]):
            _send_make_up_invitation(session, booking, kind="changed", now=now)
    _fill_places(session, cohort, actor=actor, now=now)
    return cohort


def cancel_cohort(session: Session, cohort_id: int, *, reason: str, actor: User, now: dt.datetime) -> Cohort:
    """Cancel a cohort that has not finished: everyone enrolled is sent METHOD:CANCEL for its days, the
    waiting list and make-up visitors are told, and all of them are withdrawn so they can join another
    cohort. Raises CohortInvalid when a reason is missing, the cohort is already cancelled or has finished."""
    cohort = _lock_cohort(session, cohort_id)
    reason = (reason or "").strip()
    if not reason:
        raise CohortInvalid({"reason": ["Give a reason: it is sent to everyone enrolled"]})
    if cohort.is_cancelled:
        raise CohortInvalid({"reason": ["This cohort is already cancelled"]})
    if cohort.ends_at is not None and cohort.ends_at <= now:
        raise CohortInvalid({"reason": ["This cohort has finished and cannot be cancelled"]})
    cohort.cancelled_at = now
    for day in cohort.days:
        day.sequence += 1
    session.flush()
    audit.record(session, actor, "training.cohort_cancelled", cohort, at=now, reason=reason[:REASON_MAX])
    for enrolment in list(cohort.enrolments):
        if enrolment.status not in LIVE_STATUSES:
            continue
        previous = _move(enrolment, EnrolmentStatus.WITHDRAWN)
        enrolment.withdrawn_at = now
        session.flush()
        audit.record(session, actor, "training.withdrawn", enrolment, at=now, cohort_id=cohort.id,
                     user_id=enrolment.user_id, previous=previous, reason="cohort cancelled")
        if previous is EnrolmentStatus.ENROLLED:
            _send_cancellation(session, enrolment, now=now)
        else:
            outbox.queue(
                session, to=enrolment.user.email, subject=f"{cohort.course.title} ({cohort.name}) is cancelled",
                template="training/left_waiting_list", context={**_mail_context(enrolment), "cancelled": True},
                dedupe_key=f"training.left_waiting_list:{enrolment.id}", now=now,
            )
        signals.enrolment_changed.send(enrolment, session=session, previous=previous, actor=actor, now=now)
    for booking in _make_ups_onto(session, [day.id for day in cohort.days if day.starts_at > now]):
        booking.cancelled_at = now
        _send_make_up_invitation(session, booking, kind="cancelled", now=now)
    session.flush()
    return cohort


def _make_ups_onto(session: Session, day_ids: Iterable[int]) -> list[MakeUpBooking]:
    day_ids = list(day_ids)
    if not day_ids:
        return []
    return list(session.scalars(
        select(MakeUpBooking).where(MakeUpBooking.cohort_day_id.in_(day_ids), MakeUpBooking.cancelled_at.is_(None))
    ))


# ---------------------------------------------------------------------------------------------
# Calendar invitations and mail


def day_event(enrolment: Enrolment, day: CohortDay, *, cancelled: bool = False) -> CalendarEvent:
    """A course day as a calendar event; the UID is stable per enrolment and day number."""
    cohort = day.cohort
    return CalendarEvent(
        uid=event_uid(f"training-enrolment-{enrolment.id}-day", day.day_number),
        summary=f"{cohort.course.title}: day {day.day_number} of {COURSE_DAYS}",
        starts_at=day.starts_at,
        ends_at=day.ends_at,
        sequence=day.sequence,
        description=_event_description(cohort),
        location=cohort.location,
        url=cohort.online_link or "",
        cancelled=cancelled,
    )


def make_up_event(booking: MakeUpBooking, *, cancelled: bool = False) -> CalendarEvent:
    """A make-up day as a calendar event; its own UID, so cancelling it touches nothing else."""
    day = booking.day
    cohort = day.cohort
    return CalendarEvent(
        uid=event_uid("training-make-up", booking.id),
        summary=f"{cohort.course.title}: make-up day {day.day_number} ({cohort.name})",
        starts_at=day.starts_at,
        ends_at=day.ends_at,
        sequence=day.sequence + (1 if cancelled else 0),
        description=_event_description(cohort),
        location=cohort.location,
        url=cohort.online_link or "",
        cancelled=cancelled,
    )


def _event_description(cohort: Cohort) -> str:
    lines = [cohort.name]
    if cohort.access_notes:
        lines.append(f"Access: {cohort.access_notes}")
    if cohort.online_link:
        lines.append(f"Join online: {cohort.online_link}")
    return "\n".join(lines)


def _mail_context(enrolment: Enrolment) -> dict:
    cohort = enrolment.cohort
    return {
        "name": enrolment.user.name,
        "course": cohort.course.title,
        "cohort": cohort.name,
        "days": [
            {"number": day.day_number, "when": _when(day.starts_at),
             "ends": day.ends_at.astimezone(LONDON).strftime("%H:%M")}
            for day in cohort.days
        ],
        "where": cohort.location,
        "online_link": cohort.online_link or "",
        "access_notes": cohort.access_notes or "",
    }


_INVITATION_SUBJECTS = {
    "enrolled": "You are enrolled on {course}",
    "promoted": "A place has come up for you on {course}",
    "changed": "Changed dates or place: {course}",
}


def _send_invitation(session: Session, enrolment: Enrolment, *, kind: str, now: dt.datetime) -> None:
    cohort = enrolment.cohort
    events = [day_event(enrolment, day) for day in cohort.days]
    ics = build_invite(events, Method.REQUEST, now=now)
    sequences = "-".join(str(day.sequence) for day in cohort.days)
    outbox.queue(
        session,
        to=enrolment.user.email,
        subject=_INVITATION_SUBJECTS[kind].format(course=cohort.course.title),
        template="training/enrolled",
        context={**_mail_context(enrolment), "kind": kind},
        attachments=[outbox.Attachment(INVITE_FILENAME, REQUEST_TYPE, ics)],
        dedupe_key=f"training.invitation:{enrolment.id}:{sequences}",
        now=now,
    )


def _send_cancellation(session: Session, enrolment: Enrolment, *, now: dt.datetime) -> None:
    cohort = enrolment.cohort
    events = [day_event(enrolment, day, cancelled=True) for day in cohort.days]
    ics = build_invite(events, Method.CANCEL, now=now)
    outbox.queue(
        session,
        to=enrolment.user.email,
        subject=f"You are no longer enrolled on {cohort.course.title} ({cohort.name})",
        template="training/withdrawn",
        context=_mail_context(enrolment),
        attachments=[outbox.Attachment(INVITE_FILENAME, CANCEL_TYPE, ics)],
        dedupe_key=f"training.cancellation:{enrolment.id}",
        now=now,
    )


def _send_make_up_invitation(session: Session, booking: MakeUpBooking, *, kind: str, now: dt.datetime) -> None:
    enrolment, day = booking.enrolment, booking.day
    cancelled = kind == "cancelled"
    ics = build_invite([make_up_event(booking, cancelled=cancelled)], Method.CANCEL if cancelled else Method.REQUEST,
                       now=now)
    cohort = day.cohort
    outbox.queue(
        session,
        to=enrolment.user.email,
        subject=(f"Make-up day {day.day_number} cancelled" if cancelled
                 else f"Make-up day {day.day_number} booked: {_when(day.starts_at)}"),
        template="training/make_up",
        context={"name": enrolment.user.name, "course": cohort.course.title, "cohort": cohort.name,
                 "day_number": day.day_number, "when": _when(day.starts_at),
                 "ends": day.ends_at.astimezone(LONDON).strftime("%H:%M"), "where": cohort.location,
                 "kind": kind},
        attachments=[outbox.Attachment("make-up-day.ics", CANCEL_TYPE if cancelled else REQUEST_TYPE, ics)],
        dedupe_key=f"training.make_up:{booking.id}:{kind}:{day.sequence}",
        now=now,
    )


# ---------------------------------------------------------------------------------------------
# Enrolment and the waiting list


def enrolment_problems(session: Session, cohort: Cohort, user: User, *, now: dt.datetime) -> list[str]:
    """Why `user` may not join `cohort` (as a place or on its waiting list); empty when they may."""
    problems: list[str] = []
    volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))
    if cohort.is_cancelled:
        problems.append(f"{cohort.name} has been cancelled")
    elif cohort.starts_at is not None and cohort.starts_at <= now:
        problems.append(f"{cohort.name} has already started")
    if user.is_deactivated:
        problems.append(f"{user.name}'s account is deactivated")
    elif volunteer is None:
        problems.append(f"{user.name} has not been offered a volunteer place yet")
    elif volunteer.status not in ENROLLABLE_VOLUNTEER_STATUSES:
        problems.append(f"{user.name} is {volunteer.status.label}: only volunteers in vetting or training enrol")
    others = session.scalars(
        select(Enrolment).join(Cohort).where(
            Enrolment.user_id == user.id,
            Cohort.course_id == cohort.course_id,
            Enrolment.cohort_id != cohort.id,
            Enrolment.status.in_([*LIVE_STATUSES, EnrolmentStatus.COMPLETED]),
        )
    ).all()
    for other in others:
        if other.status is EnrolmentStatus.COMPLETED:
            problems.append(f"{user.name} has already completed {cohort.course.title}")
        else:
            where = "on the waiting list for" if other.status is EnrolmentStatus.WAITING else "enrolled on"
            problems.append(f"{user.name} is already {where} {other.cohort.name}: withdraw from it first")
    return problems


def _live_enrolment(session: Session, cohort_id: int, user_id: int) -> Enrolment | None:
    return session.scalar(
        select(Enrolment).where(
            Enrolment.cohort_id == cohort_id, Enrolment.user_id == user_id, Enrolment.status.in_(LIVE_STATUSES)
        )
    )


def places_taken(session: Session, cohort_id: int) -> int:
    return session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.cohort_id == cohort_id, Enrolment.status == EnrolmentStatus.ENROLLED
        )
    ) or 0


def _waiting(session: Session, cohort_id: int) -> list[Enrolment]:
    return list(session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort_id, Enrolment.status == EnrolmentStatus.WAITING)
        .order_by(Enrolment.waiting_since, Enrolment.id)
    ))


def _start_training(session: Session, user_id: int, *, actor: User | None, now: dt.datetime) -> None:
    volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == user_id))
    if volunteer is not None and volunteer.status is VolunteerStatus.VETTING:
        volunteer.status = VolunteerStatus.TRAINING
        volunteer.status_changed_at = now
        audit.record(session, actor, "volunteer.status_changed", volunteer, at=now,
                     previous=VolunteerStatus.VETTING, status=VolunteerStatus.TRAINING, why="enrolled on a course")


def enrol_volunteer(
    session: Session,
    cohort_id: int,
    user_id: int,
    *,
    actor: User,
    now: dt.datetime,
    dietary_needs: str | None = None,
    access_needs: str | None = None,
) -> Enrolment:
    """Give a volunteer with an offer a place on the cohort, or a place on its waiting list when it is
    full (or others are already waiting: nobody jumps the queue).

    The cohort row is locked first, so two people can never take the last place at the same moment.
    A place sends a confirmation e-mail with an .ics holding all four days and moves a volunteer in
    vetting to training. Raises AlreadyEnrolled when the person already holds a place or waiting-list
    place on this cohort, EnrolmentRefused with every reason otherwise, NotFound for unknown ids.
    """
    cohort = _lock_cohort(session, cohort_id)
    user = _load(session, User, user_id, "person")
    existing = _live_enrolment(session, cohort.id, user.id)
    if existing is not None:
        where = "on the waiting list for" if existing.status is EnrolmentStatus.WAITING else "enrolled on"
        subject = "You are" if actor.id == user.id else f"{user.name} is"
        raise AlreadyEnrolled(f"{subject} already {where} {cohort.name}", enrolment=existing)
    if problems := enrolment_problems(session, cohort, user, now=now):
        raise EnrolmentRefused(reasons=problems)
    full = places_taken(session, cohort.id) >= cohort.capacity or bool(_waiting(session, cohort.id))
    status = EnrolmentStatus.WAITING if full else EnrolmentStatus.ENROLLED
    enrolment = Enrolment(
        cohort=cohort, user_id=user.id, user=user, status=status, created_at=now,
        enrolled_at=None if full else now, waiting_since=now if full else None,
        dietary_needs=_clean(dietary_needs), access_needs=_clean(access_needs),
    )
    session.add(enrolment)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:  # the same person enrolled by another request a moment ago
        raise AlreadyEnrolled(f"{user.name} is already enrolled on {cohort.name}") from error
    audit.record(session, actor, "training.enrolled" if not full else "training.waiting_listed", enrolment, at=now,
                 cohort_id=cohort.id, user_id=user.id, by_self=actor.id == user.id)
    if status is EnrolmentStatus.ENROLLED:
        _start_training(session, user.id, actor=actor, now=now)
        _send_invitation(session, enrolment, kind="enrolled", now=now)
    else:
        outbox.queue(
            session, to=user.email, subject=f"You are on the waiting list for {cohort.course.title}",
            template="training/waiting", context={**_mail_context(enrolment),
                                                   "position": len(_waiting(session, cohort.id))},
            dedupe_key=f"training.waiting:{enrolment.id}", now=now,
        )
    signals.enrolment_changed.send(enrolment, session=session, previous=None, actor=actor, now=now)
    return enrolment


def _fill_places(session: Session, cohort: Cohort, *, actor: User | None, now: dt.datetime) -> list[Enrolment]:
    """Give free places to the waiting list, first come first served, while the cohort has not started."""
    promoted: list[Enrolment] = []
    if cohort.is_cancelled or (cohort.starts_at is not None and cohort.starts_at <= now):
        return promoted  # a place that comes up once the course has begun is no use to anyone
    free = cohort.capacity - places_taken(session, cohort.id)
    for enrolment in _waiting(session, cohort.id)[: max(free, 0)]:
        previous = _move(enrolment, EnrolmentStatus.ENROLLED)
        enrolment.enrolled_at = now
        session.flush()
        audit.record(session, actor, "training.promoted_from_waiting_list", enrolment, at=now,
                     cohort_id=cohort.id, user_id=enrolment.user_id)
        _start_training(session, enrolment.user_id, actor=actor, now=now)
        _send_invitation(session, enrolment, kind="promoted", now=now)
        signals.enrolment_changed.send(enrolment, session=session, previous=previous, actor=actor, now=now)
        promoted.append(enrolment)
    return promoted


def withdraw_enrolment(
    session: Session, enrolment_id: int, *, actor: User, now: dt.datetime, reason: str | None = None
) -> Enrolment:
    """Take a person off a cohort or its waiting list. A place given up goes to the first person waiting
    (with an e-mail and invitation); the person who withdrew is sent METHOD:CANCEL for their days.
    Raises EnrolmentRefused for an enrolment already withdrawn or completed."""
    enrolment = _load(session, Enrolment, enrolment_id, "enrolment")
    cohort = _lock_cohort(session, enrolment.cohort_id)
    session.refresh(enrolment)
    if enrolment.status not in LIVE_STATUSES:
        raise EnrolmentRefused(f"This enrolment is already {enrolment.status.label}")
    previous = _move(enrolment, EnrolmentStatus.WITHDRAWN)
    enrolment.withdrawn_at = now
    for booking in enrolment.make_ups:
        if booking.cancelled_at is None and booking.day.starts_at > now:
            booking.cancelled_at = now
            _send_make_up_invitation(session, booking, kind="cancelled", now=now)
    session.flush()
    audit.record(session, actor, "training.withdrawn", enrolment, at=now, cohort_id=cohort.id,
                 user_id=enrolment.user_id, previous=previous, reason=_clean(reason, REASON_MAX),
                 by_self=actor.id == enrolment.user_id)
    if previous is EnrolmentStatus.ENROLLED:
        _send_cancellation(session, enrolment, now=now)
    else:
        outbox.queue(
            session, to=enrolment.user.email, subject=f"You have left the waiting list for {cohort.course.title}",
            template="training/left_waiting_list", context=_mail_context(enrolment),
            dedupe_key=f"training.left_waiting_list:{enrolment.id}", now=now,
        )
    signals.enrolment_changed.send(enrolment, session=session, previous=previous, actor=actor, now=now)
    if previous is EnrolmentStatus.ENROLLED:
        _fill_places(session, cohort, actor=actor, now=now)
    return enrolment


def update_needs(
    session: Session, enrolment_id: int, *, dietary_needs: str | None, access_needs: str | None,
    actor: User, now: dt.datetime,
) -> Enrolment:
    """The dietary and access needs the volunteer chooses to share with the trainers (blank: none)."""
    enrolment = _load(session, Enrolment, enrolment_id, "enrolment")
    enrolment.dietary_needs = _clean(dietary_needs)
    enrolment.access_needs = _clean(access_needs)
    session.flush()
    # The needs themselves are personal: the audit says that they changed, not what they are.
    audit.record(session, actor, "training.needs_updated", enrolment, at=now,
                 shares_dietary=enrolment.dietary_needs is not None, shares_access=enrolment.access_needs is not None)
    return enrolment


# ---------------------------------------------------------------------------------------------
# Registers


@dataclass(frozen=True)
class Mark:
    mark: AttendanceMark | str
    reason: str | None = None


def register_enrolments(session: Session, day: CohortDay) -> list[Enrolment]:
    """Everyone on the register of a day: the cohort's enrolled (and completed) volunteers, and those
    booked onto this day as a make-up day, by name."""
    # With what the register shows of each person, so the page runs the same statements however many.
    shown = (selectinload(Enrolment.user), selectinload(Enrolment.cohort))
    own = list(session.scalars(select(Enrolment).where(
        Enrolment.cohort_id == day.cohort_id, Enrolment.status.in_(PLACE_STATUSES)).options(*shown)))
    make_ups = [booking.enrolment for booking in session.scalars(
        select(MakeUpBooking).where(MakeUpBooking.cohort_day_id == day.id, MakeUpBooking.cancelled_at.is_(None))
        .options(selectinload(MakeUpBooking.enrolment).options(*shown)))]
    return sorted({e.id: e for e in own + make_ups}.values(), key=lambda e: (e.user.name.casefold(), e.id))


def take_register(
    session: Session, cohort_day_id: int, marks: Mapping[int, Mark], *, actor: User, now: dt.datetime
) -> list[Attendance]:
    """Record (or correct) the register of one day: `marks` maps enrolment ids to a Mark.

    An absence needs a reason. Before the day starts only absences can be recorded (apologies in
    advance, so a make-up day can be booked early). People left out of
    `marks` are left as they were, so a pre-recorded absence is never overwritten by accident.
    Raises RegisterInvalid with every problem.
    """
    day = _load(session, CohortDay, cohort_day_id, "course day")
    before_the_day = day.starts_at > now
    on_register = {e.id: e for e in register_enrolments(session, day)}
    problems: list[str] = []
    cleaned: dict[int, tuple[AttendanceMark, str | None]] = {}
    for enrolment_id, given in marks.items():
        enrolment = on_register.get(enrolment_id)
        if enrolment is None:
            problems.append("Only people on this day's register can be marked")
            continue
        try:
            mark = AttendanceMark(given.mark)
        except ValueError:
            problems.append(f"Choose how {enrolment.user.name} attended")
            continue
        reason = _clean(given.reason, REASON_MAX)
        if before_the_day and mark is not AttendanceMark.ABSENT:
            problems.append(f"Day {day.day_number} has not started ({_when(day.starts_at)}): until it does, only "
                            f"an absence (apologies in advance) can be recorded")
            continue
        if mark is AttendanceMark.ABSENT and not reason:
            problems.append(f"Give a reason for {enrolment.user.name}'s absence")
        cleaned[enrolment_id] = (mark, reason)
    if problems:
        raise RegisterInvalid(reasons=list(dict.fromkeys(problems)), field="marks")
    existing = {
        a.enrolment_id: a for a in session.scalars(select(Attendance).where(Attendance.cohort_day_id == day.id))
    }
    saved: list[Attendance] = []
    for enrolment_id, (mark, reason) in cleaned.items():
        attendance = existing.get(enrolment_id)
        if attendance is not None and (attendance.mark, attendance.reason) == (mark, reason):
            saved.append(attendance)
            continue
        previous = attendance.mark if attendance is not None else None
        if attendance is None:
            attendance = Attendance(enrolment_id=enrolment_id, cohort_day_id=day.id)
            session.add(attendance)
        attendance.mark, attendance.reason = mark, reason
        attendance.recorded_by_id, attendance.recorded_at = actor.id, now
        session.flush()
        audit.record(session, actor, "training.attendance_recorded", attendance, at=now, cohort_id=day.cohort_id,
                     day_number=day.day_number, enrolment_id=enrolment_id, mark=mark, previous=previous)
        saved.append(attendance)
    return saved


# ---------------------------------------------------------------------------------------------
# Make-up days


@dataclass(frozen=True)
class DayProgress:
    """How one of the four days stands for an enrolment."""

    day_number: int
    attended: bool
    mark: AttendanceMark | None = None
    reason: str | None = None
    needs_make_up: bool = False
    make_up: MakeUpBooking | None = None
    make_up_mark: AttendanceMark | None = None


def day_progress(session: Session, enrolment: Enrolment) -> list[DayProgress]:
    """Day by day: attended (on the day or on a make-up day), or missed and needing a make-up day."""
    return day_progress_of(session, [enrolment])[enrolment.id]


def day_progress_of(session: Session, enrolments: Sequence[Enrolment]) -> dict[int, list[DayProgress]]:
    """`day_progress` for each of these enrolments by id, in three statements however many there are
    (their attendances with the days marked, and their make-up bookings); their cohorts' days are read
    through `enrolment.cohort`, so load those first when the enrolments span many cohorts."""
    ids = [enrolment.id for enrolment in enrolments]
    if not ids:
        return {}
    attendances: dict[int, list[Attendance]] = {enrolment_id: [] for enrolment_id in ids}
    for attendance in session.scalars(
        select(Attendance).where(Attendance.enrolment_id.in_(ids)).options(selectinload(Attendance.day))
        .order_by(Attendance.id)
    ):
        attendances[attendance.enrolment_id].append(attendance)
    make_ups: dict[int, list[MakeUpBooking]] = {enrolment_id: [] for enrolment_id in ids}
    for booking in session.scalars(
        select(MakeUpBooking).where(MakeUpBooking.enrolment_id.in_(ids)).order_by(MakeUpBooking.id)
    ):
        make_ups[booking.enrolment_id].append(booking)
    return {enrolment.id: _progress(enrolment, attendances[enrolment.id], make_ups[enrolment.id])
            for enrolment in enrolments}


def _progress(enrolment: Enrolment, attendances: list[Attendance], make_ups: list[MakeUpBooking]) -> list[DayProgress]:
    own_day_ids = {day.id: day.day_number for day in enrolment.cohort.days}
    live_make_ups = {b.day_number: b for b in make_ups if b.cancelled_at is None}
    progress: list[DayProgress] = []
    for number in range(1, COURSE_DAYS + 1):
        own = next((a for a in attendances if own_day_ids.get(a.cohort_day_id) == number), None)
        booking = live_make_ups.get(number)
        make_up_marks = [a for a in attendances if a.cohort_day_id not in own_day_ids and a.day.day_number == number]
        made_up = any(a.mark in ATTENDED_MARKS for a in make_up_marks)
        attended = (own is not None and own.mark in ATTENDED_MARKS) or made_up
        missed = own is not None and own.mark not in ATTENDED_MARKS and not made_up
        progress.append(DayProgress(
            day_number=number, attended=attended, mark=own.mark if own else None, reason=own.reason if own else None,
            needs_make_up=missed, make_up=booking,
            make_up_mark=make_up_marks[-1].mark if make_up_marks else None,
        ))
    return progress


def make_up_options(
    session: Session, enrolment: Enrolment, day_number: int, *, now: dt.datetime, limit: int | None = None
) -> list[CohortDay]:
    """Day `day_number` of later cohorts of the same course that have not started and are not cancelled,
    soonest first (at most `limit`), with their cohorts."""
    own_day = enrolment.cohort.day(day_number)
    after = own_day.starts_at if own_day else now
    query = (
        select(CohortDay).join(Cohort).where(
            Cohort.course_id == enrolment.cohort.course_id,
            Cohort.id != enrolment.cohort_id,
            Cohort.cancelled_at.is_(None),
            CohortDay.day_number == day_number,
            CohortDay.starts_at > max(after, now),
        ).options(selectinload(CohortDay.cohort)).order_by(CohortDay.starts_at, CohortDay.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def book_make_up(
    session: Session, enrolment_id: int, cohort_day_id: int, *, actor: User, now: dt.datetime
) -> MakeUpBooking:
    """Book a volunteer who missed a day onto the same day of a later cohort of the course, and send
    them an invitation for it. Takes a place on that cohort (locked, as for enrolment).
    Raises MakeUpRefused with every reason."""
    enrolment = _load(session, Enrolment, enrolment_id, "enrolment")
    target_day = _load(session, CohortDay, cohort_day_id, "course day")
    target = _lock_cohort(session, target_day.cohort_id)
    reasons: list[str] = []
    if enrolment.status is not EnrolmentStatus.ENROLLED:
        reasons.append(f"Only an enrolled volunteer can book a make-up day (this one is {enrolment.status.label})")
    progress = {p.day_number: p for p in day_progress(session, enrolment)}
    number = target_day.day_number
    if not progress[number].needs_make_up:
        reasons.append(f"{enrolment.user.name} has not missed day {number}")
    elif progress[number].make_up is not None:
        reasons.append(f"{enrolment.user.name} is already booked onto a make-up day {number}")
    if target.id == enrolment.cohort_id or target.course_id != enrolment.cohort.course_id:
        reasons.append("A make-up day must be the same day of a later cohort of the same course")
    elif target.is_cancelled:
        reasons.append(f"{target.name} has been cancelled")
    elif target_day.starts_at <= now:
        reasons.append(f"Day {number} of {target.name} has already started")
    taken = places_taken(session, target.id) + len(_make_ups_onto(session, [target_day.id]))
    if taken >= target.capacity:
        reasons.append(f"Day {number} of {target.name} is full")
    if reasons:
        raise MakeUpRefused(reasons=reasons)
    booking = MakeUpBooking(enrolment=enrolment, day_number=number, cohort_day_id=target_day.id,
                            booked_by_id=actor.id, booked_at=now)
    booking.day = target_day
    session.add(booking)
    session.flush()
    audit.record(session, actor, "training.make_up_booked", booking, at=now, enrolment_id=enrolment.id,
                 day_number=number, cohort_id=target.id)
    _send_make_up_invitation(session, booking, kind="booked", now=now)
    return booking


def cancel_make_up(session: Session, booking_id: int, *, actor: User, now: dt.datetime) -> MakeUpBooking:
    """Cancel a make-up day that has not started; sends METHOD:CANCEL for it. Raises MakeUpRefused."""
    booking = _load(session, MakeUpBooking, booking_id, "make-up booking")
    if booking.cancelled_at is not None:
        raise MakeUpRefused("This make-up day is already cancelled")
    if booking.day.starts_at <= now:
        raise MakeUpRefused("This make-up day has already started")
    booking.cancelled_at = now
    session.flush()
    audit.record(session, actor, "training.make_up_cancelled", booking, at=now, enrolment_id=booking.enrolment_id)
    _send_make_up_invitation(session, booking, kind="cancelled", now=now)
    return booking


# ---------------------------------------------------------------------------------------------
# Completion


def attendance_problems(session: Session, enrolment: Enrolment) -> list[str]:
    problems = []
    for day in day_progress(session, enrolment):
        if day.attended:
            continue
        if day.needs_make_up:
            problems.append(f"Day {day.day_number} missed: a make-up day is needed")
        else:
            problems.append(f"Day {day.day_number} attendance not yet recorded")
    return problems


def completion_problems(session: Session, enrolment: Enrolment, *, on: dt.date) -> list[str]:
    """Everything that stops the enrolment being completed on `on`: days not attended (this module)
    and coursework or practical not passed (asked of training.coursework by `completion_requested`)."""
    problems = attendance_problems(session, enrolment)
    replies = signals.completion_requested.send(enrolment, session=session, on=on)
    problems.extend(reply for _receiver, reply in replies if reply)
    return problems


def activation_problems(session: Session, user_id: int, *, on: dt.date) -> list[str]:
    """Why a volunteer who has completed the course may not yet practise (vetting's answer); empty when
    they are cleared. The one place completion asks vetting."""
    clearance = cleared_to_practise(session, user_id, on)
    return [] if clearance.cleared else list(clearance.reasons)


def complete_enrolment(session: Session, enrolment_id: int, *, actor: User, now: dt.datetime) -> Enrolment:
    """Record the course as completed today (London date): all four days attended (make-up days count),
    coursework and practical passed. E-mails the volunteer, and makes a volunteer in training active
    when vetting clears them to practise. Raises CompletionBlocked with everything still missing."""
    enrolment = _load(session, Enrolment, enrolment_id, "enrolment")
    today = _today(now)
    if enrolment.status is EnrolmentStatus.COMPLETED:
        raise CompletionBlocked(f"{enrolment.user.name} completed the course on {enrolment.completed_on:%-d %B %Y}")
    if enrolment.status is not EnrolmentStatus.ENROLLED:
        raise CompletionBlocked(f"Only an enrolled volunteer can complete the course (this one is "
                                f"{enrolment.status.label})")
    if problems := completion_problems(session, enrolment, on=today):
        raise CompletionBlocked(reasons=problems)
    previous = _move(enrolment, EnrolmentStatus.COMPLETED)
    enrolment.completed_on = today
    enrolment.completed_by_id = actor.id
    session.flush()
    audit.record(session, actor, "training.completed", enrolment, at=now, cohort_id=enrolment.cohort_id,
                 user_id=enrolment.user_id, completed_on=today)
    activated = activate_if_cleared(session, enrolment.user_id, actor=actor, now=now)
    outbox.queue(
        session, to=enrolment.user.email, subject=f"You have completed {enrolment.cohort.course.title}",
        template="training/completed",
        context={**_mail_context(enrolment), "completed_on": f"{today:%-d %B %Y}", "active": activated,
                 "certificate_path": f"/training/enrolments/{enrolment.id}/certificate"},
        dedupe_key=f"training.completed:{enrolment.id}", now=now,
    )
    signals.enrolment_changed.send(enrolment, session=session, previous=previous, actor=actor, now=now)
    signals.course_completed.send(enrolment, session=session, actor=actor, now=now)
    return enrolment


def activate_if_cleared(session: Session, user_id: int, *, actor: User | None, now: dt.datetime) -> bool:
    """Make a volunteer in training who has completed the course active, when vetting clears them today.
    Returns True when they are (now) active. Safe to call again later, e.g. when vetting clears."""
    volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == user_id))
    if volunteer is None:
        return False
    if volunteer.status is VolunteerStatus.ACTIVE:
        return True
    if volunteer.status not in ENROLLABLE_VOLUNTEER_STATUSES:
        return False
    completed = session.scalar(
        select(func.count(Enrolment.id)).where(Enrolment.user_id == user_id,
                                               Enrolment.status == EnrolmentStatus.COMPLETED)
    )
    if not completed or activation_problems(session, user_id, on=_today(now)):
        return False
    previous = volunteer.status
    volunteer.status = VolunteerStatus.ACTIVE
    volunteer.status_changed_at = now
    session.flush()
    audit.record(session, actor, "volunteer.status_changed", volunteer, at=now, previous=previous,
                 status=VolunteerStatus.ACTIVE, why="course completed and cleared to practise")
    return True


def activate_cleared_volunteers(session: Session, *, now: dt.datetime) -> int:
    """Make active every volunteer still in training (or vetting) who has completed the course and whom
    vetting now clears (a clearance that came after completion). Idempotent; returns how many it activated."""
    user_ids = session.scalars(
        select(Volunteer.user_id).join(Enrolment, Enrolment.user_id == Volunteer.user_id).where(
            Volunteer.status.in_(ENROLLABLE_VOLUNTEER_STATUSES), Enrolment.status == EnrolmentStatus.COMPLETED,
        ).distinct()
    ).all()
    return sum(1 for user_id in user_ids if activate_if_cleared(session, user_id, actor=None, now=now))


# ---------------------------------------------------------------------------------------------
# Reminders (job)


def send_day_before_reminders(session: Session, *, now: dt.datetime) -> int:
    """E-mail everyone enrolled on a cohort whose day 1 is tomorrow (London date) a reminder, once per
    enrolment however often this runs (the outbox's dedupe key). Returns how many were queued now."""
    tomorrow = _today(now) + dt.timedelta(days=1)
    window_start = london_to_utc(tomorrow, dt.time(0, 0))
    window_end = london_to_utc(tomorrow + dt.timedelta(days=1), dt.time(0, 0))
    rows = session.scalars(
        select(Enrolment).join(Cohort).join(CohortDay, CohortDay.cohort_id == Cohort.id).where(
            Enrolment.status == EnrolmentStatus.ENROLLED,
            Cohort.cancelled_at.is_(None),
            CohortDay.day_number == 1,
            CohortDay.starts_at >= window_start,
            CohortDay.starts_at < window_end,
        ).order_by(Enrolment.id)
    ).all()
    keys = {enrolment.id: f"training.reminder:{enrolment.id}" for enrolment in rows}
    already = set(session.scalars(select(outbox.OutboxMessage.dedupe_key).where(
        outbox.OutboxMessage.dedupe_key.in_(list(keys.values())))))
    queued = 0
    for enrolment in rows:
        if keys[enrolment.id] in already:
            continue
        outbox.queue(
            session, to=enrolment.user.email,
            subject=f"Reminder: {enrolment.cohort.course.title} starts tomorrow",
            template="training/reminder", context=_mail_context(enrolment), dedupe_key=keys[enrolment.id], now=now,
        )
        queued += 1
    return queued

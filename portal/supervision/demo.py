"""Demo supervision: past sessions with records, upcoming individual and group sessions with bookings,
a named supervisor, and volunteers who are in date, due soon and overdue. Everything goes through the
real services (with `now` set to when each step happened), so every rule holds and every step is
audited. Flask-free; called by `flask demo load`. Loads once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import settings
from portal.core.accounts import User
from portal.core.clock import LONDON, london_to_utc
from portal.supervision import services
from portal.supervision.models import SupervisionSlot
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus

DEMO_SUPERVISION_SETTING = "supervision.demo_loaded"
VENUE = "Canterbury Volunteer Centre, Room 2, 12 Stour Street, Canterbury CT1 2NR"
LINK = "https://meet.example.org/rj-supervision"


def _active_record(session: Session, user: User, *, since: dt.datetime) -> Volunteer:
    volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))
    if volunteer is None:
        volunteer = Volunteer(user_id=user.id, status=VolunteerStatus.ACTIVE, status_changed_at=since,
                              offered_at=since, created_at=since)
        session.add(volunteer)
        session.flush()
    return volunteer


def _weekday(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def _slot(session: Session, *, supervisor: User, actor: User, day: dt.date, hour: int, kind: str = "individual",
          capacity: int = 1, online: bool = False, repeat: str = "none", occurrences: int = 1,
          now: dt.datetime) -> list[SupervisionSlot]:
    details = services.SlotDetails(
        day=day, start_time=dt.time(hour, 0), length_minutes=90 if kind == "group" else 60, kind=kind,
        mode="online" if online else "in_person", supervisor_id=supervisor.id, capacity=capacity,
        venue=None if online else VENUE, online_link=LINK if online else None, minimum_notice_hours=24,
        cutoff_hours=24,
    )
    return services.publish_slots(session, details, repeat=repeat, occurrences=occurrences, actor=actor, now=now)


def _past_session(session: Session, *, coordinator: User, volunteer: User, weeks_ago: int, hour: int,
                  today: dt.date, actions: str, concerns: str | None = None, attended: bool = True) -> None:
    day = _weekday(today - dt.timedelta(weeks=weeks_ago))
    starts = london_to_utc(day, dt.time(hour, 0))
    then = starts - dt.timedelta(days=7)
    [slot] = _slot(session, supervisor=coordinator, actor=coordinator, day=day, hour=hour, now=then)
    booking = services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=then)
    services.record_session(
        session, booking.id,
        services.RecordDetails(
            attendance="attended" if attended else "did_not_attend", actions=actions if attended else None,
            wellbeing_concerns=concerns, next_due_on=day + dt.timedelta(weeks=12) if attended else None,
        ),
        actor=coordinator, now=starts + dt.timedelta(hours=2),
    )


def load_demo_supervision(
    session: Session, *, coordinator: User, volunteers: Sequence[User], now: dt.datetime
) -> list[SupervisionSlot]:
    """Publish demo sessions and bookings for `volunteers` (the first is the main demo volunteer),
    once; returns the slots created (empty when already loaded)."""
    if settings.get_setting(session, DEMO_SUPERVISION_SETTING) or len(volunteers) < 4:
        return []
    today = now.astimezone(LONDON).date()
    people = list(volunteers)
    for number, person in enumerate(people):
        # Volunteers without a record become active at staggered dates, so some have never been supervised.
        _active_record(session, person, since=now - dt.timedelta(weeks=8 + 3 * number))
    supervisor = people[1]
    services.name_supervisor(session, supervisor.id, actor=coordinator, now=now - dt.timedelta(weeks=30))

    # Past sessions: the main volunteer in date, the next three due soon, the next three overdue.
    _past_session(session, coordinator=coordinator, volunteer=people[0], weeks_ago=5, hour=10, today=today,
                  actions="Write up the reflective log on the Whitstable conference; read the shuttle guidance.")
    for index, person in enumerate(people[1:4], start=1):
        _past_session(session, coordinator=coordinator, volunteer=person, weeks_ago=10, hour=9 + index * 2,
                      today=today, actions="Bring the next case plan to supervision.")
    for index, person in enumerate(people[4:7], start=1):
        _past_session(session, coordinator=coordinator, volunteer=person, weeks_ago=16, hour=9 + index * 2,
                      today=today, actions="Book the advanced training.",
                      concerns="Finding evening meetings tiring; agreed to take a month off new cases."
                      if index == 1 else None)
    if len(people) > 7:
        _past_session(session, coordinator=coordinator, volunteer=people[7], weeks_ago=3, hour=14, today=today,
                      actions="", attended=False)

    # The weeks ahead: a fortnightly online group, individual sessions, and some bookings.
    next_monday = today + dt.timedelta(days=7 - today.weekday())
    created = _slot(session, supervisor=coordinator, actor=coordinator, day=next_monday + dt.timedelta(days=2),
                    hour=18, kind="group", capacity=8, online=True, repeat="fortnightly", occurrences=4, now=now)
    for week in range(3):
        for day_offset, hour in ((0, 10), (3, 14)):
            created += _slot(session, supervisor=coordinator, actor=coordinator,
                             day=next_monday + dt.timedelta(weeks=week, days=day_offset), hour=hour, now=now)
        created += _slot(session, supervisor=supervisor, actor=supervisor,
                         day=next_monday + dt.timedelta(weeks=week, days=1), hour=11, now=now)
    services.book_slot(session, created[4].id, user_id=people[0].id, actor=people[0], now=now)
    for person in people[1:3]:
        services.book_slot(session, created[0].id, user_id=person.id, actor=person, now=now)
    if len(people) > 4:
        services.book_slot(session, created[6].id, user_id=people[4].id, actor=people[4], now=now)
    settings.set_setting(session, DEMO_SUPERVISION_SETTING, True)
    return created

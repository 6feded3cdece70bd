"""overdue_since: the supervision cadence rule for many volunteers at once, the same answer as
overdue_message for each."""

import datetime as dt

from portal.supervision import queries, services
from portal.volunteers.profiles.models import VolunteerStatus
from tests.supervision.builders import NOW, make_coordinator, make_slot, make_volunteer

AFTER = dt.datetime(2026, 11, 30, 11, 5, tzinfo=dt.UTC)  # just after next Monday's session


def attended(session, volunteer, *, next_due_on):
    coordinator = make_coordinator(session)
    slot = make_slot(session, actor=coordinator)
    booking = services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=NOW)
    services.record_session(session, booking.id, services.RecordDetails(attendance="attended",
                            next_due_on=next_due_on), actor=coordinator, now=AFTER)


def test_overdue_since_equals_overdue_message_for_each_person(session):
    overdue = make_volunteer(session, active_since=NOW - dt.timedelta(weeks=20))
    due_today = make_volunteer(session, active_since=NOW - dt.timedelta(weeks=12))
    fresh = make_volunteer(session)
    caught_up = make_volunteer(session, active_since=NOW - dt.timedelta(weeks=20))
    attended(session, caught_up, next_due_on=dt.date(2027, 2, 22))
    set_by_supervisor = make_volunteer(session, active_since=NOW - dt.timedelta(weeks=20))
    attended(session, set_by_supervisor, next_due_on=dt.date(2026, 12, 7))
    paused = make_volunteer(session, status=VolunteerStatus.PAUSED, active_since=NOW - dt.timedelta(weeks=30))
    staff = make_coordinator(session)
    user_ids = [person.id for person in (overdue, due_today, fresh, caught_up, set_by_supervisor, paused, staff)]

    for on in (NOW.date(), dt.date(2026, 11, 24), dt.date(2026, 12, 8), dt.date(2027, 3, 1)):
        bulk = queries.overdue_since(session, user_ids, on)
        messages = {user_id: queries.overdue_message(session, user_id, on) for user_id in user_ids}
        assert {user_id: f"Supervision overdue since {due:%-d %B %Y}" for user_id, due in bulk.items()} == {
            user_id: message for user_id, message in messages.items() if message is not None}

    assert queries.overdue_since(session, user_ids, dt.date(2026, 12, 8)) == {
        overdue.id: dt.date(2026, 9, 28), due_today.id: dt.date(2026, 11, 23),
        set_by_supervisor.id: dt.date(2026, 12, 7)}
    assert queries.overdue_since(session, [], NOW.date()) == {}

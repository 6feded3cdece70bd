"""clearances and lapses_between: cleared_to_practise for many people at once, and the checks that stop
counting inside a period."""

import datetime as dt

from sqlalchemy import event

from portal.volunteers.profiles.models import VolunteerStatus
from portal.volunteers.vetting import queries
from portal.volunteers.vetting.models import CheckKind, CheckStatus
from tests.builders import make_user
from tests.volunteers.vetting.builders import make_cleared_volunteer, make_volunteer, record

CLEARED_ON = dt.date(2025, 12, 1)
EXPIRES_ON = dt.date(2026, 12, 1)


def mixed_people(session):
    """Volunteers in every vetting position, and a member of staff with no volunteer record."""
    cleared = make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    renewed = make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    old = next(c for c in queries.list_checks(session, renewed.id) if c.kind is CheckKind.NPPV)
    record(session, renewed, CheckKind.NPPV, cleared_on=dt.date(2026, 11, 20), renews_id=old.id)
    nothing = make_volunteer(session)
    waiting = make_volunteer(session, status=VolunteerStatus.VETTING)
    record(session, waiting, CheckKind.NPPV, CheckStatus.SUBMITTED, submitted_on=dt.date(2026, 11, 2))
    record(session, waiting, CheckKind.REFERENCES, CheckStatus.REFUSED, reference_last4=None,
           decided_on=dt.date(2026, 11, 5))
    staff = make_user(session)
    return [cleared.user_id, renewed.user_id, nothing.user_id, waiting.user_id, staff.id]


def test_clearances_equal_cleared_to_practise_for_each_person_on_each_day(session):
    user_ids = mixed_people(session)
    for day in (CLEARED_ON - dt.timedelta(days=1), CLEARED_ON, EXPIRES_ON - dt.timedelta(days=1), EXPIRES_ON,
                EXPIRES_ON + dt.timedelta(days=1), dt.date(2027, 11, 20)):
        bulk = queries.clearances(session, user_ids, day)
        assert bulk == {user_id: queries.cleared_to_practise(session, user_id, day) for user_id in user_ids}
    assert queries.clearances(session, user_ids, EXPIRES_ON)[user_ids[-1]].applies is False
    assert queries.clearances(session, [], EXPIRES_ON) == {}


def test_clearances_take_two_queries_however_many_people(session):
    few, many = mixed_people(session), mixed_people(session) + mixed_people(session)
    session.commit()
    counts = []
    for user_ids in (few, many):
        statements = []

        def counted(*_args, into=statements):
            into.append(1)

        session.expunge_all()
        event.listen(session.get_bind(), "before_cursor_execute", counted)
        queries.clearances(session, user_ids, EXPIRES_ON)
        event.remove(session.get_bind(), "before_cursor_execute", counted)
        counts.append(len(statements))
    assert counts == [2, 2]


def test_lapses_between_names_the_checks_that_stop_counting_inside_the_period(session):
    cleared, renewed, nothing, waiting, staff = mixed_people(session)
    lapses = queries.lapses_between(session, [cleared, renewed, nothing, waiting, staff],
                                    dt.date(2026, 11, 23), dt.date(2026, 12, 1))
    assert lapses == {
        cleared: ["Police vetting (NPPV2) expires on 1 December 2026"], renewed: [], nothing: [], waiting: [],
    }
    # The last day counts: a check expiring the day after the period is fine.
    assert queries.lapses_between(session, [cleared], dt.date(2026, 11, 23), dt.date(2026, 11, 30)) == {
        cleared: []}

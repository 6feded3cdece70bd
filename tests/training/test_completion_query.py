"""course_completed_on: who has completed a course, and since when, for many people in one query."""

import datetime as dt

from sqlalchemy import event

from portal.training import queries
from portal.training.models import EnrolmentStatus
from tests.builders import make_user
from tests.training.builders import enrol, make_cohort


def test_the_first_completion_of_each_person_who_has_completed_one(session):
    first, second = make_cohort(session, starts_on=dt.date(2026, 3, 2)), make_cohort(session)
    twice = enrol(session, first, status=EnrolmentStatus.COMPLETED, completed_on=dt.date(2026, 3, 5)).user
    enrol(session, second, twice, status=EnrolmentStatus.COMPLETED, completed_on=dt.date(2026, 12, 10))
    once = enrol(session, second, status=EnrolmentStatus.COMPLETED, completed_on=dt.date(2026, 12, 10)).user
    enrolled = enrol(session, second).user
    withdrawn = enrol(session, first, status=EnrolmentStatus.WITHDRAWN, withdrawn_at=dt.datetime(
        2026, 3, 3, tzinfo=dt.UTC)).user
    waiting = enrol(session, second, status=EnrolmentStatus.WAITING).user
    staff = make_user(session)
    not_asked = enrol(session, second, status=EnrolmentStatus.COMPLETED, completed_on=dt.date(2026, 12, 10)).user

    found = queries.course_completed_on(session, [twice.id, once.id, enrolled.id, withdrawn.id, waiting.id, staff.id])

    assert found == {twice.id: dt.date(2026, 3, 5), once.id: dt.date(2026, 12, 10)}
    assert not_asked.id not in found
    assert queries.course_completed_on(session, []) == {}


def test_one_query_however_many_people(session):
    cohort = make_cohort(session)
    user_ids = [enrol(session, cohort, status=EnrolmentStatus.COMPLETED, completed_on=dt.date(2026, 12, 10)).user_id
                for _ in range(12)]
    statements = []

    def counted(*_args):
        statements.append(1)

    event.listen(session.get_bind(), "before_cursor_execute", counted)
    try:
        assert len(queries.course_completed_on(session, user_ids)) == 12
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", counted)
    assert statements == [1]

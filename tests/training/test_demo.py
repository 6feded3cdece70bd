"""The training demo: past, current and future cohorts made through the services; loading twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.training import demo, queries, services, signals
from portal.training.models import Enrolment, EnrolmentStatus, MakeUpBooking
from tests.builders import make_user
from tests.training.builders import NOW, make_coordinator, make_trainer


def test_demo_has_past_current_and_future_cohorts_and_loads_once(session):
    coordinator = make_coordinator(session)
    trainers = [make_trainer(session), make_trainer(session)]
    volunteers = [make_user(session) for _ in range(12)]
    past, current, future = demo.load_demo_training(session, coordinator=coordinator, trainers=trainers,
                                                    volunteers=volunteers, now=NOW)
    assert past.ends_at < NOW
    assert current.starts_at < NOW < current.ends_at
    assert future.starts_at > NOW
    roster = queries.cohort_roster(session, future)
    assert (len(roster.enrolled), len(roster.waiting), len(roster.withdrawn)) == (3, 1, 1)
    booking = session.scalar(select(MakeUpBooking))
    assert booking.day.cohort_id == current.id and booking.day_number == 3
    assert any(p.needs_make_up for p in services.day_progress(session, booking.enrolment))
    assert demo.load_demo_training(session, coordinator=coordinator, trainers=trainers, volunteers=volunteers,
                                   now=NOW) == []

    with signals.completion_requested.muted():  # as if the coursework demo had passed everyone
        completed = demo.complete_demo_enrolments(session, coordinator=coordinator, now=NOW)
    assert len(completed) == 3  # the fourth still needs their make-up day
    assert session.scalar(select(func.count(Enrolment.id)).where(
        Enrolment.status == EnrolmentStatus.COMPLETED)) == 3

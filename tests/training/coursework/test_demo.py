"""The coursework demo: cohorts' work in every marking state, made through the services, loaded once."""

from __future__ import annotations

from sqlalchemy import select

from portal.core.accounts import Role
from portal.training.coursework import handlers, services
from portal.training.coursework.models import Attempt, MarkingStatus, PracticalAssessment
from portal.training.demo import complete_demo_enrolments, load_demo_training
from portal.training.models import EnrolmentStatus
from tests.builders import make_user
from tests.training.builders import NOW

assert handlers.coursework_and_practical_passed  # the completion receiver is connected


def test_demo_has_work_in_every_marking_state_and_loads_once(session):
    coordinator = make_user(session, roles=(Role.COORDINATOR,))
    trainers = [make_user(session, roles=(Role.TRAINER,)) for _ in range(2)]
    volunteers = [make_user(session, roles=(Role.VOLUNTEER,)) for _ in range(12)]
    cohorts = load_demo_training(session, coordinator=coordinator, trainers=trainers, volunteers=volunteers, now=NOW)
    made = services.load_demo_coursework(session, now=NOW)
    assert {assignment.cohort_id for assignment in made} == {cohort.id for cohort in cohorts}
    statuses = set(session.scalars(select(Attempt.status)))
    assert statuses == set(MarkingStatus)
    assert session.scalar(select(Attempt).where(Attempt.number == 2, Attempt.status == MarkingStatus.SUBMITTED))
    assert session.scalar(select(Attempt).where(Attempt.due_at.is_not(None), Attempt.number == 1))
    assert session.scalar(select(PracticalAssessment.id)) is not None
    assert services.load_demo_coursework(session, now=NOW) == []
    completed = complete_demo_enrolments(session, coordinator=coordinator, now=NOW)
    assert completed and all(e.status is EnrolmentStatus.COMPLETED for e in completed)

"""Lines linked to what they were for: the claimant's own training days and meetings on cases allocated
to them (only while allocated), supervision or something else with a purpose."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.cases.models import CaseSession, SessionType
from portal.expenses import services
from portal.expenses.errors import LineInvalid
from portal.expenses.models import ActivityKind
from tests.cases.builders import make_allocation, make_case
from tests.expenses.builders import NOW, TODAY, add_line, make_volunteer, mileage_data, start_claim
from tests.training.builders import enrol, make_cohort

LAST_WEEK = dt.date(2026, 11, 16)


def meeting(session, case, held_on: dt.date) -> CaseSession:
    found = CaseSession(case_id=case.id, session_type=SessionType.PREPARATION_MEETING, held_on=held_on,
                        duration_minutes=90, attendees="Facilitators and the person harmed")
    session.add(found)
    session.flush()
    return found


def test_a_journey_linked_to_the_claimants_training_day(session):
    volunteer = make_volunteer(session)
    cohort = make_cohort(session, starts_on=LAST_WEEK)
    enrol(session, cohort, volunteer)
    day = cohort.days[0]
    keys = [activity.key for activity in services.list_activities(session, volunteer, today=TODAY)]
    assert f"training_day:{day.id}" in keys
    claim = start_claim(session, volunteer)
    line = add_line(session, claim, mileage_data(spent_on=LAST_WEEK, activity=f"training_day:{day.id}"))
    assert (line.activity_kind, line.activity_id) == (ActivityKind.TRAINING_DAY, day.id)
    assert line.activity_label == "Training: Restorative justice facilitator course, day 1"
    with pytest.raises(LineInvalid, match="must be the day of the activity"):
        add_line(session, claim, mileage_data(spent_on=TODAY, activity=f"training_day:{day.id}", to_place="B"))


def test_someone_elses_training_day_cannot_be_claimed_for(session):
    cohort = make_cohort(session, starts_on=LAST_WEEK)
    enrol(session, cohort)
    outsider = make_volunteer(session)
    with pytest.raises(LineInvalid, match="Choose a training day or case meeting of yours"):
        add_line(session, start_claim(session, outsider),
                 mileage_data(spent_on=LAST_WEEK, activity=f"training_day:{cohort.days[0].id}"))


def test_case_meetings_are_linkable_only_while_the_case_is_allocated_to_the_claimant(session):
    volunteer = make_volunteer(session)
    case = make_case(session)
    make_allocation(session, case, volunteer, starts_on=LAST_WEEK, ends_on=dt.date(2026, 11, 20))
    during = meeting(session, case, dt.date(2026, 11, 18))
    after = meeting(session, case, dt.date(2026, 11, 21))
    activities = {activity.key: activity for activity in services.list_activities(session, volunteer, today=TODAY)}
    assert f"case_meeting:{during.id}" in activities and f"case_meeting:{after.id}" not in activities
    assert activities[f"case_meeting:{during.id}"].label == f"Case {case.reference}: preparation meeting"
    claim = start_claim(session, volunteer)
    line = add_line(session, claim, mileage_data(spent_on=during.held_on, activity=f"case_meeting:{during.id}"))
    assert line.activity_label == f"Case {case.reference}: preparation meeting"
    with pytest.raises(LineInvalid, match="of yours"):
        add_line(session, claim, mileage_data(spent_on=after.held_on, activity=f"case_meeting:{after.id}",
                                              to_place="C"))
    other = make_volunteer(session)
    with pytest.raises(LineInvalid, match="of yours"):
        add_line(session, start_claim(session, other),
                 mileage_data(spent_on=during.held_on, activity=f"case_meeting:{during.id}"))


def test_supervision_and_other_purposes_are_kept_as_said(session):
    volunteer = make_volunteer(session)
    line = add_line(session, start_claim(session, volunteer),
                    mileage_data(activity="supervision", purpose="Supervision with Siobhán"))
    assert (line.activity_kind, line.activity_label) == (ActivityKind.SUPERVISION, "Supervision with Siobhán")
    assert NOW.date() == TODAY

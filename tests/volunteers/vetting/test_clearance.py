"""cleared_to_practise: the one answer, across the day before, on and after expiry."""

import datetime as dt

from portal.core import settings
from portal.volunteers.vetting import queries
from portal.volunteers.vetting.models import CheckKind, CheckStatus
from portal.volunteers.vetting.rules import RULES_SETTING
from tests.builders import make_user
from tests.volunteers.vetting.builders import TODAY, make_cleared_volunteer, make_volunteer, record

CLEARED_ON = dt.date(2025, 12, 1)
EXPIRES_ON = dt.date(2026, 12, 1)


def test_cleared_the_day_before_expiry_not_cleared_on_it_or_after(session):
    volunteer = make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    user_id = volunteer.user_id

    day_before = queries.cleared_to_practise(session, user_id, EXPIRES_ON - dt.timedelta(days=1))
    on_the_day = queries.cleared_to_practise(session, user_id, EXPIRES_ON)
    day_after = queries.cleared_to_practise(session, user_id, EXPIRES_ON + dt.timedelta(days=1))

    assert day_before.cleared and day_before.reasons == []
    assert not on_the_day.cleared
    assert on_the_day.reasons == ["Police vetting (NPPV2) lapsed on 1 December 2026"]
    assert day_after.reasons == on_the_day.reasons


def test_not_cleared_before_the_day_of_clearance(session):
    volunteer = make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    before = queries.cleared_to_practise(session, volunteer.user_id, CLEARED_ON - dt.timedelta(days=1))
    assert not before.cleared
    assert queries.cleared_to_practise(session, volunteer.user_id, CLEARED_ON).cleared


def test_a_new_volunteer_is_told_every_missing_required_check(session):
    volunteer = make_volunteer(session)
    clearance = queries.cleared_to_practise(session, volunteer.user_id, TODAY)
    assert clearance.cleared is False
    assert clearance.reasons == ["No police vetting (NPPV) recorded", "No references recorded"]


def test_submitted_and_refused_checks_give_their_own_reasons(session):
    volunteer = make_volunteer(session)
    record(session, volunteer, CheckKind.NPPV, CheckStatus.SUBMITTED, submitted_on=dt.date(2026, 11, 2))
    record(session, volunteer, CheckKind.REFERENCES, CheckStatus.REFUSED, reference_last4=None,
           decided_on=dt.date(2026, 11, 5))
    clearance = queries.cleared_to_practise(session, volunteer.user_id, TODAY)
    assert clearance.reasons == [
        "Police vetting (NPPV2) submitted on 2 November 2026, waiting for a decision",
        "References were refused on 5 November 2026",
    ]


def test_a_renewal_cleared_before_expiry_keeps_the_volunteer_cleared(session):
    volunteer = make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    old = next(c for c in queries.list_checks(session, volunteer.id) if c.kind is CheckKind.NPPV)
    record(session, volunteer, CheckKind.NPPV, cleared_on=dt.date(2026, 11, 20), renews_id=old.id)
    assert queries.cleared_to_practise(session, volunteer.user_id, dt.date(2027, 6, 1)).cleared
    assert not queries.cleared_to_practise(session, volunteer.user_id, dt.date(2027, 11, 20)).cleared


def test_required_checks_are_a_setting(session):
    volunteer = make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    settings.set_setting(session, RULES_SETTING, {"dbs": {"required": True}})
    clearance = queries.cleared_to_practise(session, volunteer.user_id, TODAY)
    assert clearance.reasons == ["No enhanced DBS check recorded"]


def test_national_security_vetting_overdue_for_review_says_so(session):
    settings.set_setting(session, RULES_SETTING, {"nsv": {"required": True}})
    volunteer = make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    record(session, volunteer, CheckKind.NSV, cleared_on=dt.date(2021, 11, 1))
    clearance = queries.cleared_to_practise(session, volunteer.user_id, TODAY)
    assert clearance.reasons == ["National security vetting (SC) review was due on 1 November 2026"]


def test_a_person_without_a_volunteer_record_is_outside_vetting(session):
    coordinator = make_user(session)
    clearance = queries.cleared_to_practise(session, coordinator.id, TODAY)
    assert clearance.cleared and clearance.applies is False

"""The pure date rules: expiry, month ends, the Update Service, when each reminder falls due."""

import datetime as dt

import pytest

from portal.volunteers.vetting.models import CheckKind
from portal.volunteers.vetting.rules import (
    DEFAULT_RULES,
    add_months,
    computed_expiry,
    due_reminder,
    rules_as_setting,
    rules_from_setting,
)


def test_police_vetting_expires_on_the_anniversary_of_clearance():
    assert computed_expiry(DEFAULT_RULES[CheckKind.NPPV], dt.date(2026, 3, 3)) == dt.date(2027, 3, 3)


def test_national_security_vetting_review_falls_five_years_on():
    assert computed_expiry(DEFAULT_RULES[CheckKind.NSV], dt.date(2021, 6, 30)) == dt.date(2026, 6, 30)


def test_references_never_expire():
    assert computed_expiry(DEFAULT_RULES[CheckKind.REFERENCES], dt.date(2021, 6, 30)) is None


def test_a_check_cleared_on_29_february_expires_on_28_february_never_later():
    assert add_months(dt.date(2028, 2, 29), 12) == dt.date(2029, 2, 28)
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)


def test_dbs_on_the_update_service_stays_in_date_twelve_months_after_the_last_status_check():
    rule = DEFAULT_RULES[CheckKind.DBS]
    issued = dt.date(2022, 1, 10)
    assert computed_expiry(rule, issued) == dt.date(2025, 1, 10)
    assert computed_expiry(rule, issued, update_service=True,
                           update_service_checked_on=dt.date(2026, 5, 1)) == dt.date(2027, 5, 1)
    # A status check date without a subscription changes nothing.
    assert computed_expiry(rule, issued, update_service=False,
                           update_service_checked_on=dt.date(2026, 5, 1)) == dt.date(2025, 1, 10)


@pytest.mark.parametrize(
    ("days_left", "already", "due"),
    [
        (61, None, None),
        (60, None, 60),
        (59, 60, None),
        (30, 60, 30),
        (30, 30, None),
        (7, 30, 7),
        (1, 7, None),
        (0, None, None),   # expiry day: the check lapses, no reminder
        (-1, None, None),
        (20, None, 30),    # the job missed the 60 and 30 day marks: only the latest reminder goes
    ],
)
def test_each_reminder_falls_due_once(days_left, already, due):
    expires_on = dt.date(2026, 12, 31)
    assert due_reminder((60, 30, 7), expires_on, expires_on - dt.timedelta(days=days_left), already) == due


def test_admin_settings_lay_over_the_defaults_and_round_trip():
    stored = {"nsv": {"required": True, "months": 48, "reminder_days": [7, 90, 30, 30]}}
    rules = rules_from_setting(stored)
    assert rules[CheckKind.NSV].required is True
    assert rules[CheckKind.NSV].months == 48
    assert rules[CheckKind.NSV].reminder_days == (90, 30, 7)
    assert rules[CheckKind.NPPV] == DEFAULT_RULES[CheckKind.NPPV]
    assert rules_from_setting(rules_as_setting(rules)) == rules

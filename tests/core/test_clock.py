"""The clock and England and Wales working days."""

import datetime as dt

from portal.core import clock


def test_bank_holidays_come_from_the_package_including_substitute_days():
    assert clock.is_bank_holiday(dt.date(2026, 12, 25))
    assert clock.is_bank_holiday(dt.date(2026, 12, 28))  # Boxing Day falls on a Saturday
    assert not clock.is_bank_holiday(dt.date(2026, 3, 17))  # St Patrick's Day: Northern Ireland only
    assert not clock.is_working_day(dt.date(2026, 11, 28))  # Saturday


def test_five_working_days_skip_weekends_and_christmas():
    # Wednesday 23 December 2026 + 5 working days: 24, 29, 30, 31 Dec, 4 Jan (1 Jan is a bank holiday)
    assert clock.add_working_days(dt.date(2026, 12, 23), 5) == dt.date(2027, 1, 4)
    assert clock.add_working_days(dt.date(2026, 11, 20), 1) == dt.date(2026, 11, 23)
    assert clock.working_days_between(dt.date(2026, 12, 23), dt.date(2027, 1, 4)) == 5


def test_today_is_the_london_date_and_times_convert_across_bst():
    assert clock.now().tzinfo is dt.UTC
    summer = clock.london_to_utc(dt.date(2026, 7, 1), dt.time(9, 0))
    assert summer == dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)
    assert clock.to_london(summer).hour == 9
    assert clock.today() == clock.to_london(clock.now()).date()

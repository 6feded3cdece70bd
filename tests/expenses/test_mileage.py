"""Mileage at HMRC rates: the 10,000-mile threshold (within one line, across claims, with other
organisations' miles), the tax-year boundary, passengers, and rate changes that never rewrite old lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portal.core.errors import ValidationFailed
from portal.expenses import mileage, services
from portal.expenses.models import Vehicle
from tests.expenses.builders import (
    NOW,
    add_line,
    make_admin,
    make_coordinator,
    make_volunteer,
    mileage_data,
    start_claim,
)

APRIL_2027 = dt.datetime(2027, 4, 10, 9, 0, tzinfo=dt.UTC)


def test_tax_years_run_from_6_april_to_5_april():
    assert mileage.tax_year_of(dt.date(2026, 4, 5)) == 2025
    assert mileage.tax_year_of(dt.date(2026, 4, 6)) == 2026
    assert mileage.tax_year_of(dt.date(2027, 1, 1)) == 2026
    assert mileage.tax_year_bounds(2026) == (dt.date(2026, 4, 6), dt.date(2027, 4, 5))


def test_car_miles_under_the_threshold_are_45p_and_the_rate_is_stored_on_the_line(session):
    volunteer = make_volunteer(session)
    line = add_line(session, start_claim(session, volunteer), mileage_data("20"))
    assert line.amount_pence == 900
    assert (line.miles_at_rate, line.pence_per_mile) == (Decimal("20"), 45)
    assert line.miles_at_rate_after == 0 and line.pence_per_mile_after is None
    assert line.tax_year == 2026


def test_a_line_crossing_10000_miles_with_other_organisations_miles_is_split_at_both_rates(session):
    volunteer = make_volunteer(session)
    services.declare_other_mileage(session, 2026, "9990", actor=volunteer, now=NOW)
    line = add_line(session, start_claim(session, volunteer), mileage_data("20"))
    assert (line.miles_at_rate, line.pence_per_mile) == (Decimal("10"), 45)
    assert (line.miles_at_rate_after, line.pence_per_mile_after) == (Decimal("10"), 25)
    assert line.amount_pence == 10 * 45 + 10 * 25


def test_miles_claimed_on_earlier_claims_count_towards_the_threshold(session):
    volunteer = make_volunteer(session)
    services.declare_other_mileage(session, 2026, "9000", actor=volunteer, now=NOW)
    first = start_claim(session, volunteer)
    add_line(session, first, mileage_data("990.5"))
    second = start_claim(session, volunteer)
    line = add_line(session, second, mileage_data("20"))
    # 9,000 + 990.5 = 9,990.5 miles before: 9.5 miles at 45p, 10.5 at 25p = 427.5 + 262.5 = 690p
    assert (line.miles_at_rate, line.miles_at_rate_after) == (Decimal("9.5"), Decimal("10.5"))
    assert line.amount_pence == 690


def test_exactly_at_the_threshold_every_further_mile_is_25p_and_just_below_it_all_are_45p(session):
    volunteer = make_volunteer(session)
    services.declare_other_mileage(session, 2026, "9980", actor=volunteer, now=NOW)
    claim = start_claim(session, volunteer)
    up_to = add_line(session, claim, mileage_data("20"))
    past = add_line(session, claim, mileage_data("20", to_place="SS1 1AA"))
    assert (up_to.amount_pence, up_to.miles_at_rate_after) == (900, 0)
    assert (past.amount_pence, past.miles_at_rate, past.pence_per_mile_after) == (500, 0, 25)


def test_miles_of_a_withdrawn_claim_no_longer_count(session):
    volunteer = make_volunteer(session)
    services.declare_other_mileage(session, 2026, "9500", actor=volunteer, now=NOW)
    withdrawn = start_claim(session, volunteer)
    add_line(session, withdrawn, mileage_data("600"))
    services.withdraw_claim(session, withdrawn.id, actor=volunteer, now=NOW)
    line = add_line(session, start_claim(session, volunteer), mileage_data("100"))
    assert line.amount_pence == 100 * 45


def test_the_threshold_starts_again_on_6_april(session):
    volunteer = make_volunteer(session)
    services.declare_other_mileage(session, 2026, "10000", actor=volunteer, now=APRIL_2027)
    claim = start_claim(session, volunteer, now=APRIL_2027)
    last_day = add_line(session, claim, mileage_data("10", spent_on=dt.date(2027, 4, 5)), now=APRIL_2027)
    first_day = add_line(session, claim, mileage_data("10", spent_on=dt.date(2027, 4, 6)), now=APRIL_2027)
    assert (last_day.tax_year, last_day.amount_pence) == (2026, 250)
    assert (first_day.tax_year, first_day.amount_pence) == (2027, 450)


def test_passengers_add_5p_a_mile_each_and_other_vehicles_have_their_own_rates(session):
    volunteer = make_volunteer(session)
    claim = start_claim(session, volunteer)
    car = add_line(session, claim, mileage_data("10", passengers=2))
    motorcycle = add_line(session, claim, mileage_data("10", vehicle="motorcycle", to_place="A"))
    bicycle = add_line(session, claim, mileage_data("12.5", vehicle="bicycle", to_place="B"))
    assert (car.amount_pence, car.passenger_pence_per_mile) == (450 + 2 * 10 * 5, 5)
    assert motorcycle.amount_pence == 240
    assert bicycle.amount_pence == 250


def test_a_part_penny_is_rounded_half_up_once_for_the_line(session):
    volunteer = make_volunteer(session)
    line = add_line(session, start_claim(session, volunteer), mileage_data("0.1"))
    assert line.amount_pence == 5  # 4.5p


def test_motorcycle_and_bicycle_miles_do_not_use_up_the_car_threshold(session):
    volunteer = make_volunteer(session)
    services.declare_other_mileage(session, 2026, "9999", actor=volunteer, now=NOW)
    claim = start_claim(session, volunteer)
    add_line(session, claim, mileage_data("900", vehicle="bicycle"))
    car = add_line(session, claim, mileage_data("1", to_place="SS1 1AA"))
    assert car.amount_pence == 45


def test_a_rate_change_prices_later_journeys_and_never_rewrites_earlier_lines(session):
    volunteer = make_volunteer(session)
    admin = make_admin(session)
    claim = start_claim(session, volunteer, now=APRIL_2027)
    before = add_line(session, claim, mileage_data("10", spent_on=dt.date(2027, 4, 1)), now=APRIL_2027)
    services.add_mileage_rate(session, vehicle="car_van", pence_per_mile=50, threshold_miles=10_000,
                              pence_per_mile_after=30, effective_from=dt.date(2027, 4, 6), actor=admin,
                              now=APRIL_2027)
    session.refresh(before)
    assert (before.amount_pence, before.pence_per_mile) == (450, 45)
    after = add_line(session, claim, mileage_data("10", spent_on=dt.date(2027, 4, 7)), now=APRIL_2027)
    late_entry = add_line(session, claim, mileage_data("10", spent_on=dt.date(2027, 4, 2), to_place="X"),
                          now=APRIL_2027)
    assert (after.amount_pence, after.pence_per_mile, after.mileage_rate_id is not None) == (500, 50, True)
    assert late_entry.amount_pence == 450


def test_a_second_rate_change_closes_the_first_and_dates_must_move_forward(session):
    admin = make_admin(session)
    first = services.add_mileage_rate(session, vehicle="bicycle", pence_per_mile=22,
                                      effective_from=dt.date(2027, 4, 6), actor=admin, now=NOW)
    services.add_mileage_rate(session, vehicle="bicycle", pence_per_mile=25, effective_from=dt.date(2028, 4, 6),
                              actor=admin, now=NOW)
    assert first.effective_to == dt.date(2028, 4, 5)
    assert mileage.rate_on(session, "bicycle", dt.date(2028, 1, 1)).pence_per_mile == 22
    assert mileage.rate_on(session, "bicycle", dt.date(2028, 4, 6)).pence_per_mile == 25
    assert mileage.rate_on(session, "bicycle", dt.date(2026, 1, 1)).pence_per_mile == 20
    with pytest.raises(ValidationFailed, match="must start after"):
        services.add_mileage_rate(session, vehicle="bicycle", pence_per_mile=30, effective_from=dt.date(2027, 5, 1),
                                  actor=admin, now=NOW)


def test_only_admins_set_rates_and_impossible_rates_are_refused(session):
    from portal.core.errors import PermissionDenied

    coordinator = make_coordinator(session)
    admin = make_admin(session)
    with pytest.raises(PermissionDenied):
        services.add_mileage_rate(session, vehicle="bicycle", pence_per_mile=22, effective_from=dt.date(2027, 4, 6),
                                  actor=coordinator, now=NOW)
    with pytest.raises(ValidationFailed) as problem:
        services.add_mileage_rate(session, vehicle="car_van", pence_per_mile=0, effective_from=dt.date(2027, 4, 6),
                                  actor=admin, now=NOW)
    assert "Enter pence a mile between 1 and 200" in problem.value.reasons
    assert "Enter the threshold in miles, between 1 and 100,000" in problem.value.reasons


def test_price_journey_is_exact_decimal_arithmetic():
    rate = mileage.DEFAULT_RATES[Vehicle.CAR_VAN.value]
    price = mileage.price_journey(Decimal("30.3"), rate=rate, miles_before=Decimal("9990.1"))
    assert (price.miles_at_rate, price.miles_at_rate_after) == (Decimal("9.9"), Decimal("20.4"))
    assert price.amount_pence == 956  # 445.5 + 510 = 955.5, rounded half up

"""HMRC Approved Mileage Allowance Payments: tax years, the rates in force on a day, and the price of a
journey. Pure arithmetic on Decimal miles and integer pence; the rates themselves are data
(`MileageRate` rows, falling back to DEFAULT_RATES when none has been entered).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.expenses.models import MileageRate, Vehicle

PASSENGER = "passenger"
RATE_KINDS = (Vehicle.CAR_VAN.value, Vehicle.MOTORCYCLE.value, Vehicle.BICYCLE.value, PASSENGER)
RATE_KIND_LABELS = {
    Vehicle.CAR_VAN.value: "Car or van", Vehicle.MOTORCYCLE.value: "Motorcycle",
    Vehicle.BICYCLE.value: "Bicycle", PASSENGER: "Each passenger",
}
ZERO = Decimal("0")
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Rate:
    """The figures of a rate in force: pence a mile, and for cars and vans a lower rate past a threshold."""

    vehicle: str
    pence_per_mile: int
    threshold_miles: int | None = None
    pence_per_mile_after: int | None = None
    effective_from: dt.date = dt.date(2011, 4, 6)
    rate_id: int | None = None


# HMRC's rates since 6 April 2011 (cars and vans 45p to 10,000 miles in the tax year, then 25p).
DEFAULT_RATES = {
    Vehicle.CAR_VAN.value: Rate(Vehicle.CAR_VAN.value, 45, 10_000, 25),
    Vehicle.MOTORCYCLE.value: Rate(Vehicle.MOTORCYCLE.value, 24),
    Vehicle.BICYCLE.value: Rate(Vehicle.BICYCLE.value, 20),
    PASSENGER: Rate(PASSENGER, 5),
}


def tax_year_of(day: dt.date) -> int:
    """The UK tax year a day falls in, named by the year it starts (6 April to 5 April)."""
    return day.year if (day.month, day.day) >= (4, 6) else day.year - 1


def tax_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """First and last day of tax year `year` (6 April `year` to 5 April `year + 1`)."""
    return dt.date(year, 4, 6), dt.date(year + 1, 4, 5)


def tax_year_label(year: int) -> str:
    return f"{year} to {year + 1}"


def rate_on(session: Session, vehicle: str, day: dt.date) -> Rate:
    """The rate for `vehicle` (or PASSENGER) in force on `day`: the entered rate covering that day,
    else HMRC's default."""
    row = session.scalar(
        select(MileageRate)
        .where(
            MileageRate.vehicle == vehicle,
            MileageRate.effective_from <= day,
            or_(MileageRate.effective_to.is_(None), MileageRate.effective_to >= day),
        )
        .order_by(MileageRate.effective_from.desc())
        .limit(1)
    )
    if row is None:
        return DEFAULT_RATES[vehicle]
    return Rate(row.vehicle, row.pence_per_mile, row.threshold_miles, row.pence_per_mile_after,
                row.effective_from, row.id)


@dataclass(frozen=True)
class MileagePrice:
    """How a journey was priced: miles at the rate, miles past the threshold at the lower rate, passengers."""

    miles_at_rate: Decimal
    pence_per_mile: int
    miles_at_rate_after: Decimal
    pence_per_mile_after: int | None
    passenger_pence_per_mile: int
    passengers: int
    amount_pence: int

    @property
    def explanation(self) -> str:
        parts = [f"{self.miles_at_rate} miles at {self.pence_per_mile}p"]
        if self.miles_at_rate_after:
            parts.append(f"{self.miles_at_rate_after} miles at {self.pence_per_mile_after}p")
        if self.passengers:
            miles = self.miles_at_rate + self.miles_at_rate_after
            parts.append(f"{self.passengers} × {miles} passenger miles at {self.passenger_pence_per_mile}p")
        return ", ".join(parts)


def price_journey(
    miles: Decimal, *, rate: Rate, passengers: int = 0, passenger_rate: Rate | None = None,
    miles_before: Decimal = ZERO,
) -> MileagePrice:
    """The price of `miles` at `rate` when `miles_before` were already driven in the tax year.

    A journey that crosses the threshold is split: the miles up to it at the full rate, the rest at
    the lower rate. Passengers add their rate per passenger per mile. The total is rounded to the
    nearest penny (halves up) once, for the whole line.
    """
    miles = Decimal(miles)
    at_rate, after = miles, ZERO
    if rate.threshold_miles is not None and rate.pence_per_mile_after is not None:
        room = max(ZERO, Decimal(rate.threshold_miles) - Decimal(miles_before))
        at_rate = min(miles, room)
        after = miles - at_rate
    passenger_pence = passenger_rate.pence_per_mile if (passengers and passenger_rate) else 0
    exact = (
        at_rate * rate.pence_per_mile
        + after * (rate.pence_per_mile_after or 0)
        + miles * passengers * passenger_pence
    )
    return MileagePrice(
        miles_at_rate=at_rate, pence_per_mile=rate.pence_per_mile, miles_at_rate_after=after,
        pence_per_mile_after=rate.pence_per_mile_after if after else None,
        passenger_pence_per_mile=passenger_pence, passengers=passengers,
        amount_pence=int(exact.quantize(Decimal("1"), rounding=ROUND_HALF_UP)),
    )

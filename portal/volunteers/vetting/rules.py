"""Pure date rules of vetting: how long each kind of check lasts, when reminders fall due, and the
default configuration an admin may change (stored as the setting `volunteers.vetting.rules`).

Dates are calendar dates in Europe/London; a check "expires on" the first day it no longer counts.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from portal.volunteers.vetting.models import CheckKind

RULES_SETTING = "volunteers.vetting.rules"
DEFAULT_REMINDER_DAYS = (60, 30, 7)


@dataclass(frozen=True)
class CheckRule:
    """How one kind of check is treated. `months` is the validity (or, for national security
    vetting, the review period) from the date cleared; None means it does not expire."""

    kind: CheckKind
    required: bool
    months: int | None
    reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS
    # Enhanced DBS with the Update Service: a status check keeps it in date this long.
    update_service_months: int | None = None

    @property
    def expiry_word(self) -> str:
        return "review due" if self.kind is CheckKind.NSV else "expires"

    def as_setting(self) -> dict[str, Any]:
        values = asdict(self)
        values["kind"] = self.kind.value
        values["reminder_days"] = list(self.reminder_days)
        return values


DEFAULT_RULES: dict[CheckKind, CheckRule] = {
    # Force vetting units renew non-police personnel vetting every year for volunteers with case access.
    CheckKind.NPPV: CheckRule(CheckKind.NPPV, required=True, months=12),
    # National security vetting is reviewed after five years (CTC and SC).
    CheckKind.NSV: CheckRule(CheckKind.NSV, required=False, months=60),
    # A DBS certificate has no legal expiry; services re-check after 3 years, or rely on an Update
    # Service status check no older than 12 months (rj-domain.md §2.8).
    CheckKind.DBS: CheckRule(CheckKind.DBS, required=False, months=36, update_service_months=12),
    # Two satisfactory references, taken up during recruitment; they do not expire.
    CheckKind.REFERENCES: CheckRule(CheckKind.REFERENCES, required=True, months=None, reminder_days=()),
}


def rules_from_setting(stored: Mapping[str, Any] | None) -> dict[CheckKind, CheckRule]:
    """The rules for every kind: the defaults, with whatever an admin has stored laid over them."""
    rules = dict(DEFAULT_RULES)
    for kind in CheckKind:
        values = (stored or {}).get(kind.value)
        if not values:
            continue
        rule = rules[kind]
        rules[kind] = replace(
            rule,
            required=bool(values.get("required", rule.required)),
            months=_optional_int(values.get("months", rule.months)),
            reminder_days=normalise_reminder_days(values.get("reminder_days", rule.reminder_days)),
            update_service_months=_optional_int(values.get("update_service_months", rule.update_service_months)),
        )
    return rules


def rules_as_setting(rules: Mapping[CheckKind, CheckRule]) -> dict[str, Any]:
    return {kind.value: rule.as_setting() for kind, rule in rules.items()}


def _optional_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def normalise_reminder_days(days: Iterable[Any]) -> tuple[int, ...]:
    """Distinct positive whole days, largest first (60, 30, 7)."""
    return tuple(sorted({int(day) for day in days if int(day) > 0}, reverse=True))


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later; the last day of the month when that day does not exist
    (29 February + 12 months = 28 February: never later than the rule allows)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def computed_expiry(
    rule: CheckRule, cleared_on: dt.date | None, *, update_service: bool = False,
    update_service_checked_on: dt.date | None = None,
) -> dt.date | None:
    """The first day a check cleared on `cleared_on` no longer counts under `rule` (None: never)."""
    if cleared_on is None or rule.months is None:
        return None
    expiry = add_months(cleared_on, rule.months)
    if update_service and update_service_checked_on and rule.update_service_months:
        expiry = max(expiry, add_months(update_service_checked_on, rule.update_service_months))
    return expiry


def due_reminder(
    reminder_days: Iterable[int], expires_on: dt.date, on: dt.date, already_sent: int | None
) -> int | None:
    """The reminder (its lead in days) to send on `on` for a check expiring on `expires_on`, or None.

    The smallest lead whose day has come is due, unless it (or a later one) was already sent; after
    a gap only the most recent reminder goes, so a volunteer never gets three at once.
    """
    days_left = (expires_on - on).days
    if days_left <= 0:
        return None
    reached = [lead for lead in reminder_days if days_left <= lead]
    if not reached:
        return None
    lead = min(reached)
    if already_sent is not None and already_sent <= lead:
        return None
    return lead


def long_date(day: dt.date) -> str:
    return f"{day:%-d %B %Y}"

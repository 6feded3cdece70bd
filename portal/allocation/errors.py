"""The allocation module's domain errors."""

from __future__ import annotations

from portal.core.errors import RuleViolation, ValidationFailed


class AllocationInputInvalid(ValidationFailed):
    """A case's needs, a decline reason or the ranking settings failed validation.

    `errors` maps each form field to its messages (in the order checked); `reasons` lists them all and
    `field` names the first field with an error.
    """

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        reasons = [message for messages in errors.values() for message in messages]
        super().__init__(reasons=reasons, field=next(iter(errors), None))


class OfferRefused(RuleViolation):
    """A case cannot be offered (or an offer accepted): `reasons` lists every reason, each naming the
    person it is about ("Sam Patel: holds 2 of 2 cases")."""

    def __init__(self, reasons: list[str]):
        super().__init__(reasons=reasons)

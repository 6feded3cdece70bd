"""The supervision module's domain errors."""

from __future__ import annotations

from portal.core.errors import RuleViolation, ValidationFailed


class SupervisionInputInvalid(ValidationFailed):
    """A slot, series or session record failed validation.

    `errors` maps each form field to its messages (in the order checked); `reasons` lists them all and
    `field` names the first field with an error.
    """

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        reasons = [message for messages in errors.values() for message in messages]
        super().__init__(reasons=reasons, field=next(iter(errors), None))


class SlotUnavailable(RuleViolation):
    """The slot cannot be booked or moved to: full, cancelled, past, inside its minimum notice, or it
    overlaps another booking of the same volunteer."""


class CutoffPassed(RuleViolation):
    """The volunteer may no longer cancel or move the booking themselves: the cut-off has passed."""

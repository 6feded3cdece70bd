"""The interviews sub-package's domain errors."""

from __future__ import annotations

from portal.core.errors import RuleViolation, ValidationFailed


class InterviewInputInvalid(ValidationFailed):
    """A slot, series or interview record failed validation.

    `errors` maps each form field to its messages (in the order checked); `reasons` lists them all and
    `field` names the first field with an error.
    """

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        reasons = [message for messages in errors.values() for message in messages]
        super().__init__(reasons=reasons, field=next(iter(errors), None))


class SlotUnavailable(RuleViolation):
    """The chosen slot cannot be booked: full, cancelled, past, or too soon to book."""

"""The expenses module's domain errors."""

from __future__ import annotations

from portal.core.errors import ValidationFailed


class LineInvalid(ValidationFailed):
    """A claim line failed validation: `errors` maps each field to its messages, in field order."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        reasons = [message for messages in errors.values() for message in messages]
        super().__init__(reasons=reasons, field=next(iter(errors), None))


class ClaimIncomplete(ValidationFailed):
    """A claim cannot be submitted yet (no lines, or lines without a required receipt)."""

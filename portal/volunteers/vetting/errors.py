"""The vetting module's domain errors."""

from __future__ import annotations

from portal.core.errors import ValidationFailed


class CheckInvalid(ValidationFailed):
    """A check (or a change to one, or the rules) broke a rule: impossible dates, an overlapping
    duplicate, a full certificate number, a disallowed status change.

    `errors` maps each form field to its messages (in field order); `reasons` lists them all and
    `field` names the first field with an error, for the error summary's first link.
    """

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        reasons = [message for messages in errors.values() for message in messages]
        super().__init__(reasons=reasons, field=next(iter(errors), None))

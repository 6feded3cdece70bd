"""The volunteers module's domain errors."""

from __future__ import annotations

from portal.core.errors import ValidationFailed


class SectionInvalid(ValidationFailed):
    """A section of an application failed validation.

    `errors` maps each form field to its messages (in field order); `reasons` lists them all and
    `field` names the first field with an error, for the error summary's first link.
    """

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        reasons = [message for messages in errors.values() for message in messages]
        super().__init__(reasons=reasons, field=next(iter(errors), None))


class ApplicationIncomplete(ValidationFailed):
    """An application was submitted before every required section was complete."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__(reasons=[f"Complete the section “{label}” before you submit" for label in missing])

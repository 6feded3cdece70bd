"""The references package's domain errors."""

from __future__ import annotations

import enum

from portal.core.errors import RuleViolation, ValidationFailed


class LinkState(enum.StrEnum):
    """What a referee's link can do: open the form, or show why it cannot."""

    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class ReferenceLinkUnusable(RuleViolation):
    """A reference link was used, has expired (or was replaced, or is no longer needed), or never existed.

    `state` says which, so the page can explain it.
    """

    def __init__(self, state: LinkState):
        self.state = state
        messages = {
            LinkState.USED: "This reference has already been sent. Thank you",
            LinkState.EXPIRED: "This link has expired or is no longer needed",
            LinkState.UNKNOWN: "This link is not recognised",
        }
        super().__init__(messages.get(state, "This link cannot be used"))


class ReferenceInvalid(ValidationFailed):
    """Answers that break a rule: `errors` maps each field to its messages, in field order."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        reasons = [message for messages in errors.values() for message in messages]
        super().__init__(reasons=reasons, field=next(iter(errors), None))

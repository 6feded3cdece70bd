"""The training module's domain errors."""

from __future__ import annotations

from portal.core.errors import RuleViolation, ValidationFailed


class CohortInvalid(ValidationFailed):
    """A course or cohort's details break a rule (days out of order, overlapping, capacity too low).

    `errors` maps form field names ("days", "capacity", "trainer_ids", ...) to messages; `field` names
    the first one, for the error summary's first link.
    """

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        reasons = [message for messages in errors.values() for message in messages]
        super().__init__(reasons=reasons, field=next(iter(errors), None))


class EnrolmentRefused(RuleViolation):
    """A person may not be enrolled (or put on the waiting list) on a cohort; `reasons` say why."""


class AlreadyEnrolled(EnrolmentRefused):
    """The person already holds a place or a waiting-list place on the cohort. `enrolment` is that one."""

    def __init__(self, message: str, *, enrolment=None):
        super().__init__(message)
        self.enrolment = enrolment


class RegisterInvalid(ValidationFailed):
    """A register could not be saved (an absence without a reason, a day not yet started, ...)."""


class MakeUpRefused(RuleViolation):
    """A make-up day cannot be booked or cancelled; `reasons` say why."""


class CompletionBlocked(RuleViolation):
    """An enrolment cannot be recorded as completed; `reasons` lists everything still missing."""

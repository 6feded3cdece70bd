"""Domain errors of coursework, marking and the practical assessment."""

from __future__ import annotations

from portal.core.errors import RuleViolation, ValidationFailed


class UploadRejected(ValidationFailed):
    """An uploaded file was refused (empty, too large, wrong type, unsafe name); the reason says which."""

    def __init__(self, message: str):
        super().__init__(message, field="file")


class SubmissionRefused(RuleViolation):
    """Work cannot be submitted now (nothing given, marking has started, no attempt open)."""


class MarkingLocked(RuleViolation):
    """Someone else holds the marking lock on this work, or it is allocated to someone else."""


class MarkingRefused(RuleViolation):
    """Marking, allocation, moderation or release breaks a rule (conflict of interest, own marking, ...)."""


class AssignmentInvalid(ValidationFailed):
    """An assignment's details or rubric break a rule; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        reasons = [message for messages in errors.values() for message in messages]
        super().__init__(reasons=reasons, field=next(iter(errors), None))


class PracticalInvalid(ValidationFailed):
    """A practical assessment record breaks a rule (a pass with a competency not yet met, no evidence)."""

"""Domain errors: services raise these; the web edge maps them to pages in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every error a service raises on purpose."""

    def __init__(self, message: str = "", *, reasons: list[str] | None = None):
        self.reasons = list(reasons or ([message] if message else []))
        super().__init__(message or "; ".join(self.reasons))


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it exists (404)."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this (403)."""


class RuleViolation(DomainError):
    """A business rule forbids the change; `reasons` say why in the user's words (409)."""


class ValidationFailed(RuleViolation):
    """Input that the form accepted breaks a rule the service owns (e.g. a weak password).

    `field` names the form field the reasons belong to, when there is one.
    """

    def __init__(self, message: str = "", *, reasons: list[str] | None = None, field: str | None = None):
        super().__init__(message, reasons=reasons)
        self.field = field


def transition_error(kind: str, current: str, target: str, why: str | None = None) -> RuleViolation:
    """A RuleViolation naming both states of a disallowed status change."""
    article = "An" if kind[:1].lower() in "aeiou" else "A"
    message = f"{article} {kind} cannot move from {current.replace('_', ' ')} to {target.replace('_', ' ')}"
    return RuleViolation(f"{message}: {why}" if why else message)

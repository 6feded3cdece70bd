"""The case module's domain errors."""

from __future__ import annotations

from portal.core.errors import RuleViolation


class AllocationBlocked(RuleViolation):
    """An allocation was refused; `reasons` lists every reason, this module's and other modules'."""

    def __init__(self, reasons: list[str]):
        super().__init__(reasons=reasons)

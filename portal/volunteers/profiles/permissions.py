"""Who may make an offer and create a volunteer record: pure predicates, no queries of their own."""

from __future__ import annotations

from typing import Any

from portal.core.accounts import is_coordinator


def can_make_offer(user: Any) -> bool:
    """Offer a place after interview and references: coordinators only."""
    return is_coordinator(user)

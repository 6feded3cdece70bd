"""Who may do what with allocation: pure predicates `can_<verb>_<noun>(user, obj=None) -> bool`.

Coordinators record needs, offer cases, withdraw offers and work through bulk proposals; admins
change the ranking weights. A facilitator sees and answers only their own offers.
"""

from __future__ import annotations

from typing import Any

from portal.allocation.models import AllocationOffer, OfferStatus
from portal.core.accounts import Role, is_coordinator, is_signed_in


def can_manage_allocation(user: Any) -> bool:
    """Record a case's needs, see suggestions and reasons, offer, withdraw, and use bulk proposals."""
    return is_coordinator(user)


def can_change_weights(user: Any) -> bool:
    """The ranking weights and the time to answer an offer are admin settings."""
    return is_signed_in(user) and user.has_role(Role.ADMIN)


def can_view_offer(user: Any, offer: AllocationOffer) -> bool:
    """The facilitator the offer was made to; anyone else is told it does not exist (404)."""
    return is_signed_in(user) and offer.user_id == user.id


def can_answer_offer(user: Any, offer: AllocationOffer) -> bool:
    """Accept or decline: the offer's own facilitator, while it is still waiting for an answer (the
    service also refuses an offer past its respond-by time before the lapse job has run)."""
    return can_view_offer(user, offer) and offer.status is OfferStatus.OFFERED


def can_withdraw_offer(user: Any, offer: AllocationOffer) -> bool:
    """Coordinators withdraw a live offer (offered, or accepted and not yet allocated)."""
    return is_coordinator(user) and offer.is_live

"""Who may do what with expense claims: pure predicates over loaded objects.

Volunteers (and trainers) claim. Coordinators approve, but never their own claim. Coordinators and
admins run payment batches (there is no finance role yet). Admins set mileage rates and the policy.
Receipts are served to the claimant and to approvers only.
"""

from __future__ import annotations

from typing import Any

from portal.core.accounts import Role, is_signed_in
from portal.expenses.models import Claim, ClaimStatus


def can_claim(user: Any) -> bool:
    return is_signed_in(user) and user.has_role(Role.VOLUNTEER, Role.TRAINER)


def can_approve_claims(user: Any) -> bool:
    return is_signed_in(user) and user.has_role(Role.COORDINATOR)


def can_run_payments(user: Any) -> bool:
    return is_signed_in(user) and user.has_role(Role.COORDINATOR, Role.ADMIN)


def can_manage_policy(user: Any) -> bool:
    return is_signed_in(user) and user.has_role(Role.ADMIN)


def is_claimant(user: Any, claim: Claim) -> bool:
    return is_signed_in(user) and claim.claimant_id == user.id


def can_view_claim(user: Any, claim: Claim) -> bool:
    """The claimant; approvers once it is submitted (a draft is the claimant's own business); and whoever
    runs payments once it is in a batch."""
    if is_claimant(user, claim):
        return True
    if can_approve_claims(user) and claim.status is not ClaimStatus.DRAFT:
        return True
    return can_run_payments(user) and claim.batch_id is not None


def can_view_receipts(user: Any, claim: Claim) -> bool:
    """The claimant, and approvers once the claim is submitted."""
    return is_claimant(user, claim) or (can_approve_claims(user) and claim.status is not ClaimStatus.DRAFT)


def can_decide_claim(user: Any, claim: Claim) -> bool:
    """Query, approve or reject: an approver who is not the claimant."""
    return can_approve_claims(user) and claim.claimant_id != user.id

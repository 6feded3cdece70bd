"""Demo expenses: a claim in every state, made through the services; loading twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.expenses.demo import load_demo_expenses
from portal.expenses.models import Claim, ClaimStatus
from tests.expenses.builders import NOW, make_coordinator, make_volunteer


def test_demo_claims_cover_every_state_and_load_once(session, receipts_dir):
    coordinator = make_coordinator(session)
    volunteers = [make_volunteer(session) for _ in range(4)]
    claims = load_demo_expenses(session, coordinator=coordinator, volunteers=volunteers, now=NOW,
                                receipts_dir=receipts_dir)
    assert {claim.status for claim in claims} == set(ClaimStatus)
    assert load_demo_expenses(session, coordinator=coordinator, volunteers=volunteers, now=NOW) == []
    assert session.scalar(select(func.count(Claim.id))) == len(ClaimStatus)


def test_demo_claims_need_no_receipt_folder(session):
    claims = load_demo_expenses(session, coordinator=make_coordinator(session), volunteers=[make_volunteer(session)],
                                now=NOW)
    assert len(claims) == len(ClaimStatus)

"""Two coordinators act on one claim (or one batch) at the same moment: PostgreSQL row locks leave one
consistent result."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.core.accounts import User
from portal.core.errors import RuleViolation
from portal.core.outbox import OutboxMessage
from portal.expenses import services
from portal.expenses.models import Claim, ClaimEvent, ClaimStatus, PaymentBatch
from tests.conftest import POSTGRES_URL
from tests.expenses.builders import NOW, TODAY, make_coordinator, make_submitted_claim, make_volunteer

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (PORTAL_TEST_DATABASE_URL) to prove the lock"),
]


def _setup(engine, receipts_dir: Path):
    with Session(engine) as setup:
        claim = make_submitted_claim(setup, make_volunteer(setup), receipts_dir)
        first, second = make_coordinator(setup), make_coordinator(setup)
        setup.commit()
        return claim.id, first.id, second.id


def _race(engine, mine_acts, theirs_acts):
    """Run `mine_acts` in a transaction that holds its locks while `theirs_acts` starts in another thread;
    returns whether the other waited, and what it raised (or None)."""
    result: dict[str, object] = {"error": None}

    def in_another_transaction():
        with Session(engine) as other:
            try:
                theirs_acts(other)
                other.commit()
            except RuleViolation as problem:
                other.rollback()
                result["error"] = problem

    with Session(engine) as mine:
        mine_acts(mine)
        thread = threading.Thread(target=in_another_transaction)
        thread.start()
        thread.join(timeout=1)
        waited = thread.is_alive()
        mine.commit()
    thread.join(timeout=30)
    return waited, result["error"]


def test_two_coordinators_approving_at_once_approve_once(engine, receipts_dir):
    claim_id, first_id, second_id = _setup(engine, receipts_dir)
    waited, error = _race(
        engine,
        lambda s: services.approve_claim(s, claim_id, actor=s.get(User, first_id), now=NOW),
        lambda s: services.approve_claim(s, claim_id, actor=s.get(User, second_id), now=NOW),
    )
    assert waited
    assert "cannot move from approved to approved" in str(error)
    with Session(engine) as check:
        claim = check.get(Claim, claim_id)
        assert (claim.status, claim.decided_by_id) == (ClaimStatus.APPROVED, first_id)
        approvals = check.scalar(select(func.count(ClaimEvent.id)).where(
            ClaimEvent.claim_id == claim_id, ClaimEvent.to_status == ClaimStatus.APPROVED))
        mails = check.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.subject.contains("approved")))
        assert (approvals, mails) == (1, 1)


def test_approve_and_reject_at_once_leave_one_decision(engine, receipts_dir):
    claim_id, first_id, second_id = _setup(engine, receipts_dir)
    waited, error = _race(
        engine,
        lambda s: services.reject_claim(s, claim_id, "Paid by the venue", actor=s.get(User, first_id), now=NOW),
        lambda s: services.approve_claim(s, claim_id, actor=s.get(User, second_id), now=NOW),
    )
    assert waited and "cannot move from rejected to approved" in str(error)
    with Session(engine) as check:
        claim = check.get(Claim, claim_id)
        assert (claim.status, claim.approved_pence) == (ClaimStatus.REJECTED, 0)


def test_a_batch_marked_paid_twice_at_once_is_paid_once(engine, receipts_dir):
    claim_id, first_id, second_id = _setup(engine, receipts_dir)
    with Session(engine) as setup:
        services.approve_claim(setup, claim_id, actor=setup.get(User, first_id), now=NOW)
        batch = services.create_batch(setup, actor=setup.get(User, first_id), now=NOW)
        services.lock_batch(setup, batch.id, actor=setup.get(User, first_id), now=NOW)
        setup.commit()
        batch_id = batch.id
    waited, error = _race(
        engine,
        lambda s: services.mark_batch_paid(s, batch_id, TODAY, actor=s.get(User, first_id), now=NOW),
        lambda s: services.mark_batch_paid(s, batch_id, TODAY, actor=s.get(User, second_id), now=NOW),
    )
    assert waited and "already marked paid" in str(error)
    with Session(engine) as check:
        assert check.get(PaymentBatch, batch_id).paid_by_id == first_id
        paid_events = check.scalar(select(func.count(ClaimEvent.id)).where(
            ClaimEvent.claim_id == claim_id, ClaimEvent.to_status == ClaimStatus.PAID))
        assert paid_events == 1

"""Demo expense claims in every state, made through the services so every rule and audit entry holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.core.accounts import User
from portal.expenses import services
from portal.expenses.models import Claim, ClaimStatus

# A 1×1 PNG: a stand-in receipt photo.
_DEMO_RECEIPT = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cfc0f0"
    "1f0005010201a5a1d0e90000000049454e44ae426082"
)


def _journey(day: dt.date, miles: str, start: str, end: str, description: str, passengers: int = 0) -> dict:
    return {"spent_on": day, "category": "mileage", "from_place": start, "to_place": end, "miles": miles,
            "vehicle": "car_van", "passengers": str(passengers), "description": description,
            "activity": "other", "purpose": description}


def _cost(day: dt.date, category: str, amount: str, description: str) -> dict:
    return {"spent_on": day, "category": category, "amount": amount, "description": description}


def load_demo_expenses(
    session: Session, *, coordinator: User, volunteers: Sequence[User], now: dt.datetime,
    receipts_dir: str | Path | None = None,
) -> list[Claim]:
    """Claims in every state (draft, submitted, queried, approved, in a payment batch, paid, rejected,
    withdrawn) for the given volunteers, decided by `coordinator`. Does nothing if they already have claims.

    Lines stay at or under the default receipt limit unless `receipts_dir` is given, where a stand-in
    receipt photo is stored for the larger ones.
    """
    if not volunteers:
        return []
    ids = [volunteer.id for volunteer in volunteers]
    if session.scalar(select(func.count(Claim.id)).where(Claim.claimant_id.in_(ids))):
        return []
    today = services.london_today(now)

    def person(index: int) -> User:
        return volunteers[index % len(volunteers)]

    def make(index: int, lines: list[dict], *, submit: bool = True, receipt_over: int = 500) -> Claim:
        volunteer = person(index)
        claim = services.start_claim(session, actor=volunteer, now=now)
        for data in lines:
            line = services.save_line(session, claim.id, data, actor=volunteer, now=now)
            if receipts_dir is not None and not line.is_mileage and line.amount_pence > receipt_over:
                services.add_receipt(session, line.id, _DEMO_RECEIPT, filename="receipt.png", directory=receipts_dir,
                                     actor=volunteer, now=now)
        if submit:
            services.submit_claim(session, claim.id, actor=volunteer, now=now)
        return claim

    def days_ago(days: int) -> dt.date:
        return today - dt.timedelta(days=days)

    claims: list[Claim] = []
    paid = make(0, [_journey(days_ago(40), "18.4", "CM2 9AB", "CO1 1ZZ", "Training day 1 at Colchester"),
                    _cost(days_ago(40), "parking", "4.50", "Car park at the training venue")])
    services.approve_claim(session, paid.id, actor=coordinator, now=now)
    batch = services.create_batch(session, actor=coordinator, now=now)
    services.lock_batch(session, batch.id, actor=coordinator, now=now)
    services.mark_batch_paid(session, batch.id, today, actor=coordinator, now=now)
    claims.append(paid)

    in_batch = make(1, [_journey(days_ago(30), "32", "SS1 2AB", "CM1 1QH", "Supervision in Chelmsford", 1)])
    services.approve_claim(session, in_batch.id, actor=coordinator, now=now)
    services.create_batch(session, actor=coordinator, now=now)
    claims.append(in_batch)

    approved = make(2, [_cost(days_ago(21), "public_transport", "4.80", "Bus to a case preparation meeting"),
                        _cost(days_ago(21), "subsistence", "4.95", "Lunch on a long case day")])
    services.approve_claim(session, approved.id, actor=coordinator, now=now)
    claims.append(approved)

    submitted = make(3, [_journey(days_ago(10), "12.5", "CO4 3SQ", "CO7 0AA", "Case meeting in Brightlingsea"),
                         _cost(days_ago(10), "phone_postage", "2.35", "Posting signed forms back")])
    claims.append(submitted)

    queried = make(4, [_journey(days_ago(15), "46", "CM20 1AA", "CM1 1QH", "Training day 3")])
    services.query_claim(session, queried.id, "Was this the same day as your other journey to Chelmsford?",
                         actor=coordinator, now=now)
    claims.append(queried)

    rejected = make(5, [_cost(days_ago(25), "care_of_dependants", "5.00", "Childminder for the evening session")])
    services.reject_claim(session, rejected.id, "The childminder was already paid through the training grant",
                          actor=coordinator, now=now)
    claims.append(rejected)

    withdrawn = make(6, [_cost(days_ago(12), "parking", "3.20", "Parking at the county hall")])
    services.withdraw_claim(session, withdrawn.id, actor=person(6), now=now, reason="Claimed on another form")
    claims.append(withdrawn)

    draft = make(7, [_journey(days_ago(2), "8.3", "CB10 1AA", "CB11 3AA", "Co-facilitator briefing")], submit=False)
    claims.append(draft)

    assert {claim.status for claim in claims} == set(ClaimStatus)
    return claims

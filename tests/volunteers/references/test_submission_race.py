"""A referee's form sent twice at the same moment stores one reference (PostgreSQL row lock)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.volunteers.references import services
from portal.volunteers.references.errors import LinkState, ReferenceLinkUnusable
from portal.volunteers.references.models import Reference
from tests.conftest import POSTGRES_URL
from tests.volunteers.builders import NOW
from tests.volunteers.references.helpers import GOOD_ANSWERS, requested, tokens_sent_to

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (PORTAL_TEST_DATABASE_URL) to prove the lock"),
]


def test_two_submissions_at_the_same_moment_store_one_reference(engine):
    with Session(engine) as setup:
        requested(setup)
        setup.commit()
        token = tokens_sent_to(setup, "zoe@example.org")[0]
    result: dict[str, object] = {}

    def submit_in_another_transaction():
        with Session(engine) as second:
            try:
                services.submit_reference(second, token, {**GOOD_ANSWERS, "reliability": "Second"}, now=NOW)
                second.commit()
                result["outcome"] = "stored"
            except ReferenceLinkUnusable as unusable:
                result["outcome"] = unusable.state

    with Session(engine) as first:
        services.submit_reference(first, token, GOOD_ANSWERS, now=NOW)
        other = threading.Thread(target=submit_in_another_transaction)
        other.start()
        other.join(timeout=1)
        waited = other.is_alive()  # blocked on this transaction's claim of the reference row
        first.commit()
    other.join(timeout=30)

    assert waited
    assert result["outcome"] is LinkState.USED
    with Session(engine) as check:
        received = check.scalars(select(Reference.reliability).where(Reference.position == 2)).all()
    assert received == [GOOD_ANSWERS["reliability"]]

"""Several delivery jobs at once on PostgreSQL: each message is sent by exactly one of them."""

import itertools
import threading
from collections import Counter
from contextlib import nullcontext

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import outbox
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.web import mailer
from tests.builders import FIXED_NOW

pytestmark = pytest.mark.postgres_only


def test_two_jobs_running_at_once_never_send_a_message_twice(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) can only be shown on PostgreSQL; SQLite has none")
    with Session(engine) as setup:
        for number in range(5):
            outbox.queue(
                setup, to=f"p{number}@example.org", subject="Hello", template="core/password_reset",
                context={"name": "x", "link": "y", "hours": 1, "service_name": "Portal"}, now=FIXED_NOW,
            )
        setup.commit()

    sent: dict[str, list[int]] = {"first": [], "second": []}
    first_claimed = threading.Event()
    second_finished = threading.Event()

    def first_send(message):
        sent["first"].append(message.id)
        first_claimed.set()
        # Hold the lock on the first message until the other job has run to the end.
        assert second_finished.wait(timeout=30), "the second job never finished"

    def run_first():
        asked = itertools.count()
        with Session(engine) as session:
            outbox.deliver_queued(
                session, lambda: nullcontext(first_send), now=FIXED_NOW, out_of_time=lambda: next(asked) >= 1
            )

    first = threading.Thread(target=run_first)
    first.start()
    assert first_claimed.wait(timeout=30), "the first job never claimed a message"
    with Session(engine) as session:
        outbox.deliver_queued(
            session, lambda: nullcontext(lambda message: sent["second"].append(message.id)), now=FIXED_NOW
        )
    second_finished.set()
    first.join(timeout=30)

    assert len(sent["first"]) == 1 and len(sent["second"]) == 4
    assert set(sent["first"]).isdisjoint(sent["second"])
    with Session(engine) as check:
        statuses = check.scalars(select(OutboxMessage.status)).all()
    assert statuses == ["sent"] * 5


def test_three_jobs_sending_a_backlog_together_send_each_message_exactly_once(engine, app, smtp):
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) can only be shown on PostgreSQL; SQLite has none")
    with Session(engine) as setup:
        ids = [
            outbox.queue(
                setup, to=f"p{number}@example.org", subject="Your DBS check expires soon",
                template="core/password_reset",
                context={"name": "x", "link": "y", "hours": 1, "service_name": "Portal"}, now=FIXED_NOW,
            ).id
            for number in range(300)
        ]
        setup.commit()
    reports = []
    start = threading.Barrier(3)

    def job():
        with app.app_context():
            start.wait(timeout=30)
            reports.append(outbox.deliver_queued(db.session, mailer.connect, now=FIXED_NOW, batch_size=20))

    workers = [threading.Thread(target=job) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert sum(report.sent for report in reports) == 300 and len(reports) == 3
    received = Counter(int(message["X-Portal-Message-Id"]) for message in smtp.inbox.messages)
    assert received == Counter(ids)
    with Session(engine) as check:
        assert Counter(check.scalars(select(OutboxMessage.status))) == {"sent": 300}

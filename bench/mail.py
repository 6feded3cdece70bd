"""Bench mail delivery: 10,000 queued vetting reminders sent by the delivery job to an SMTP server
(aiosmtpd) running in this process, in messages per second against a target of 200, then a check that
every message arrived exactly once.

    .venv/bin/python bench/mail.py                  # 10,000 messages, SQLite file in a temporary folder
    .venv/bin/python bench/mail.py --messages 2000

The database is a new SQLite file unless PORTAL_BENCH_DATABASE_URL names a PostgreSQL database (it
must exist; the bench creates any missing tables, refuses an outbox holding messages it did not queue,
and deletes its own messages afterwards).
The timed part is `outbox.deliver_queued` as `flask jobs run` calls it, with `mailer.connect` (one
SMTP connection per batch of 100), committing after every message. The server shares this process,
and so its CPU, with the job: a server elsewhere leaves the job more.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import portal.models  # noqa: F401  (every table on Base.metadata)
from portal.config import TestConfig
from portal.core import outbox
from portal.core.db import Base
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.factory import create_app
from portal.web import mailer

TARGET_PER_SECOND = 200.0
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
DEDUPE_PREFIX = "bench.mail:"
HEADER = re.compile(rb"^X-Portal-Message-Id: (\d+)\r?$", re.MULTILINE)


class CountingServer:
    """What the SMTP server accepted: how often each outbox id arrived, and over how many connections."""

    def __init__(self) -> None:
        self.received: Counter[int] = Counter()
        self.connections: set[tuple[str, int]] = set()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        found = HEADER.search(envelope.original_content or envelope.content)
        self.received[int(found.group(1)) if found else -1] += 1
        self.connections.add(tuple(session.peer[:2]))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def remove_bench_messages(engine: Engine) -> None:
    """Delete the messages this bench queued; refuse a database whose outbox holds any others."""
    ours = OutboxMessage.dedupe_key.like(f"{DEDUPE_PREFIX}%")
    with Session(engine) as session:
        others = session.scalar(select(func.count(OutboxMessage.id)).where(~ours | OutboxMessage.dedupe_key.is_(None)))
        if others:
            raise SystemExit(f"The database's outbox holds {others:,} messages the bench did not queue; use another")
        session.execute(delete(OutboxMessage).where(ours))
        session.commit()


def queue_reminders(engine: Engine, count: int) -> list[int]:
    """`count` vetting reminders, each rendered from the real templates, inserted in one transaction."""
    messages = []
    for number in range(count):
        subject = "Your DBS check expires on 21 January 2027"
        context = {"subject": subject, "volunteer_name": f"Volunteer {number}", "check": "DBS check",
                   "days": 60, "days_left": 59, "expires_on": "21 January 2027", "expiry_word": "expires",
                   "required": True}
        text, html = outbox.render("volunteers/vetting_reminder", context)
        messages.append(OutboxMessage(
            recipients=[f"volunteer{number}@example.org"], subject=subject, text_body=text, html_body=html,
            template="volunteers/vetting_reminder", dedupe_key=f"{DEDUPE_PREFIX}{number}", next_attempt_at=NOW,
        ))
    with Session(engine) as session:
        session.add_all(messages)
        session.commit()
        return list(session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-mail-") as folder:
        url = os.environ.get("PORTAL_BENCH_DATABASE_URL") or f"sqlite:///{Path(folder) / 'mail.db'}"
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        remove_bench_messages(engine)
        handler = CountingServer()
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        try:
            print(f"Queueing {args.messages:,} vetting reminders ({engine.dialect.name})", flush=True)
            ids = queue_reminders(engine, args.messages)
            app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, MAIL_SERVER="127.0.0.1",
                             MAIL_PORT=controller.port)
            with app.app_context():
                started = time.perf_counter()
                report = outbox.deliver_queued(db.session, mailer.connect, now=NOW,
                                               out_of_time=outbox.time_budget(outbox.TIME_BUDGET_SECONDS))
                elapsed = time.perf_counter() - started
                left = db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "queued"))
                db.session.remove()
                db.engine.dispose()
        finally:
            controller.stop()
            remove_bench_messages(engine)
            engine.dispose()

    rate = report.sent / elapsed
    missing = [message_id for message_id in ids if handler.received[message_id] == 0]
    twice = [message_id for message_id, times in handler.received.items() if times > 1]
    exactly_once = sum(1 for message_id in ids if handler.received[message_id] == 1)
    passed = rate >= TARGET_PER_SECOND and not missing and not twice and not left
    print(f"sent {report.sent:,} in {elapsed:.1f} s over {len(handler.connections)} SMTP connections "
          f"(retrying {report.retrying}, failed {report.failed}, still queued {left})")
    print(f"received exactly once: {exactly_once:,} of {len(ids):,}; missing {len(missing)}; "
          f"more than once {len(twice)}")
    print(f"mail delivery: {rate:,.0f} messages/s (target {TARGET_PER_SECOND:.0f}/s) {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

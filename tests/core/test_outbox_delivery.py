"""Delivery in batches over one SMTP connection, against a real SMTP server (aiosmtpd): stopped at any
point it loses nothing and sends nothing twice, and one refused address does not hold up the rest."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import clock, outbox
from portal.core.outbox import MessageStatus, OutboxMessage
from portal.extensions import db
from portal.web import mailer
from tests.builders import FIXED_NOW
from tests.smtp import Inbox, SMTPServer

ROOT = Path(__file__).resolve().parents[2]
NOW = FIXED_NOW


@pytest.fixture
def server() -> Iterator[SMTPServer]:
    """An SMTP server of this test's own, so its settings (refusals, hang-ups) reach no other test."""
    own = SMTPServer()
    own.start()
    yield own
    own.stop()


@pytest.fixture
def mail_app(make_app, server):
    return make_app(MAIL_PORT=server.port)


def queue_many(
    session: Session, count: int, *, now: dt.datetime = NOW, to: Callable[[int], str] | None = None
) -> list[int]:
    ids = [
        outbox.queue(
            session,
            to=to(number) if to else f"person{number}@example.org",
            subject=f"Vetting reminder {number}",
            template="core/password_reset",
            context={"name": f"Person {number}", "link": "https://portal.example/r/x", "hours": 2,
                     "service_name": "Portal"},
            now=now,
        ).id
        for number in range(count)
    ]
    session.commit()
    return ids


def stop_after(messages: int) -> Callable[[], bool]:
    """A time budget that runs out after `messages` messages (it is asked once before each)."""
    asked = itertools.count()
    return lambda: next(asked) >= messages


def received_ids(inbox: Inbox) -> Counter[int]:
    return Counter(int(message["X-Portal-Message-Id"]) for message in inbox.messages)


def statuses(session: Session) -> Counter[str]:
    session.expire_all()
    return Counter(session.scalars(select(OutboxMessage.status)))


def test_a_hundred_messages_go_over_one_connection_and_the_next_batch_over_another(mail_app, server):
    with mail_app.app_context():
        ids = queue_many(db.session, 120)
        report = outbox.deliver_queued(db.session, mailer.connect, now=NOW)
        assert statuses(db.session) == {"sent": 120}
    assert (report.sent, report.retrying, report.failed, report.stopped) == (120, 0, 0, False)
    assert received_ids(server.inbox) == Counter(ids)
    per_connection = Counter(server.inbox.connections)
    assert sorted(per_connection.values()) == [20, 100]


def test_a_run_stopped_by_its_time_budget_leaves_the_rest_untouched_for_the_next_run(mail_app, server):
    with mail_app.app_context():
        ids = queue_many(db.session, 10)
        first = outbox.deliver_queued(db.session, mailer.connect, now=NOW, out_of_time=stop_after(4))
        assert (first.sent, first.stopped) == (4, True)
        waiting = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "queued")).all()
        assert len(waiting) == 6
        assert all(m.attempts == 0 and m.next_attempt_at == NOW and m.last_error is None for m in waiting)

        second = outbox.deliver_queued(db.session, mailer.connect, now=NOW)
    assert (second.sent, second.stopped) == (6, False)
    assert received_ids(server.inbox) == Counter(ids)


def test_the_time_budget_runs_out_on_the_clock_it_is_given():
    readings = iter([1000.0, 1000.0, 1239.9, 1240.0, 1300.0])
    out_of_time = outbox.time_budget(240, clock=lambda: next(readings))
    assert [out_of_time(), out_of_time(), out_of_time(), out_of_time()] == [False, False, True, True]


def test_a_refused_address_is_retried_later_and_the_others_go_over_the_same_connection(mail_app, server):
    server.inbox.refused.add("nobody@example.org")
    with mail_app.app_context():
        ids = queue_many(db.session, 5, to=lambda n: "nobody@example.org" if n == 2 else f"person{n}@example.org")
        report = outbox.deliver_queued(db.session, mailer.connect, now=NOW)
        refused = db.session.get(OutboxMessage, ids[2])
        assert refused.status == MessageStatus.QUEUED and refused.attempts == 1
        assert "550" in refused.last_error and "nobody@example.org" in refused.last_error
        assert refused.next_attempt_at == NOW + dt.timedelta(minutes=2)
    assert (report.sent, report.retrying) == (4, 1)
    assert received_ids(server.inbox) == Counter(ids[:2] + ids[3:])
    assert len(set(server.inbox.connections)) == 1


def test_a_server_that_hangs_up_between_messages_is_reconnected_to_and_nothing_is_lost_or_doubled(
    mail_app, server
):
    server.inbox.hang_up_every = 3
    with mail_app.app_context():
        ids = queue_many(db.session, 10)
        report = outbox.deliver_queued(db.session, mailer.connect, now=NOW)
    assert (report.sent, report.retrying) == (10, 0)
    assert received_ids(server.inbox) == Counter(ids)
    assert sorted(Counter(server.inbox.connections).values()) == [1, 3, 3, 3]


def test_the_mail_server_stopping_mid_batch_leaves_the_rest_queued_and_a_later_run_sends_each_once(
    mail_app, server
):
    asked = itertools.count()

    def server_goes_away_after_three() -> bool:
        if next(asked) == 3:
            server.stop()
        return False

    with mail_app.app_context():
        ids = queue_many(db.session, 6)
        down = outbox.deliver_queued(db.session, mailer.connect, now=NOW, out_of_time=server_goes_away_after_three)
        assert (down.sent, down.retrying) == (3, 3)
        waiting = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "queued")).all()
        assert sorted(m.id for m in waiting) == ids[3:]
        assert all(m.attempts == 1 and m.next_attempt_at == NOW + dt.timedelta(minutes=2) for m in waiting)

        server.start()
        back = outbox.deliver_queued(db.session, mailer.connect, now=NOW + dt.timedelta(minutes=3))
    assert back.sent == 3
    assert received_ids(server.inbox) == Counter(ids)


@dataclass
class StallingInbox(Inbox):
    """Accepts `accept` messages, then holds the next one unanswered until `release` is set: the job is
    caught with a message in flight. Released, the server takes that message if `take_held` is set and
    refuses it otherwise."""

    accept: int = 0
    take_held: bool = False
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if len(self.messages) == self.accept and not self.release.is_set():
            self.stalled.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
            if not self.take_held:
                return "451 4.3.0 Not taken, try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def stalling_server() -> Iterator[SMTPServer]:
    own = SMTPServer(StallingInbox(accept=4))
    own.start()
    yield own
    own.inbox.release.set()
    own.stop()


def start_jobs_run(database_url: str, smtp_port: int) -> subprocess.Popen:
    """`flask jobs run --only mail` in a process of its own, as the timer starts it."""
    env = {
        **os.environ,
        "PORTAL_ENV": "test",
        "PORTAL_SECRET_KEY": "jobs-run-stop-test",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_MAIL_SERVER": "127.0.0.1",
        "PORTAL_MAIL_PORT": str(smtp_port),
    }
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "flask"), "--app", "app", "jobs", "run", "--only", "mail"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def stop_mid_batch(job: subprocess.Popen, inbox: StallingInbox, how: signal.Signals) -> str:
    """Wait until the job has a message in flight, send it `how`, let the server answer; its output."""
    try:
        assert inbox.stalled.wait(timeout=60), "the job never reached the fifth message"
        job.send_signal(how)
        if how == signal.SIGKILL:
            job.wait(timeout=30)
        inbox.release.set()
        output, _ = job.communicate(timeout=60)
    finally:
        inbox.release.set()
        if job.poll() is None:
            job.kill()
            job.wait(timeout=30)
    return output or ""


def wait_for_dead_jobs_locks(engine) -> None:
    # On PostgreSQL a killed job's row lock lasts until the server notices the closed connection.
    with Session(engine) as session:
        session.scalars(select(OutboxMessage.id).with_for_update()).all()
        session.rollback()


def test_a_jobs_run_killed_mid_batch_loses_nothing_and_the_next_run_sends_each_message_once(
    make_app, database_url, engine, stalling_server
):
    inbox = stalling_server.inbox
    with Session(engine) as session:
        ids = queue_many(session, 10, now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    job = start_jobs_run(database_url, stalling_server.port)
    stop_mid_batch(job, inbox, signal.SIGKILL)
    assert job.returncode == -signal.SIGKILL

    wait_for_dead_jobs_locks(engine)
    with Session(engine) as session:
        assert statuses(session) == {"sent": 4, "queued": 6}
        waiting = select(OutboxMessage.attempts).where(OutboxMessage.status == "queued")
        assert session.scalars(waiting).all() == [0] * 6
    with make_app(MAIL_PORT=stalling_server.port).app_context():
        second = outbox.deliver_queued(db.session, mailer.connect, now=clock.now())
    assert second.sent == 6
    assert received_ids(inbox) == Counter(ids)


def test_a_jobs_run_stopped_by_sigterm_finishes_the_message_in_flight_and_the_next_run_sends_the_rest_once(
    make_app, database_url, engine, stalling_server
):
    inbox = stalling_server.inbox
    inbox.take_held = True
    with Session(engine) as session:
        ids = queue_many(session, 10, now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    job = start_jobs_run(database_url, stalling_server.port)
    output = stop_mid_batch(job, inbox, signal.SIGTERM)
    assert job.returncode == 128 + signal.SIGTERM, output
    assert "mail: sent 5, retrying 0, failed 0 (stopped by SIGTERM: the next run sends the rest)" in output

    with Session(engine) as session:
        assert statuses(session) == {"sent": 5, "queued": 5}
    with make_app(MAIL_PORT=stalling_server.port).app_context():
        second = outbox.deliver_queued(db.session, mailer.connect, now=clock.now())
    assert second.sent == 5
    assert received_ids(inbox) == Counter(ids)


def test_jobs_run_stops_sending_at_its_time_budget_and_the_next_run_carries_on(mail_app, server):
    with mail_app.app_context():
        ids = queue_many(db.session, 3)
    runner = mail_app.test_cli_runner()
    spent = runner.invoke(args=["jobs", "run", "--only", "mail", "--mail-time-budget", "0"])
    assert spent.exit_code == 0, spent.output
    assert "mail: sent 0" in spent.output and "stopped by the time budget" in spent.output
    assert server.inbox.messages == []
    carried_on = runner.invoke(args=["jobs", "run", "--only", "mail"], env={"PORTAL_MAIL_TIME_BUDGET": "60"})
    assert "mail: sent 3, retrying 0, failed 0\n" in carried_on.output
    assert received_ids(server.inbox) == Counter(ids)

"""Durable e-mail: messages are queued in the caller's transaction and delivered later by a job.

A rolled-back transaction queues nothing; a message is marked sent only after the mail server has
accepted it, so a mail server that is down loses nothing and delivery resumes when it is back.
"""

from __future__ import annotations

import datetime as dt
import enum
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import JSON, Connection, ForeignKey, LargeBinary, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.core.db import Base, utcnow

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MAX_ATTEMPTS = 6
BATCH_SIZE = 100
# `flask jobs run` stops sending after this long, well inside a 5-minute timer, so runs never overlap.
TIME_BUDGET_SECONDS = 240.0

_templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(120))
    # The same dedupe key is queued once only: reminders and notices are sent exactly once.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=MessageStatus.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None]

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="OutboxAttachment.id"
    )


class OutboxAttachment(Base):
    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)


def render(template: str, context: dict[str, Any]) -> tuple[str, str | None]:
    """The text body (`email/<template>.txt`) and HTML body (`.html`, if it exists) of a message."""
    text = _templates.get_template(f"email/{template}.txt").render(**context)
    html_path = TEMPLATES / "email" / f"{template}.html"
    html = _templates.get_template(f"email/{template}.html").render(**context) if html_path.exists() else None
    return text, html


def queue(
    session: Session,
    *,
    to: str | Iterable[str],
    subject: str,
    template: str,
    context: dict[str, Any] | None = None,
    attachments: Iterable[Attachment] = (),
    dedupe_key: str | None = None,
    now: dt.datetime | None = None,
) -> OutboxMessage:
    """Queue one message in the caller's transaction and return it (flushed, not committed).

    The body is rendered now from `templates/email/<template>.txt|.html` with `context`. When a
    message with the same `dedupe_key` was queued before, that message is returned and nothing new
    is queued.
    """
    if dedupe_key is not None:
        existing = session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise ValueError("a message needs at least one recipient")
    text, html = render(template, {"subject": subject, **(context or {})})
    message = OutboxMessage(
        recipients=recipients,
        subject=subject,
        text_body=text,
        html_body=html,
        template=template,
        dedupe_key=dedupe_key,
        next_attempt_at=now or utcnow(),
        attachments=[
            OutboxAttachment(filename=a.filename, content_type=a.content_type, data=a.data)
            for a in attachments
        ],
    )
    session.add(message)
    session.flush()
    return message


def retry_delay(attempts: int) -> dt.timedelta:
    """Back off 2, 4, 8, 16, 32 minutes after successive failures."""
    return dt.timedelta(minutes=2**attempts)


@dataclass(frozen=True)
class OutgoingMessage:
    """What a transport needs to send one queued message (a copy, so sending touches no session)."""

    id: int
    created_at: dt.datetime
    recipients: tuple[str, ...]
    subject: str
    text_body: str
    html_body: str | None
    attachments: tuple[Attachment, ...] = ()


Send = Callable[[OutgoingMessage], None]
Connect = Callable[[], AbstractContextManager[Send]]


def time_budget(seconds: float, *, clock: Callable[[], float] = time.monotonic) -> Callable[[], bool]:
    """A function that answers True once `seconds` have passed on `clock` since this call."""
    deadline = clock() + seconds
    return lambda: clock() >= deadline


def _never() -> bool:
    return False


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    stopped: bool = False  # by `out_of_time`, with messages still due


_messages = OutboxMessage.__table__.c
_attachments = OutboxAttachment.__table__.c


def _due(connection: Connection, now: dt.datetime, limit: int) -> list[OutgoingMessage]:
    # SKIP LOCKED leaves out the messages other runs are sending at this moment. These locks are
    # released straight away: each message is locked again on its own just before it is sent.
    rows = connection.execute(
        select(_messages.id, _messages.created_at, _messages.recipients, _messages.subject, _messages.text_body,
               _messages.html_body)
        .where(_messages.status == MessageStatus.QUEUED, _messages.next_attempt_at <= now)
        .order_by(_messages.next_attempt_at, _messages.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    attachments: dict[int, list[Attachment]] = {}
    if rows:
        for message_id, filename, content_type, data in connection.execute(
            select(_attachments.message_id, _attachments.filename, _attachments.content_type, _attachments.data)
            .where(_attachments.message_id.in_([row.id for row in rows]))
            .order_by(_attachments.id)
        ):
            attachments.setdefault(message_id, []).append(Attachment(filename, content_type, data))
    connection.rollback()
    return [
        OutgoingMessage(row.id, row.created_at, tuple(row.recipients), row.subject, row.text_body, row.html_body,
                        tuple(attachments.get(row.id, ())))
        for row in rows
    ]


def _claim(connection: Connection, message_id: int, now: dt.datetime) -> int | None:
    """Lock one message that is still due and return its attempts so far, or None if another run has
    it locked or has dealt with it since it was listed (PostgreSQL checks the latest version of the row)."""
    return connection.execute(
        select(_messages.attempts)
        .where(_messages.id == message_id, _messages.status == MessageStatus.QUEUED, _messages.next_attempt_at <= now)
        .with_for_update(skip_locked=True)
    ).scalar()


def _record(connection: Connection, message_id: int, **values: Any) -> None:
    connection.execute(update(OutboxMessage.__table__).where(_messages.id == message_id).values(**values))


def _deliver_one(connection: Connection, send: Send, message: OutgoingMessage, attempts: int, now: dt.datetime,
                 report: DeliveryReport) -> None:
    try:
        send(message)
    except Exception as error:  # noqa: BLE001 - a message not accepted is retried later
        problem = f"{type(error).__name__}: {error}"[:2000]
        if attempts >= MAX_ATTEMPTS:
            _record(connection, message.id, attempts=attempts, last_error=problem, status=MessageStatus.FAILED)
            report.failed += 1
        else:
            _record(connection, message.id, attempts=attempts, last_error=problem,
                    next_attempt_at=now + retry_delay(attempts))
            report.retrying += 1
    else:
        _record(connection, message.id, attempts=attempts, status=MessageStatus.SENT, sent_at=now, last_error=None)
        report.sent += 1


def deliver_queued(
    session: Session,
    connect: Connect,
    *,
    now: dt.datetime,
    out_of_time: Callable[[], bool] = _never,
    batch_size: int = BATCH_SIZE,
) -> DeliveryReport:
    """Send every due message, `batch_size` at a time over one connection each, until none is due or
    `out_of_time()` says stop (it is asked before each message); what is left waits for the next run.

    `connect()` opens the transport for a batch: a context manager giving a function that sends one
    message and raises if it was not accepted. This is a job entry point, so unlike services it
    commits: first the session's own work, then, on a database connection of its own, each message's
    outcome straight after its send, with the message's row locked meanwhile.

    Guarantee: at least once, and once unless a run is stopped at one precise moment. A message is
    marked sent only after the mail server has accepted it, and that mark is committed before the next
    message is sent, so a run stopped at any point (time budget, Ctrl-C, a killed process, a lost
    database connection) loses nothing and sends nothing again, except the one message in flight when
    the stop (or a broken connection) falls between the server's acceptance and the commit: that one is
    sent again by the next run, with the same Message-ID. On PostgreSQL several runs at once never send
    the same message (each holds its message's row lock while sending, and skips rows others hold);
    SQLite has no row locks, so run one job at a time there.

    A message that is not accepted (a refused address, a server that is down) does not stop the
    others: it is retried later with backoff, and marked failed after MAX_ATTEMPTS.
    """
    report = DeliveryReport()
    session.commit()
    # One connection for the whole run, and Core statements: the per-message claim, mark and commit
    # are the job's main cost after the mail server's, so they skip the pool and the ORM.
    with session.get_bind(OutboxMessage.__mapper__).connect() as connection:
        while not report.stopped:
            batch = _due(connection, now, batch_size)
            if not batch:
                break
            claimed = 0
            with connect() as send:
                for message in batch:
                    if out_of_time():
                        report.stopped = True
                        break
                    attempts = _claim(connection, message.id, now)
                    if attempts is None:
                        connection.rollback()
                        continue
                    claimed += 1
                    _deliver_one(connection, send, message, attempts + 1, now, report)
                    connection.commit()
            if not claimed:
                # Every message listed was sent or locked by another run meanwhile: leave the rest to it.
                break
    return report


def list_messages(session: Session, *, status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
    """The most recent messages, newest first, optionally of one status."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query))

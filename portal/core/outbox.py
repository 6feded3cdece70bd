"""Durable e-mail: messages are queued in the caller's transaction and delivered later by a job.

A rolled-back transaction queues nothing; a message is marked sent only after the mail server has
accepted it, so a mail server that is down loses nothing and delivery resumes when it is back.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.core.db import Base, utcnow

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MAX_ATTEMPTS = 6

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


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _claim_next(session: Session, now: dt.datetime) -> OutboxMessage | None:
    # SKIP LOCKED lets several machines run the job at once without sending a message twice.
    return session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.status == MessageStatus.QUEUED, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def deliver_queued(
    session: Session,
    send: Callable[[OutboxMessage], None],
    *,
    now: dt.datetime,
    limit: int = 200,
) -> DeliveryReport:
    """Send due messages one at a time with `send`, committing after each.

    This is a job entry point, so unlike services it commits. A message whose `send` raises is
    retried later with backoff and marked failed after MAX_ATTEMPTS. Nothing is sent twice.
    """
    report = DeliveryReport()
    session.commit()
    for _ in range(limit):
        message = _claim_next(session, now)
        if message is None:
            session.rollback()
            break
        try:
            send(message)
        except Exception as error:  # noqa: BLE001 - any transport failure is retried later
            message.attempts += 1
            message.last_error = f"{type(error).__name__}: {error}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = MessageStatus.FAILED
                report.failed += 1
            else:
                message.next_attempt_at = now + retry_delay(message.attempts)
                report.retrying += 1
        else:
            message.attempts += 1
            message.status = MessageStatus.SENT
            message.sent_at = now
            message.last_error = None
            report.sent += 1
        session.commit()
    return report


def list_messages(session: Session, *, status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
    """The most recent messages, newest first, optionally of one status."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query))

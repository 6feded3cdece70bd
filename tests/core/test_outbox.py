"""Durable e-mail through a real SMTP server (aiosmtpd) in the test process."""

import datetime as dt
import itertools
from contextlib import nullcontext

from sqlalchemy import func, select

from portal.core import outbox
from portal.core.outbox import Attachment, MessageStatus, OutboxMessage
from portal.extensions import db
from portal.web import mailer
from tests.builders import FIXED_NOW

NOW = FIXED_NOW


def queue_reset(session, to="ada@example.org", **extra):
    return outbox.queue(
        session,
        to=to,
        subject="Reset your password",
        template="core/password_reset",
        context={"name": "Ada O'Brien", "link": "https://portal.example/r/x", "hours": 2, "service_name": "Portal"},
        now=NOW,
        **extra,
    )


def test_queued_message_is_rendered_as_text_and_escaped_html(session):
    message = queue_reset(session)
    assert "Dear Ada O'Brien," in message.text_body
    assert "Ada O&#39;Brien" in message.html_body
    assert message.status == MessageStatus.QUEUED


def test_rolled_back_transaction_queues_nothing(session):
    queue_reset(session)
    session.rollback()
    assert session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_same_dedupe_key_is_queued_once(session):
    first = queue_reset(session, dedupe_key="vetting-reminder:7:60")
    second = queue_reset(session, dedupe_key="vetting-reminder:7:60")
    assert first.id == second.id
    assert session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_delivery_sends_over_smtp_once_with_attachment_however_often_the_job_runs(app, smtp):
    with app.app_context():
        queue_reset(
            db.session,
            attachments=[Attachment("invite.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")],
        )
        db.session.commit()
        first = outbox.deliver_queued(db.session, mailer.connect, now=NOW)
        second = outbox.deliver_queued(db.session, mailer.connect, now=NOW + dt.timedelta(hours=1))
    assert (first.sent, second.sent) == (1, 0)
    (received,) = smtp.inbox.messages
    assert received["Subject"] == "Reset your password"
    assert received["To"] == "ada@example.org"
    assert "Dear Ada O'Brien" in received.get_body(("plain",)).get_content()
    attachments = list(received.iter_attachments())
    assert attachments[0].get_filename() == "invite.ics"
    assert attachments[0].get_content_type() == "text/calendar"


def test_mail_server_down_mid_run_loses_nothing_and_delivery_resumes(app, smtp):
    with app.app_context():
        for number in range(3):
            queue_reset(db.session, to=f"person{number}@example.org")
        db.session.commit()
        asked = itertools.count()

        def after_one():
            return next(asked) >= 1

        assert outbox.deliver_queued(db.session, mailer.connect, now=NOW, out_of_time=after_one).sent == 1

        smtp.stop()
        down = outbox.deliver_queued(db.session, mailer.connect, now=NOW)
        assert (down.sent, down.retrying) == (0, 2)
        waiting = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "queued")).all()
        assert len(waiting) == 2
        assert all(m.attempts == 1 and m.last_error for m in waiting)
        assert all(m.next_attempt_at == NOW + dt.timedelta(minutes=2) for m in waiting)

        smtp.start()
        too_soon = outbox.deliver_queued(db.session, mailer.connect, now=NOW + dt.timedelta(minutes=1))
        assert too_soon.sent == 0
        back = outbox.deliver_queued(db.session, mailer.connect, now=NOW + dt.timedelta(minutes=3))
        assert back.sent == 2
    recipients = sorted(m["To"] for m in smtp.inbox.messages)
    assert recipients == ["person0@example.org", "person1@example.org", "person2@example.org"]


def test_a_message_that_keeps_failing_is_marked_failed_after_the_last_attempt(session):
    message = queue_reset(session)
    session.commit()

    def broken(_message):
        raise ConnectionRefusedError("mail server refused")

    moment = NOW
    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.deliver_queued(session, lambda: nullcontext(broken), now=moment)
        moment += dt.timedelta(hours=2)
    session.refresh(message)
    assert message.status == MessageStatus.FAILED
    assert message.attempts == outbox.MAX_ATTEMPTS
    assert "mail server refused" in message.last_error

"""Turns queued outbox messages into real e-mail: Flask-Mail over SMTP, or files in development."""

from __future__ import annotations

import re
from pathlib import Path

from flask import current_app
from flask_mail import Message

from portal.core.outbox import OutboxMessage
from portal.extensions import mail


def to_flask_message(queued: OutboxMessage) -> Message:
    message = Message(
        subject=queued.subject,
        recipients=list(queued.recipients),
        body=queued.text_body,
        html=queued.html_body,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers={"X-Portal-Message-Id": str(queued.id)},
    )
    for attachment in queued.attachments:
        message.attach(attachment.filename, attachment.content_type, attachment.data)
    return message


def send(queued: OutboxMessage) -> None:
    """Deliver one message by the configured transport; raises if the transport fails."""
    message = to_flask_message(queued)
    if current_app.config["MAIL_TRANSPORT"] == "files":
        directory = Path(current_app.config["MAIL_FILE_DIR"])
        directory.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", queued.subject.lower()).strip("-")[:50]
        path = directory / f"{queued.created_at:%Y%m%dT%H%M%S}-{queued.id:06d}-{slug}.eml"
        path.write_bytes(message.as_bytes())
        return
    mail.send(message)

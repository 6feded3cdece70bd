"""Turns queued outbox messages into e-mail sent over SMTP (one connection per batch), or files in development."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from email.encoders import encode_base64
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Any

from flask import current_app
from flask_mail import sanitize_address

from portal.core.outbox import Attachment, OutgoingMessage, Send

# Long enough for a slow server, short enough that one stuck message cannot eat the job's time budget.
SMTP_TIMEOUT_SECONDS = 60
# Messages are built with the classic (compat32) e-mail classes, as Flask-Mail builds them, and written
# out with SMTP line endings: several times faster than through the newer header machinery.
_SMTP_LINES = compat32.clone(linesep="\r\n")


def message_id(message: OutgoingMessage, sender: str) -> str:
    """The same Message-ID every time a queued message is sent, so a copy sent twice can be recognised."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "portal.invalid"
    return f"<outbox.{message.id}.{message.created_at:%Y%m%d%H%M%S}@{domain}>"


def _attachment(attachment: Attachment) -> MIMEBase:
    kind, *parameters = (part.strip() for part in attachment.content_type.split(";"))
    maintype, _, subtype = kind.partition("/")
    part = MIMENonMultipart(maintype, subtype, **{
        name.strip(): value.strip().strip('"') for name, _, value in (p.partition("=") for p in parameters) if value
    })
    part.set_payload(attachment.data)
    encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
    return part


def to_email(message: OutgoingMessage, sender: str) -> tuple[str, list[str], bytes]:
    """The envelope sender, envelope recipients and bytes of one message: the text body, the HTML body
    as its alternative, and any attachments. Raises ValueError for a line break in a header."""
    if any("\r" in value or "\n" in value for value in (message.subject, sender, *message.recipients)):
        raise ValueError("a header holds a line break")
    body: MIMEBase = MIMEText(message.text_body, "plain", "utf-8")
    if message.html_body is not None:
        alternative = MIMEMultipart("alternative")
        alternative.attach(body)
        alternative.attach(MIMEText(message.html_body, "html", "utf-8"))
        body = alternative
    if message.attachments:
        mixed = MIMEMultipart("mixed")
        mixed.attach(body)
        for attachment in message.attachments:
            mixed.attach(_attachment(attachment))
        body = mixed
    recipients = [sanitize_address(address) for address in message.recipients]
    body["Subject"] = Header(message.subject, "utf-8") if not message.subject.isascii() else message.subject
    body["From"] = sanitize_address(sender)
    body["To"] = ", ".join(recipients)
    body["Date"] = formatdate(localtime=True)
    body["Message-ID"] = message_id(message, sender)
    body["X-Portal-Message-Id"] = str(message.id)
    return sanitize_address(sender), recipients, body.as_bytes(policy=_SMTP_LINES)


def _connection_lost(error: Exception) -> bool:
    # SMTPException subclasses OSError; a reply from the server (a refused address) leaves the
    # connection usable, whereas a socket error or a closed connection does not.
    return isinstance(error, smtplib.SMTPServerDisconnected) or (
        isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)
    )


class SMTPBatch:
    """One SMTP connection for a batch of messages: opened for the first message, and opened again
    when the server has closed it since the last one (an idle timeout, a limit per connection)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = config
        self._smtp: smtplib.SMTP | None = None
        self._refused: str | None = None

    def send(self, message: OutgoingMessage) -> None:
        """Send one message; returns once the server has accepted it, raises otherwise."""
        envelope = to_email(message, self._config["MAIL_DEFAULT_SENDER"])
        if self._smtp is not None:
            try:
                self._transmit(self._smtp, envelope)
                return
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                # Closed since the last message: try once more on a new connection now rather than
                # minutes later. Only if the server took the message before closing does it arrive
                # twice, as it would on any later retry (outbox.deliver_queued's guarantee).
                pass
        self._transmit(self._open(), envelope)

    def _transmit(self, smtp: smtplib.SMTP, envelope: tuple[str, list[str], bytes]) -> None:
        try:
            smtp.sendmail(*envelope)
        except Exception as error:
            if _connection_lost(error):
                self.close()
            raise

    def _open(self) -> smtplib.SMTP:
        if self._refused is not None:
            # It failed a moment ago: each message still counts a failed attempt, without waiting again.
            raise ConnectionError(f"could not connect to the mail server: {self._refused}")
        config = self._config
        kind = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
        smtp = kind(timeout=SMTP_TIMEOUT_SECONDS)
        try:
            smtp.connect(config["MAIL_SERVER"], config["MAIL_PORT"])
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"] and config["MAIL_PASSWORD"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        except OSError as error:
            smtp.close()
            self._refused = f"{type(error).__name__}: {error}"
            raise
        self._smtp = smtp
        return smtp

    def close(self) -> None:
        if self._smtp is None:
            return
        smtp, self._smtp = self._smtp, None
        try:
            smtp.quit()
        except OSError:
            smtp.close()


def _write_file(message: OutgoingMessage) -> None:
    *_, data = to_email(message, current_app.config["MAIL_DEFAULT_SENDER"])
    directory = Path(current_app.config["MAIL_FILE_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", message.subject.lower()).strip("-")[:50]
    path = directory / f"{message.created_at:%Y%m%dT%H%M%S}-{message.id:06d}-{slug}.eml"
    path.write_bytes(data)


@contextmanager
def connect() -> Iterator[Send]:
    """Open the configured transport for one batch (`outbox.deliver_queued` calls this) and give a
    function that sends one queued message, raising if it was not accepted."""
    if current_app.config["MAIL_TRANSPORT"] == "files":
        yield _write_file
        return
    batch = SMTPBatch(current_app.config)
    try:
        yield batch.send
    finally:
        batch.close()

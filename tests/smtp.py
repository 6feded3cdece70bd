"""A real SMTP server (aiosmtpd) in the test process that keeps what it receives."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from portal.core import clock, outbox
from portal.extensions import db
from portal.web import mailer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Inbox:
    """Everything the server accepted, parsed back into e-mail messages.

    `refused` addresses are refused at RCPT (550), as a server refuses an unknown mailbox;
    `hang_up_every` (when set) makes the server close a connection after that many messages on it,
    as servers with a limit per connection do. `connections` holds, for each message, the client's
    address and port, so a test can tell how many connections the messages came over (only
    `messages` is emptied between tests: a test that sets the others uses a server of its own).
    """

    messages: list[EmailMessage] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    hang_up_every: int | None = None
    connections: list[tuple[str, int]] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        if address in self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.connections.append(tuple(session.peer[:2]))
        if self.hang_up_every and self.connections.count(self.connections[-1]) % self.hang_up_every == 0:
            # Closed once the reply below has been written, before the client sends anything more.
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]


class SMTPServer:
    """Start, stop and restart an SMTP server on one port, keeping one inbox."""

    def __init__(self, inbox: Inbox | None = None) -> None:
        self.inbox = inbox if inbox is not None else Inbox()
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def deliver_outbox(app) -> None:
    """Run the mail delivery job once, as `flask jobs run` would, against the app's SMTP server."""
    with app.app_context():
        outbox.deliver_queued(db.session, mailer.connect, now=clock.now())

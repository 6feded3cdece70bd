"""Shared helpers for reference tests: an application ready for references, and links read from e-mails."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.outbox import OutboxMessage
from portal.volunteers.models import Application, ApplicationStatus
from portal.volunteers.references import services
from portal.volunteers.references.models import Reference
from tests.volunteers.builders import NOW, make_application, make_coordinator

LINK_PREFIX = "http://localhost/volunteering/reference/"
_LINK = re.compile(re.escape(LINK_PREFIX) + r"([A-Za-z0-9_\-]+)")

GOOD_ANSWERS = {
    "referee_name": "Zoë Ní Bhriain",
    "known_for": "Six years",
    "capacity": "Fellow governor at St Helena's school",
    "suitability": "Calm, fair and kind with people on every side of a conflict; she listens.",
    "reliability": "Never missed a governors' meeting in six years.",
    "has_concerns": "no",
    "concerns": "",
    "would_recommend": "yes",
    "confirmed": True,
}


def messages(session: Session, template: str) -> list[OutboxMessage]:
    return list(session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id)
    ))


def tokens_sent_to(session: Session, email: str) -> list[str]:
    """The reference-link tokens in every e-mail sent to `email`, oldest first."""
    found = []
    for message in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
        if email in message.recipients:
            found += _LINK.findall(message.text_body)
    return found


def requested(session: Session, *, status: ApplicationStatus = ApplicationStatus.INTERVIEWED, now: dt.datetime = NOW,
              coordinator=None) -> tuple[Application, list[Reference], object]:
    """An application with both references requested by a coordinator."""
    coordinator = coordinator or make_coordinator(session)
    application = make_application(session, status=status)
    references = services.request_references(session, application.id, link_prefix=LINK_PREFIX, actor=coordinator,
                                             now=now)
    return application, references, coordinator

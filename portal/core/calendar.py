"""iCalendar building (with the icalendar package) and per-person secret calendar feed tokens.

Invitations carry METHOD:REQUEST or METHOD:CANCEL, a stable UID per booking, SEQUENCE raised on every
change, and UTC times. Feeds are plain VCALENDARs that calendar apps subscribe to by a secret URL.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from dataclasses import dataclass, field

import icalendar
from blinker import Namespace
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.core.accounts import User, digest
from portal.core.db import Base, utcnow

PRODID = "-//RJ Volunteer Portal//EN"
UID_DOMAIN = "rj-portal"

_signals = Namespace()
feed_events_requested = _signals.signal(
    "feed-events-requested",
    doc="""Asked when a person's calendar feed is built. *sender* is the User; kwargs: session, now.
    Each receiver returns a list of CalendarEvent for that person (their course days, supervision).""",
)


class Method(enum.StrEnum):
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"
    PUBLISH = "PUBLISH"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class CalendarEvent:
    """One event. `uid` must be stable for the thing it describes (a booking, a course day)."""

    uid: str
    summary: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    sequence: int = 0
    description: str = ""
    location: str = ""
    url: str = ""
    organizer: Person | None = None
    attendees: tuple[Person, ...] = field(default_factory=tuple)
    cancelled: bool = False


def event_uid(kind: str, object_id: int | str) -> str:
    """A globally unique, stable UID such as `supervision-booking-42@rj-portal`."""
    return f"{kind}-{object_id}@{UID_DOMAIN}"


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    return moment.astimezone(dt.UTC)


def _vevent(item: CalendarEvent, *, stamp: dt.datetime, cancelled: bool) -> icalendar.Event:
    if item.ends_at <= item.starts_at:
        raise ValueError("an event must end after it starts")
    event = icalendar.Event()
    event.add("uid", item.uid)
    event.add("dtstamp", _utc(stamp))
    event.add("dtstart", _utc(item.starts_at))
    event.add("dtend", _utc(item.ends_at))
    event.add("sequence", item.sequence)
    event.add("summary", item.summary)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if item.description:
        event.add("description", item.description)
    if item.location:
        event.add("location", item.location)
    if item.url:
        event.add("url", item.url)
    if item.organizer:
        organizer = icalendar.vCalAddress(f"mailto:{item.organizer.email}")
        organizer.params["cn"] = icalendar.vText(item.organizer.name)
        event.add("organizer", organizer)
    for person in item.attendees:
        attendee = icalendar.vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = icalendar.vText(person.name)
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = icalendar.vText("ACCEPTED")
        event.add("attendee", attendee)
    return event


def _calendar(method: Method | None, name: str | None = None) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", str(method))
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def build_invite(events: list[CalendarEvent], method: Method, *, now: dt.datetime) -> bytes:
    """An e-mailed invitation (METHOD:REQUEST) or cancellation (METHOD:CANCEL) as .ics bytes."""
    if not events:
        raise ValueError("an invitation needs at least one event")
    calendar = _calendar(method)
    for item in events:
        calendar.add_component(_vevent(item, stamp=now, cancelled=method is Method.CANCEL))
    return calendar.to_ical()


def build_feed(events: list[CalendarEvent], *, name: str, now: dt.datetime) -> bytes:
    """A subscription feed: every event for one person, cancelled ones marked as such."""
    calendar = _calendar(Method.PUBLISH, name)
    for item in sorted(events, key=lambda e: (e.starts_at, e.uid)):
        calendar.add_component(_vevent(item, stamp=now, cancelled=item.cancelled))
    return calendar.to_ical()


def collect_feed_events(session: Session, user: User, *, now: dt.datetime) -> list[CalendarEvent]:
    """Ask every module that contributes to personal feeds for this person's events."""
    events: list[CalendarEvent] = []
    for _receiver, contributed in feed_events_requested.send(user, session=session, now=now):
        events.extend(contributed or [])
    return events


class CalendarFeedToken(Base):
    """A person's secret feed URL token; only its digest is stored and a reset revokes it."""

    __tablename__ = "calendar_feed_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


def issue_feed_token(session: Session, user: User, *, now: dt.datetime) -> str:
    """Revoke the person's current feed token(s) and return a new secret token (shown once)."""
    for token in session.scalars(
        select(CalendarFeedToken).where(
            CalendarFeedToken.user_id == user.id, CalendarFeedToken.revoked_at.is_(None)
        )
    ):
        token.revoked_at = now
    raw = secrets.token_urlsafe(32)
    session.add(CalendarFeedToken(user_id=user.id, token_digest=digest(raw), created_at=now))
    session.flush()
    return raw


def revoke_feed_tokens(session: Session, user: User, *, now: dt.datetime) -> int:
    """Revoke every live feed token of the person; returns how many were revoked."""
    live = list(
        session.scalars(
            select(CalendarFeedToken).where(
                CalendarFeedToken.user_id == user.id, CalendarFeedToken.revoked_at.is_(None)
            )
        )
    )
    for token in live:
        token.revoked_at = now
    session.flush()
    return len(live)


def has_feed_token(session: Session, user: User) -> bool:
    return (
        session.scalar(
            select(CalendarFeedToken.id).where(
                CalendarFeedToken.user_id == user.id, CalendarFeedToken.revoked_at.is_(None)
            )
        )
        is not None
    )


def find_user_by_feed_token(session: Session, token: str) -> User | None:
    """The active person whose live feed token this is, or None."""
    row = session.scalar(
        select(CalendarFeedToken).where(
            CalendarFeedToken.token_digest == digest(token), CalendarFeedToken.revoked_at.is_(None)
        )
    )
    if row is None or row.user.is_deactivated:
        return None
    return row.user

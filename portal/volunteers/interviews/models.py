"""Interview slots, the applicants' bookings of them, invitations to book, and the interview record."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Column, Enum, ForeignKey, Index, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.cases.models import LabelledEnum
from portal.core.accounts import User
from portal.core.db import Base, string_enum, utcnow
from portal.volunteers.models import CLOSED_STATUSES, Application, InterviewOutcome


def _enum(enum_class: type[enum.Enum], length: int = 30) -> Enum:
    return string_enum(enum_class, length)


class SlotMode(LabelledEnum):
    """Where an interview happens: at a venue, or by video link."""

    IN_PERSON = "in_person"
    ONLINE = "online"


class SlotStatus(LabelledEnum):
    OPEN = "open"
    CANCELLED = "cancelled"


class BookingStatus(LabelledEnum):
    """A booking is made once and cancelled once; moving it to another slot keeps the same row (and UID)."""

    BOOKED = "booked"
    CANCELLED = "cancelled"


class Criterion(LabelledEnum):
    """The person specification's criteria, scored 1 to 5 at interview, in the order the panel sees them."""

    RJ_VALUES = "rj_values"
    COMMUNICATION = "communication"
    REFLECTION = "reflection"
    SAFETY = "safety"
    COMMITMENT = "commitment"

    @property
    def label(self) -> str:
        return _CRITERION_LABELS[self]


_CRITERION_LABELS = {
    Criterion.RJ_VALUES: "Understanding of restorative justice values",
    Criterion.COMMUNICATION: "Communication",
    Criterion.REFLECTION: "Reflection and self-awareness",
    Criterion.SAFETY: "Safety awareness",
    Criterion.COMMITMENT: "Reliability and commitment",
}

MIN_SCORE = 1
MAX_SCORE = 5

interview_slot_interviewers = Table(
    "interview_slot_interviewers",
    Base.metadata,
    Column("slot_id", ForeignKey("interview_slots.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)

interview_record_panel = Table(
    "interview_record_panel",
    Base.metadata,
    Column("record_id", ForeignKey("interview_records.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class InterviewSlot(Base):
    """A time when interviewers can see up to `capacity` applicants (one each, usually).

    Its row is locked while a place is taken, so the last place cannot be taken twice.
    """

    __tablename__ = "interview_slots"
    __table_args__ = (
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_interview_slots_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    mode: Mapped[SlotMode] = mapped_column(_enum(SlotMode))
    venue: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    online_link: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int] = mapped_column(default=1, server_default="1")
    status: Mapped[SlotStatus] = mapped_column(
        _enum(SlotStatus), default=SlotStatus.OPEN, server_default=SlotStatus.OPEN.value
    )
    # Slots created together (a series) share this key.
    series_key: Mapped[str | None] = mapped_column(String(32), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[dt.datetime | None]
    cancellation_reason: Mapped[str | None] = mapped_column(Text)

    interviewers: Mapped[list[User]] = relationship(
        secondary=interview_slot_interviewers, order_by="User.name", lazy="selectin"
    )
    bookings: Mapped[list[InterviewBooking]] = relationship(
        back_populates="slot", order_by="InterviewBooking.id", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<InterviewSlot {self.id} {self.starts_at:%Y-%m-%d %H:%M} {self.status}>"

    @property
    def length_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def active_bookings(self) -> list[InterviewBooking]:
        # A withdrawn or rejected applicant's booking no longer holds a place.
        return [booking for booking in self.bookings
                if booking.status == BookingStatus.BOOKED and booking.application.status not in CLOSED_STATUSES]

    @property
    def places_left(self) -> int:
        return max(0, self.capacity - len(self.active_bookings))

    @property
    def is_cancelled(self) -> bool:
        return self.status == SlotStatus.CANCELLED

    @property
    def where(self) -> str:
        """The place in words: the venue and address, or "Online"."""
        if self.mode == SlotMode.ONLINE:
            return "Online (video call)"
        return ", ".join(part for part in (self.venue, self.address) if part)


class InterviewBooking(Base):
    """One applicant's place in a slot. Its calendar UID is fixed by its id; `sequence` rises on every
    change (moved, retimed, cancelled), as iCalendar asks."""

    __tablename__ = "interview_bookings"
    __table_args__ = (
        # One live booking per application, even when two requests race.
        Index(
            "uq_interview_bookings_one_active_per_application",
            "application_id",
            unique=True,
            sqlite_where=text("status = 'booked'"),
            postgresql_where=text("status = 'booked'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_applications.id", ondelete="CASCADE"), index=True
    )
    slot_id: Mapped[int] = mapped_column(ForeignKey("interview_slots.id", ondelete="CASCADE"), index=True)
    status: Mapped[BookingStatus] = mapped_column(
        _enum(BookingStatus), default=BookingStatus.BOOKED, server_default=BookingStatus.BOOKED.value
    )
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    booked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[dt.datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    # The start time the day-before reminder was sent for (a moved booking is reminded again).
    reminded_for: Mapped[dt.datetime | None]

    application: Mapped[Application] = relationship()
    slot: Mapped[InterviewSlot] = relationship(back_populates="bookings")

    def __repr__(self) -> str:
        return f"<InterviewBooking {self.id} slot={self.slot_id} {self.status} seq={self.sequence}>"

    @property
    def is_active(self) -> bool:
        return self.status == BookingStatus.BOOKED


class InterviewInvitation(Base):
    """A coordinator's e-mail inviting a shortlisted applicant to choose an interview time."""

    __tablename__ = "interview_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_applications.id", ondelete="CASCADE"), index=True
    )
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    invited_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    invited_by: Mapped[User | None] = relationship()


class InterviewRecord(Base):
    """The panel's record of one application's interview: a score and notes per criterion, the outcome
    with its reason, and who was on the panel. Saved once per application and edited in place (audited)."""

    __tablename__ = "interview_records"
    __table_args__ = (UniqueConstraint("application_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("volunteer_applications.id", ondelete="CASCADE"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("interview_bookings.id", ondelete="SET NULL"))
    outcome: Mapped[InterviewOutcome] = mapped_column(_enum(InterviewOutcome))
    outcome_reason: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship()
    booking: Mapped[InterviewBooking | None] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    panel: Mapped[list[User]] = relationship(secondary=interview_record_panel, order_by="User.name", lazy="selectin")
    scores: Mapped[list[InterviewScore]] = relationship(
        back_populates="record", cascade="all, delete-orphan", lazy="selectin", order_by="InterviewScore.id"
    )

    def score_for(self, criterion: Criterion) -> InterviewScore | None:
        return next((score for score in self.scores if score.criterion == criterion), None)

    @property
    def total(self) -> int:
        return sum(score.score for score in self.scores)


class InterviewScore(Base):
    """One criterion's score (1 to 5) and the panel's notes on it."""

    __tablename__ = "interview_scores"
    __table_args__ = (
        UniqueConstraint("record_id", "criterion"),
        CheckConstraint(f"score BETWEEN {MIN_SCORE} AND {MAX_SCORE}", name="score_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("interview_records.id", ondelete="CASCADE"), index=True)
    criterion: Mapped[Criterion] = mapped_column(_enum(Criterion))
    score: Mapped[int]
    notes: Mapped[str | None] = mapped_column(Text)

    record: Mapped[InterviewRecord] = relationship(back_populates="scores")

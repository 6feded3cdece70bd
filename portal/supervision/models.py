"""Supervision slots, volunteers' bookings of them, the named supervisors and the record of each session."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Column, Enum, ForeignKey, Index, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.cases.models import Case, LabelledEnum
from portal.core.accounts import User
from portal.core.db import Base, string_enum, utcnow


def _enum(enum_class: type[enum.Enum], length: int = 30) -> Enum:
    return string_enum(enum_class, length)


class SlotKind(LabelledEnum):
    """One volunteer with a supervisor, or a group of up to `capacity` volunteers."""

    INDIVIDUAL = "individual"
    GROUP = "group"


class SlotMode(LabelledEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class SlotStatus(LabelledEnum):
    OPEN = "open"
    CANCELLED = "cancelled"


class BookingStatus(LabelledEnum):
    """A booking is made once and cancelled once; moving it keeps the same row (and calendar UID)."""

    BOOKED = "booked"
    CANCELLED = "cancelled"


class BookingPurpose(LabelledEnum):
    """Regular case supervision, or a debrief after a difficult case meeting."""

    SUPERVISION = "supervision"
    DEBRIEF = "debrief"


class Attendance(LabelledEnum):
    ATTENDED = "attended"
    DID_NOT_ATTEND = "did_not_attend"


class Supervisor(Base):
    """A person a coordinator has named as a supervisor: they publish slots and record sessions.

    Coordinators supervise without being named. Removing a supervisor keeps the row (ended_at set),
    ends their access to volunteers' supervision at once and cancels their upcoming sessions.
    """

    __tablename__ = "supervision_supervisors"
    __table_args__ = (
        Index(
            "uq_supervision_supervisors_current", "user_id", unique=True,
            sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    named_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    named_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class SupervisionSlot(Base):
    """A published supervision time. Its row is locked while a place is taken, so the last place
    cannot be taken twice. `sequence` rises on every change (for the supervisor's calendar feed)."""

    __tablename__ = "supervision_slots"
    __table_args__ = (
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("kind = 'group' OR capacity = 1", name="individual_has_one_place"),
        CheckConstraint("minimum_notice_hours >= 0", name="notice_not_negative"),
        CheckConstraint("cutoff_hours >= 0", name="cutoff_not_negative"),
        Index("ix_supervision_slots_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SlotKind] = mapped_column(_enum(SlotKind))
    mode: Mapped[SlotMode] = mapped_column(_enum(SlotMode))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    capacity: Mapped[int] = mapped_column(default=1, server_default="1")
    venue: Mapped[str | None] = mapped_column(String(300))
    online_link: Mapped[str | None] = mapped_column(String(500))
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    minimum_notice_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    cutoff_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    status: Mapped[SlotStatus] = mapped_column(
        _enum(SlotStatus), default=SlotStatus.OPEN, server_default=SlotStatus.OPEN.value
    )
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    # Slots published together as a weekly or fortnightly series share this key.
    series_key: Mapped[str | None] = mapped_column(String(32), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[dt.datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancellation_reason: Mapped[str | None] = mapped_column(Text)

    supervisor: Mapped[User] = relationship(foreign_keys=[supervisor_id], lazy="selectin")
    bookings: Mapped[list[SupervisionBooking]] = relationship(
        back_populates="slot", order_by="SupervisionBooking.id", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<SupervisionSlot {self.id} {self.starts_at:%Y-%m-%d %H:%M} {self.kind} {self.status}>"

    @property
    def live_bookings(self) -> list[SupervisionBooking]:
        return [booking for booking in self.bookings if booking.is_live]

    @property
    def places_left(self) -> int:
        return max(0, self.capacity - len(self.live_bookings))

    @property
    def is_cancelled(self) -> bool:
        return self.status == SlotStatus.CANCELLED

    @property
    def length_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def where(self) -> str:
        return "Online (video call)" if self.mode == SlotMode.ONLINE else (self.venue or "")

    @property
    def minimum_notice(self) -> dt.timedelta:
        return dt.timedelta(hours=self.minimum_notice_hours)

    @property
    def cutoff_at(self) -> dt.datetime:
        """The last moment a volunteer may cancel or move their booking themselves."""
        return self.starts_at - dt.timedelta(hours=self.cutoff_hours)

    def bookable_from_now(self, now: dt.datetime) -> bool:
        """Open, with a place, and far enough ahead for a volunteer to book it themselves."""
        return not self.is_cancelled and self.places_left > 0 and self.starts_at - self.minimum_notice >= now


class SupervisionBooking(Base):
    """One volunteer's place in a slot, with its own calendar event: the UID is fixed by its id, and
    `sequence` rises on every change (moved, retimed, cancelled), so one attendee's change touches
    nobody else in a group."""

    __tablename__ = "supervision_bookings"
    __table_args__ = (
        # One live place per person in a slot, even when two clicks race.
        Index(
            "uq_supervision_bookings_live_per_person", "slot_id", "user_id", unique=True,
            sqlite_where=text("status = 'booked'"), postgresql_where=text("status = 'booked'"),
        ),
        Index("ix_supervision_bookings_user_id_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("supervision_slots.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[BookingPurpose] = mapped_column(
        _enum(BookingPurpose), default=BookingPurpose.SUPERVISION, server_default=BookingPurpose.SUPERVISION.value
    )
    status: Mapped[BookingStatus] = mapped_column(
        _enum(BookingStatus), default=BookingStatus.BOOKED, server_default=BookingStatus.BOOKED.value
    )
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    booked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # When the booking got its current time (booked, moved or the slot retimed): reminders whose
    # moment had already passed then are not sent (the confirmation has just gone).
    scheduled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[dt.datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    # The start time each reminder was sent for (a moved booking is reminded again for its new time).
    reminded_48h_for: Mapped[dt.datetime | None]
    reminded_2h_for: Mapped[dt.datetime | None]

    slot: Mapped[SupervisionSlot] = relationship(back_populates="bookings")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="selectin")
    record: Mapped[SupervisionRecord | None] = relationship(back_populates="booking", uselist=False)

    def __repr__(self) -> str:
        return f"<SupervisionBooking {self.id} slot={self.slot_id} user={self.user_id} {self.status}>"

    @property
    def is_live(self) -> bool:
        return self.status == BookingStatus.BOOKED


supervision_record_cases = Table(
    "supervision_record_cases",
    Base.metadata,
    Column("record_id", ForeignKey("supervision_records.id", ondelete="CASCADE"), primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class SupervisionRecord(Base):
    """What the supervisor recorded after a session. Confidential to coordinators, the supervisor who led
    the session and whoever supervises the volunteer now (`queries.supervises`); the wellbeing concerns
    only to coordinators and the session's supervisor; the volunteer sees only the actions agreed."""

    __tablename__ = "supervision_records"
    __table_args__ = (
        # Each volunteer's attended sessions in order: the cadence list reads the latest of each from it.
        Index("ix_supervision_records_attended", "user_id", "held_on", "id",
              sqlite_where=text("attendance = 'attended'"), postgresql_where=text("attendance = 'attended'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("supervision_bookings.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    held_on: Mapped[dt.date]
    attendance: Mapped[Attendance] = mapped_column(_enum(Attendance))
    actions: Mapped[str | None] = mapped_column(Text)
    wellbeing_concerns: Mapped[str | None] = mapped_column(Text)
    next_due_on: Mapped[dt.date | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    booking: Mapped[SupervisionBooking] = relationship(back_populates="record")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    supervisor: Mapped[User | None] = relationship(foreign_keys=[supervisor_id])
    cases: Mapped[list[Case]] = relationship(
        secondary=supervision_record_cases, order_by="Case.reference", lazy="selectin"
    )

    @property
    def attended(self) -> bool:
        return self.attendance == Attendance.ATTENDED

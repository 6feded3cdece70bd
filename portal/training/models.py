"""Courses, cohorts and their days, trainers, enrolments (the waiting list is an enrolment status),
registers (attendance per day) and make-up days booked on a later cohort."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.cases.models import LabelledEnum
from portal.core.accounts import User
from portal.core.db import Base, string_enum, utcnow

COURSE_DAYS = 4


class Course(Base):
    """A course (the 4-day facilitator course), which runs as cohorts."""

    __tablename__ = "training_courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    hours: Mapped[int] = mapped_column(default=28, server_default=text("28"))
    # The competencies the course covers; the practical assessment observes each one.
    competencies: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    cohorts: Mapped[list[Cohort]] = relationship(back_populates="course", order_by="Cohort.id")


class Cohort(Base):
    """One run of a course: its days, venue or link, capacity and trainers."""

    __tablename__ = "training_cohorts"
    __table_args__ = (CheckConstraint("capacity > 0", name="capacity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    capacity: Mapped[int]
    venue_name: Mapped[str | None] = mapped_column(String(200))
    venue_address: Mapped[str | None] = mapped_column(Text)
    access_notes: Mapped[str | None] = mapped_column(Text)
    online_link: Mapped[str | None] = mapped_column(String(500))
    cancelled_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship(back_populates="cohorts")
    days: Mapped[list[CohortDay]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan", order_by="CohortDay.day_number"
    )
    trainer_links: Mapped[list[CohortTrainer]] = relationship(back_populates="cohort", cascade="all, delete-orphan")
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="cohort", order_by="Enrolment.id")

    @property
    def trainer_ids(self) -> set[int]:
        return {link.user_id for link in self.trainer_links}

    @property
    def trainers(self) -> list[User]:
        return sorted((link.user for link in self.trainer_links), key=lambda user: user.name)

    @property
    def starts_at(self) -> dt.datetime | None:
        return min((day.starts_at for day in self.days), default=None)

    @property
    def ends_at(self) -> dt.datetime | None:
        return max((day.ends_at for day in self.days), default=None)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def location(self) -> str:
        """Where the cohort meets, in one line (the venue, or the online link)."""
        if self.venue_name or self.venue_address:
            return ", ".join(part for part in (self.venue_name, (self.venue_address or "").replace("\n", ", ")) if part)
        return self.online_link or ""

    def day(self, day_number: int) -> CohortDay | None:
        return next((day for day in self.days if day.day_number == day_number), None)


class CohortDay(Base):
    """One day of a cohort (day 1 to 4), in UTC. `sequence` rises whenever its time or place changes,
    so updated calendar invitations replace the old ones."""

    __tablename__ = "training_cohort_days"
    __table_args__ = (
        UniqueConstraint("cohort_id", "day_number"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("training_cohorts.id", ondelete="CASCADE"))
    day_number: Mapped[int]
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    sequence: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    cohort: Mapped[Cohort] = relationship(back_populates="days")


class CohortTrainer(Base):
    """A trainer who runs (and marks for) a cohort."""

    __tablename__ = "training_cohort_trainers"

    cohort_id: Mapped[int] = mapped_column(ForeignKey("training_cohorts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)

    cohort: Mapped[Cohort] = relationship(back_populates="trainer_links")
    user: Mapped[User] = relationship()


class EnrolmentStatus(LabelledEnum):
    ENROLLED = "enrolled"
    WAITING = "waiting"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"


class Enrolment(Base):
    """A volunteer's place on a cohort, or their place on its waiting list.

    One live (enrolled or waiting) enrolment per person per cohort, even when two requests race.
    """

    __tablename__ = "training_enrolments"
    __table_args__ = (
        Index(
            "uq_training_enrolments_one_live_per_person",
            "cohort_id", "user_id",
            unique=True,
            sqlite_where=text("status IN ('enrolled', 'waiting')"),
            postgresql_where=text("status IN ('enrolled', 'waiting')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("training_cohorts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[EnrolmentStatus] = mapped_column(string_enum(EnrolmentStatus, 20))
    # Order on the waiting list (earliest first).
    waiting_since: Mapped[dt.datetime | None]
    enrolled_at: Mapped[dt.datetime | None]
    withdrawn_at: Mapped[dt.datetime | None]
    completed_on: Mapped[dt.date | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Shared with trainers only when the volunteer chooses to.
    dietary_needs: Mapped[str | None] = mapped_column(String(500))
    access_needs: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    cohort: Mapped[Cohort] = relationship(back_populates="enrolments")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    attendances: Mapped[list[Attendance]] = relationship(
        back_populates="enrolment", cascade="all, delete-orphan", order_by="Attendance.id"
    )
    make_ups: Mapped[list[MakeUpBooking]] = relationship(
        back_populates="enrolment", cascade="all, delete-orphan", order_by="MakeUpBooking.id"
    )

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


LIVE_STATUSES = frozenset({EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITING})
# Who holds a place on the cohort (and so is on its registers and in its invitations).
PLACE_STATUSES = frozenset({EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED})


class AttendanceMark(LabelledEnum):
    PRESENT = "present"
    LATE = "late"
    LEFT_EARLY = "left_early"
    ABSENT = "absent"


# A day counts towards completion only when the volunteer was there for it; a person who left early
# or was absent makes the day up in a later cohort (DOMAIN.md: all four days must be attended).
ATTENDED_MARKS = frozenset({AttendanceMark.PRESENT, AttendanceMark.LATE})


class Attendance(Base):
    """One line of a register: how a volunteer attended one day (of their own cohort, or a make-up day
    on a later cohort's day, in which case `enrolment` is still their own enrolment)."""

    __tablename__ = "training_attendances"
    __table_args__ = (UniqueConstraint("enrolment_id", "cohort_day_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("training_enrolments.id", ondelete="CASCADE"), index=True)
    cohort_day_id: Mapped[int] = mapped_column(ForeignKey("training_cohort_days.id", ondelete="CASCADE"), index=True)
    mark: Mapped[AttendanceMark] = mapped_column(string_enum(AttendanceMark, 20))
    # Why someone was absent, left early or was late (required for an absence).
    reason: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    enrolment: Mapped[Enrolment] = relationship(back_populates="attendances")
    day: Mapped[CohortDay] = relationship()

    @property
    def attended(self) -> bool:
        return self.mark in ATTENDED_MARKS


class MakeUpBooking(Base):
    """A volunteer who missed day N of their cohort, booked onto day N of a later cohort of the course."""

    __tablename__ = "training_make_up_bookings"
    __table_args__ = (
        Index(
            "uq_training_make_up_bookings_one_live_per_day",
            "enrolment_id", "day_number",
            unique=True,
            sqlite_where=text("cancelled_at IS NULL"),
            postgresql_where=text("cancelled_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("training_enrolments.id", ondelete="CASCADE"), index=True)
    day_number: Mapped[int]
    cohort_day_id: Mapped[int] = mapped_column(ForeignKey("training_cohort_days.id", ondelete="CASCADE"), index=True)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    booked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[dt.datetime | None]

    enrolment: Mapped[Enrolment] = relationship(back_populates="make_ups")
    day: Mapped[CohortDay] = relationship()

"""The volunteer record and its lifecycle stage."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.cases.models import LabelledEnum
from portal.core.accounts import User
from portal.core.db import Base, string_enum, utcnow


class VolunteerStatus(LabelledEnum):
    """Where a volunteer is after the offer: vetting, then training, then active (ready for cases)."""

    VETTING = "vetting"
    TRAINING = "training"
    ACTIVE = "active"
    PAUSED = "paused"
    LEFT = "left"


class ExperienceLevel(LabelledEnum):
    """How much casework a facilitator is ready for; set by coordinators (allocation reads it)."""

    NEW = "new"
    EXPERIENCED = "experienced"
    SPECIALIST = "specialist"

    @property
    def label(self) -> str:
        return {
            "new": "New facilitator",
            "experienced": "Experienced facilitator",
            "specialist": "Trained for sensitive and complex cases",
        }[self.value]


class ConflictKind(LabelledEnum):
    """What a declared conflict of interest names."""

    PERSON = "person"
    PLACE = "place"


class Volunteer(Base):
    """A person who has been offered a volunteer place; one per user.

    Districts, availability and languages start as the application's answers and are then kept
    current by the volunteer (allocation reads them).
    """

    __tablename__ = "volunteers"
    __table_args__ = (
        CheckConstraint("max_cases >= 1 AND max_cases <= 10", name="max_cases_in_range"),
        CheckConstraint("availability_mask >= 0 AND availability_mask < 2097152", name="availability_mask_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteer_applications.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[VolunteerStatus] = mapped_column(
        string_enum(VolunteerStatus, 20), default=VolunteerStatus.VETTING,
        server_default=VolunteerStatus.VETTING.value, index=True,
    )
    phone: Mapped[str | None] = mapped_column(String(30))
    districts: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    availability: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # `availability` as 21 bits (bit = weekday index * 3 + period index; see profiles.availability),
    # kept in step with it by the services so that allocation can match times in SQL.
    availability_mask: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    max_cases: Mapped[int] = mapped_column(default=2, server_default=text("2"))
    drives: Mapped[bool] = mapped_column(default=False, server_default=false())
    experience: Mapped[ExperienceLevel] = mapped_column(
        string_enum(ExperienceLevel, 20), default=ExperienceLevel.NEW, server_default=ExperienceLevel.NEW.value,
    )
    # A pause the volunteer chose: no new case offers up to and including `paused_until`.
    paused_until: Mapped[dt.date | None]
    pause_reason: Mapped[str | None] = mapped_column(String(300))
    preferences_updated_at: Mapped[dt.datetime | None]
    offered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Volunteer {self.user_id} {self.status}>"

    @property
    def name(self) -> str:
        return self.user.name if self.user else ""


class VolunteerAbsence(Base):
    """Dates a volunteer is away (holidays): both days included."""

    __tablename__ = "volunteer_absences"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        Index("ix_volunteer_absences_volunteer_id_ends_on", "volunteer_id", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date]
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    volunteer: Mapped[Volunteer] = relationship()


class ConflictOfInterest(Base):
    """A person or place the volunteer must not work with, declared privately: coordinators see it,
    other volunteers never do. Withdrawn declarations are kept (with the date) for the record."""

    __tablename__ = "volunteer_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ConflictKind] = mapped_column(string_enum(ConflictKind, 10))
    name: Mapped[str] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    declared_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None]

    volunteer: Mapped[Volunteer] = relationship()

    @property
    def is_current(self) -> bool:
        return self.withdrawn_at is None

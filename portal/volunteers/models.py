"""Volunteer applications: the applicant's answers, their referees and the separately held equality data."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Date, Enum, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.cases.models import LabelledEnum
from portal.core.accounts import User
from portal.core.db import Base, string_enum, utcnow


def _enum(enum_class: type[enum.Enum], length: int = 30) -> Enum:
    return string_enum(enum_class, length)


class ApplicationStatus(LabelledEnum):
    """Where an application is; moves are governed by services.APPLICATION_TRANSITIONS."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    SHORTLISTED = "shortlisted"
    INTERVIEW_BOOKED = "interview_booked"
    INTERVIEWED = "interviewed"
    OFFERED = "offered"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


# An applicant has at most one application in one of these at a time.
ACTIVE_STATUSES = frozenset(ApplicationStatus) - {ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN}
CLOSED_STATUSES = frozenset({ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN})


class InterviewOutcome(LabelledEnum):
    """The interview panel's decision, recorded on the application by the interviews services."""

    OFFER = "offer"
    REJECT = "reject"
    HOLD = "hold"


class ApplicationSection(LabelledEnum):
    """One task of the application's task list, in the order the applicant sees them."""

    PERSONAL_DETAILS = "personal_details"
    CONTACT_DETAILS = "contact_details"
    DISTRICTS = "districts"
    AVAILABILITY = "availability"
    LANGUAGES = "languages"
    EXPERIENCE = "experience"
    MOTIVATION = "motivation"
    REFEREES = "referees"
    CONVICTIONS = "convictions"
    EQUALITY = "equality"
    AGREEMENTS = "agreements"

    @property
    def label(self) -> str:
        return _SECTION_LABELS[self]


_SECTION_LABELS = {
    ApplicationSection.PERSONAL_DETAILS: "Personal details",
    ApplicationSection.CONTACT_DETAILS: "Contact details",
    ApplicationSection.DISTRICTS: "Where you can volunteer",
    ApplicationSection.AVAILABILITY: "When you are available",
    ApplicationSection.LANGUAGES: "Languages",
    ApplicationSection.EXPERIENCE: "Relevant experience",
    ApplicationSection.MOTIVATION: "Why you want to volunteer",
    ApplicationSection.REFEREES: "Referees",
    ApplicationSection.CONVICTIONS: "Declaration of unspent convictions",
    ApplicationSection.EQUALITY: "Equality monitoring (optional)",
    ApplicationSection.AGREEMENTS: "Privacy notice and commitment",
}

OPTIONAL_SECTIONS = frozenset({ApplicationSection.EQUALITY})
REQUIRED_SECTIONS = tuple(section for section in ApplicationSection if section not in OPTIONAL_SECTIONS)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_PERIODS = ("morning", "afternoon", "evening")


class ApplicationReferenceCounter(Base):
    """The last application number issued in a year; its row is updated while a number is taken."""

    __tablename__ = "application_reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Application(Base):
    """One person's application to volunteer, from first draft to offer, rejection or withdrawal.

    `has_unspent_convictions` and `convictions_details` are restricted: coordinators only, for vetting.
    Equality answers live in `EqualityMonitoring`, reached only through the opaque `equality_link`.
    """

    __tablename__ = "volunteer_applications"
    __table_args__ = (
        UniqueConstraint("reference"),
        # One draft per person, even when two requests race to start one.
        Index(
            "uq_volunteer_applications_one_draft_per_user",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
        Index("ix_volunteer_applications_status_submitted_at", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[ApplicationStatus] = mapped_column(
        _enum(ApplicationStatus), default=ApplicationStatus.DRAFT, server_default=ApplicationStatus.DRAFT.value
    )

    # Personal details
    full_name: Mapped[str | None] = mapped_column(String(100))
    preferred_name: Mapped[str | None] = mapped_column(String(100))
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)

    # Contact details
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(30))
    address_line_1: Mapped[str | None] = mapped_column(String(100))
    address_line_2: Mapped[str | None] = mapped_column(String(100))
    town: Mapped[str | None] = mapped_column(String(60))
    postcode: Mapped[str | None] = mapped_column(String(8))

    # Where and when: districts is a list of district names; availability maps a weekday to its periods.
    districts: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    availability: Mapped[dict[str, list[str]]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'")
    )
    languages: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))

    experience: Mapped[str | None] = mapped_column(Text)
    motivation: Mapped[str | None] = mapped_column(Text)

    # Restricted: needed for vetting only.
    has_unspent_convictions: Mapped[bool | None]
    convictions_details: Mapped[str | None] = mapped_column(Text)

    privacy_notice_agreed_at: Mapped[dt.datetime | None]
    commitment_agreed_at: Mapped[dt.datetime | None]

    # Opaque link to the equality monitoring answers; no foreign key by design.
    equality_link: Mapped[str | None] = mapped_column(String(32), unique=True)

    # Set by portal.volunteers.interviews when the interview record is saved; read by the offer.
    interview_outcome: Mapped[InterviewOutcome | None] = mapped_column(_enum(InterviewOutcome))

    rejection_reason: Mapped[str | None] = mapped_column(Text)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    submitted_at: Mapped[dt.datetime | None]
    status_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_reminded_at: Mapped[dt.datetime | None]
    # Set when the retention period after rejection or withdrawal has passed and personal data is erased.
    anonymised_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()
    referees: Mapped[list[Referee]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="Referee.position"
    )

    def __repr__(self) -> str:
        return f"<Application {self.reference} {self.status}>"

    @property
    def display_name(self) -> str:
        """The name to greet the applicant by: the preferred name when given."""
        return self.preferred_name or self.full_name or (self.user.name if self.user else "")

    @property
    def is_draft(self) -> bool:
        return self.status == ApplicationStatus.DRAFT

    def is_available(self, weekday: str, period: str) -> bool:
        return period in (self.availability or {}).get(weekday, [])


class Referee(Base):
    """One of the applicant's two referees (position 1 or 2)."""

    __tablename__ = "volunteer_application_referees"
    __table_args__ = (UniqueConstraint("application_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_applications.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    relationship_to_applicant: Mapped[str] = mapped_column(String(100))

    application: Mapped[Application] = relationship(back_populates="referees")


# Equality monitoring questions and their answers; every question may be left out or "prefer not to say".
PREFER_NOT_TO_SAY = "prefer_not_to_say"
EQUALITY_QUESTIONS: dict[str, tuple[str, ...]] = {
    "age_band": ("18_24", "25_34", "35_44", "45_54", "55_64", "65_plus", PREFER_NOT_TO_SAY),
    "sex": ("female", "male", PREFER_NOT_TO_SAY),
    "gender_same_as_birth": ("yes", "no", PREFER_NOT_TO_SAY),
    "ethnic_group": ("asian", "black", "mixed", "white", "other", PREFER_NOT_TO_SAY),
    "religion": (
        "none", "buddhist", "christian", "hindu", "jewish", "muslim", "sikh", "other", PREFER_NOT_TO_SAY,
    ),
    "sexual_orientation": ("heterosexual", "gay_or_lesbian", "bisexual", "other", PREFER_NOT_TO_SAY),
    "disability": ("yes", "no", PREFER_NOT_TO_SAY),
    "lived_experience_of_justice_system": ("yes", "no", PREFER_NOT_TO_SAY),
}


class EqualityMonitoring(Base):
    """Optional equality monitoring answers, held apart from the application and reported only in aggregate.

    The row carries no foreign key and no personal details: only the application knows its `link`.
    """

    __tablename__ = "volunteer_equality_monitoring"

    id: Mapped[int] = mapped_column(primary_key=True)
    link: Mapped[str] = mapped_column(String(32), unique=True)
    age_band: Mapped[str | None] = mapped_column(String(30))
    sex: Mapped[str | None] = mapped_column(String(30))
    gender_same_as_birth: Mapped[str | None] = mapped_column(String(30))
    ethnic_group: Mapped[str | None] = mapped_column(String(30))
    religion: Mapped[str | None] = mapped_column(String(30))
    sexual_orientation: Mapped[str | None] = mapped_column(String(30))
    disability: Mapped[str | None] = mapped_column(String(30))
    lived_experience_of_justice_system: Mapped[str | None] = mapped_column(String(30))
    # The month only: a full timestamp could tie the answers back to an application.
    recorded_on: Mapped[dt.date] = mapped_column(Date)

    def answers(self) -> dict[str, Any]:
        return {question: getattr(self, question) for question in EQUALITY_QUESTIONS}


class ApplicationNote(Base):
    """A coordinator's note on an application; never shown to the applicant."""

    __tablename__ = "volunteer_application_notes"
    __table_args__ = (
        Index("ix_volunteer_application_notes_application_id_written_at", "application_id", "written_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("volunteer_applications.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    written_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()

"""Coursework assignments and their versioned rubrics, attempts (submission, marking, moderation, release),
trainers' declared conflicts of interest, and practical assessments (observed role plays)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.cases.models import LabelledEnum
from portal.core.accounts import User
from portal.core.db import Base, string_enum, utcnow
from portal.training.models import Cohort, Enrolment


class MarkingStatus(LabelledEnum):
    """Where one attempt is; moves are governed by services.MARKING_TRANSITIONS."""

    NOT_SUBMITTED = "not_submitted"
    SUBMITTED = "submitted"
    IN_MARKING = "in_marking"
    MARKED = "marked"
    MODERATED = "moderated"
    RELEASED = "released"


class Outcome(LabelledEnum):
    PASS = "pass"
    REFER = "refer"
    FAIL = "fail"


class Assignment(Base):
    """Written coursework set for a cohort: instructions, a deadline and a rubric (versioned)."""

    __tablename__ = "training_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("training_cohorts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="", server_default="")
    due_at: Mapped[dt.datetime]
    # Moderation sample: every fail, and one in this many of the other outcomes (0: none of them).
    moderate_one_in: Mapped[int] = mapped_column(default=5, server_default=sql_text("5"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    cohort: Mapped[Cohort] = relationship()
    rubric_versions: Mapped[list[RubricVersion]] = relationship(
        back_populates="assignment", cascade="all, delete-orphan", order_by="RubricVersion.number"
    )
    attempts: Mapped[list[Attempt]] = relationship(
        back_populates="assignment", cascade="all, delete-orphan", order_by="Attempt.id"
    )

    @property
    def rubric(self) -> RubricVersion | None:
        """The current (latest) rubric version, used by marking started from now on."""
        return self.rubric_versions[-1] if self.rubric_versions else None


class RubricVersion(Base):
    """One version of an assignment's rubric. Once a mark uses a version it never changes: editing the
    rubric then makes a new version, and earlier marks keep theirs.

    `criteria` is a list of {"name": str, "levels": [str, ...]} (levels from lowest to highest)."""

    __tablename__ = "training_rubric_versions"
    __table_args__ = (UniqueConstraint("assignment_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("training_assignments.id", ondelete="CASCADE"))
    number: Mapped[int]
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    assignment: Mapped[Assignment] = relationship(back_populates="rubric_versions")


class Attempt(Base):
    """One attempt by one volunteer at one assignment (attempt 2 is the single resubmission after a refer).

    Holds the submission (an uploaded file kept under a random id, and/or typed text), the marking (marker,
    lock, rubric version and levels, outcome, feedback), moderation and release. Outcome and feedback are
    shown to the volunteer only once `status` is released.
    """

    __tablename__ = "training_coursework_attempts"
    __table_args__ = (UniqueConstraint("assignment_id", "enrolment_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("training_assignments.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("training_enrolments.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(default=1, server_default=sql_text("1"))
    status: Mapped[MarkingStatus] = mapped_column(string_enum(MarkingStatus, 20), index=True)
    # A personal deadline: an extension (attempt 1) or the resubmission deadline (attempt 2).
    due_at: Mapped[dt.datetime | None]
    extension_reason: Mapped[str | None] = mapped_column(String(500))

    submitted_at: Mapped[dt.datetime | None]
    text: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_type: Mapped[str | None] = mapped_column(String(20))
    file_size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))

    marker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    allocated_at: Mapped[dt.datetime | None]
    # Taken from the queue by the marker (not allocated by someone else): once their lock expires, work they
    # have not finished goes back to the queue for any trainer of the cohort to take over.
    taken_from_queue: Mapped[bool] = mapped_column(default=False, server_default=false())
    lock_holder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lock_expires_at: Mapped[dt.datetime | None]
    rubric_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_rubric_versions.id", ondelete="RESTRICT")
    )
    # Criterion name -> level chosen, for the rubric version above.
    levels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    outcome: Mapped[Outcome | None] = mapped_column(string_enum(Outcome, 10))
    feedback: Mapped[str | None] = mapped_column(Text)
    marked_at: Mapped[dt.datetime | None]
    # When the outcome is refer: the deadline of the one resubmission (attempt 2), set at marking.
    resubmit_due_at: Mapped[dt.datetime | None]
    # The outcome the marker gave, when moderation changed it.
    marker_outcome: Mapped[Outcome | None] = mapped_column(string_enum(Outcome, 10))

    needs_moderation: Mapped[bool] = mapped_column(default=False, server_default=false())
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    moderation_note: Mapped[str | None] = mapped_column(Text)
    moderated_at: Mapped[dt.datetime | None]

    released_at: Mapped[dt.datetime | None]
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    assignment: Mapped[Assignment] = relationship(back_populates="attempts")
    enrolment: Mapped[Enrolment] = relationship()
    marker: Mapped[User | None] = relationship(foreign_keys=[marker_id])
    lock_holder: Mapped[User | None] = relationship(foreign_keys=[lock_holder_id])
    moderator: Mapped[User | None] = relationship(foreign_keys=[moderator_id])
    rubric_version: Mapped[RubricVersion | None] = relationship()

    @property
    def deadline(self) -> dt.datetime:
        """This person's deadline: their own (extension or resubmission) or the assignment's."""
        return self.due_at or self.assignment.due_at

    @property
    def is_late(self) -> bool:
        return self.submitted_at is not None and self.submitted_at > self.deadline

    @property
    def is_released(self) -> bool:
        return self.status is MarkingStatus.RELEASED

    def is_locked(self, now: dt.datetime) -> bool:
        return self.lock_holder_id is not None and self.lock_expires_at is not None and self.lock_expires_at > now

    def is_abandoned(self, now: dt.datetime) -> bool:
        """Taken from the queue, unfinished, and its marker's lock has run out: anyone may take it over."""
        return (self.taken_from_queue and self.marker_id is not None and not self.is_locked(now)
                and self.status in (MarkingStatus.SUBMITTED, MarkingStatus.IN_MARKING))

    def locked_by_other(self, user_id: int, now: dt.datetime) -> bool:
        return (
            self.lock_holder_id is not None
            and self.lock_holder_id != user_id
            and self.lock_expires_at is not None
            and self.lock_expires_at > now
        )


class ConflictOfInterest(Base):
    """A trainer's declared conflict with a volunteer (a relative, a friend, a colleague): the trainer is
    never allocated, and cannot take, mark, moderate or observe, that volunteer's work."""

    __tablename__ = "training_conflicts_of_interest"
    __table_args__ = (UniqueConstraint("trainer_id", "volunteer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    declared_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    trainer: Mapped[User] = relationship(foreign_keys=[trainer_id])
    volunteer: Mapped[User] = relationship(foreign_keys=[volunteer_id])


class PracticalAssessment(Base):
    """An observed role play: each course competency met or not yet met with evidence, and an outcome.

    `competencies` is a list of {"name": str, "met": bool, "evidence": str}. A later record (a re-observation)
    supersedes earlier ones; all are kept.
    """

    __tablename__ = "training_practical_assessments"
    __table_args__ = (UniqueConstraint("enrolment_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("training_enrolments.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(default=1, server_default=sql_text("1"))
    observed_on: Mapped[dt.date]
    observer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scenario: Mapped[str] = mapped_column(String(500))
    competencies: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    outcome: Mapped[Outcome] = mapped_column(string_enum(Outcome, 10))
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    enrolment: Mapped[Enrolment] = relationship()
    observer: Mapped[User | None] = relationship()

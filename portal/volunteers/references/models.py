"""References for a volunteer application: one per referee, the single-use links sent to them, their answers,
and the coordinator's decision."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.cases.models import LabelledEnum
from portal.core.accounts import User
from portal.core.db import Base, string_enum, utcnow
from portal.volunteers.models import Application, Referee


class ReferenceStatus(LabelledEnum):
    """Requested from the referee (waiting for their reply), or received (by the form, post or phone)."""

    REQUESTED = "requested"
    RECEIVED = "received"


class ReceivedBy(LabelledEnum):
    """How a reference reached us: the referee's online form, or a letter or call recorded by a coordinator."""

    FORM = "form"
    POST = "post"
    PHONE = "phone"


class WouldRecommend(LabelledEnum):
    YES = "yes"
    NO = "no"
    NOT_SURE = "not_sure"

    @property
    def label(self) -> str:
        return {"yes": "Yes", "no": "No", "not_sure": "Not sure"}[self.value]


class Reference(Base):
    """The reference of one referee (position 1 or 2) of an application; at most one per referee.

    The referee's answers are confidential: coordinators read them, the applicant never does.
    `generation` counts sends to a new address, so chase e-mails of a corrected request are new messages.
    `link_prefix` is the public address of the reference form without its token, remembered from the
    coordinator's request so the chase job (which runs outside any web request) can e-mail new links.
    """

    __tablename__ = "volunteer_references"
    __table_args__ = (UniqueConstraint("application_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_applications.id", ondelete="CASCADE"), index=True
    )
    referee_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_application_referees.id", ondelete="CASCADE"), unique=True
    )
    position: Mapped[int]
    status: Mapped[ReferenceStatus] = mapped_column(
        string_enum(ReferenceStatus, 20), default=ReferenceStatus.REQUESTED,
        server_default=ReferenceStatus.REQUESTED.value, index=True,
    )

    # The request and its chasers
    email: Mapped[str | None] = mapped_column(String(254))
    link_prefix: Mapped[str | None] = mapped_column(String(500))
    requested_at: Mapped[dt.datetime | None]
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    generation: Mapped[int] = mapped_column(default=0, server_default="0")
    last_sent_at: Mapped[dt.datetime | None]
    chase_count: Mapped[int] = mapped_column(default=0, server_default="0")
    missing_reported_at: Mapped[dt.datetime | None]

    # The referee's answers (or the coordinator's summary of a letter or call)
    received_at: Mapped[dt.datetime | None]
    received_by: Mapped[ReceivedBy | None] = mapped_column(string_enum(ReceivedBy, 10))
    referee_name: Mapped[str | None] = mapped_column(String(100))
    known_for: Mapped[str | None] = mapped_column(String(100))
    capacity: Mapped[str | None] = mapped_column(String(200))
    suitability: Mapped[str | None] = mapped_column(Text)
    reliability: Mapped[str | None] = mapped_column(Text)
    has_concerns: Mapped[bool | None]
    concerns: Mapped[str | None] = mapped_column(Text)
    would_recommend: Mapped[WouldRecommend | None] = mapped_column(string_enum(WouldRecommend, 10))
    summary: Mapped[str | None] = mapped_column(Text)

    # The coordinator's decision
    is_satisfactory: Mapped[bool | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship()
    referee: Mapped[Referee] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    links: Mapped[list[ReferenceLink]] = relationship(
        back_populates="reference", cascade="all, delete-orphan", order_by="ReferenceLink.id"
    )

    def __repr__(self) -> str:
        return f"<Reference {self.application_id}/{self.position} {self.status}>"

    @property
    def is_received(self) -> bool:
        return self.status == ReferenceStatus.RECEIVED

    @property
    def is_decided(self) -> bool:
        return self.is_satisfactory is not None


class ReferenceLink(Base):
    """One single-use link e-mailed to a referee. Only the SHA-256 digest of its token is stored.

    Every chase sends a new link and the earlier ones keep working until they expire; sending the request
    to a corrected address revokes the earlier links. All of them stop working once the reference is in.
    """

    __tablename__ = "volunteer_reference_links"
    __table_args__ = (UniqueConstraint("token_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference_id: Mapped[int] = mapped_column(ForeignKey("volunteer_references.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]

    reference: Mapped[Reference] = relationship(back_populates="links")

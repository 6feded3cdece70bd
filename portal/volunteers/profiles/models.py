"""The volunteer record and its lifecycle stage."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String, text
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


class Volunteer(Base):
    """A person who has been offered a volunteer place; one per user.

    Districts, availability and languages start as the application's answers and are then kept
    current by the volunteer (allocation reads them).
    """

    __tablename__ = "volunteers"

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
    offered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Volunteer {self.user_id} {self.status}>"

    @property
    def name(self) -> str:
        return self.user.name if self.user else ""

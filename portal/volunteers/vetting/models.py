"""Vetting checks (one row per check: a renewal is a new row), and reports of changed circumstances."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.cases.models import LabelledEnum
from portal.core import versions
from portal.core.accounts import User
from portal.core.db import Base, string_enum, utcnow
from portal.volunteers.profiles.models import Volunteer


class CheckKind(LabelledEnum):
    """The kinds of check; which are required, and for how long each lasts, are settings (rules.py)."""

    NPPV = "nppv"
    NSV = "nsv"
    DBS = "dbs"
    REFERENCES = "references"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


CHECK_KIND_ORDER = (CheckKind.NPPV, CheckKind.NSV, CheckKind.DBS, CheckKind.REFERENCES)

KIND_LABELS = {
    CheckKind.NPPV: "Police vetting (NPPV)",
    CheckKind.NSV: "National security vetting",
    CheckKind.DBS: "Enhanced DBS check",
    CheckKind.REFERENCES: "References",
}

# The levels each kind records (value, words); references have none.
LEVELS: dict[CheckKind, tuple[tuple[str, str], ...]] = {
    CheckKind.NPPV: (("NPPV1", "NPPV1"), ("NPPV2A", "NPPV2 (abbreviated)"), ("NPPV2", "NPPV2 (full)"),
                     ("NPPV3", "NPPV3")),
    CheckKind.NSV: (("CTC", "Counter-terrorist check (CTC)"), ("SC", "Security check (SC)")),
    CheckKind.DBS: (("ENHANCED", "Enhanced"), ("ENHANCED_BARRED", "Enhanced with barred lists")),
    CheckKind.REFERENCES: (),
}
LEVEL_LABELS = {value: words for levels in LEVELS.values() for value, words in levels}
SHORT_LEVELS = {"NPPV2A": "NPPV2 abbreviated", "NPPV2": "NPPV2", "ENHANCED_BARRED": "enhanced, barred lists",
                "ENHANCED": "enhanced"}

DBS_WORKFORCES = (("adult", "Adult workforce"), ("child", "Child workforce"),
                  ("adult_and_child", "Adult and child workforce"), ("other", "Other workforce"))


class CheckStatus(LabelledEnum):
    """Where a check is; moves are governed by services.CHECK_TRANSITIONS."""

    NOT_STARTED = "not_started"
    SUBMITTED = "submitted"
    CLEARED = "cleared"
    REFUSED = "refused"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"


# A check in one of these was cleared once: it counted from cleared_on until expires_on.
HELD_STATUSES = frozenset({CheckStatus.CLEARED, CheckStatus.LAPSED})
IN_PROGRESS_STATUSES = frozenset({CheckStatus.NOT_STARTED, CheckStatus.SUBMITTED})


class VettingCheck(Base):
    """One vetting check of one volunteer. Only the last four characters of a certificate or reference
    number are kept, never the whole number or an image of the certificate.

    `expires_on` is the first day the check no longer counts (for national security vetting, the day
    its review is due); it is computed from the rules unless `expiry_override_reason` says why not.
    """

    __tablename__ = "vetting_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[CheckKind] = mapped_column(string_enum(CheckKind, 20), index=True)
    level: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[CheckStatus] = mapped_column(
        string_enum(CheckStatus, 20), default=CheckStatus.NOT_STARTED,
        server_default=CheckStatus.NOT_STARTED.value, index=True,
    )
    submitted_on: Mapped[dt.date | None]
    cleared_on: Mapped[dt.date | None]
    decided_on: Mapped[dt.date | None]  # refused or withdrawn on
    expires_on: Mapped[dt.date | None] = mapped_column(index=True)
    expiry_override_reason: Mapped[str | None] = mapped_column(Text)
    reference_last4: Mapped[str | None] = mapped_column(String(4))
    decision_maker: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    # Enhanced DBS only
    dbs_workforce: Mapped[str | None] = mapped_column(String(20))
    update_service: Mapped[bool] = mapped_column(default=False, server_default=false())
    update_service_checked_on: Mapped[dt.date | None]
    # The check this one renews (history: the old check stays as it was).
    renews_id: Mapped[int | None] = mapped_column(ForeignKey("vetting_checks.id", ondelete="SET NULL"), index=True)
    # The smallest reminder lead (in days) already sent for this check, so each reminder goes once.
    reminded_days: Mapped[int | None]
    lapsed_at: Mapped[dt.datetime | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    volunteer: Mapped[Volunteer] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    renews: Mapped[VettingCheck | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<VettingCheck {self.id} {self.kind} {self.status}>"

    @property
    def title(self) -> str:
        """'Police vetting (NPPV2)', 'Enhanced DBS check (enhanced, barred lists)', 'References'."""
        if self.kind is CheckKind.NPPV and self.level:
            return f"Police vetting ({SHORT_LEVELS.get(self.level, self.level)})"
        if self.kind is CheckKind.NSV and self.level:
            return f"National security vetting ({self.level})"
        if self.kind is CheckKind.DBS and self.level:
            return f"Enhanced DBS check ({SHORT_LEVELS.get(self.level, self.level)})"
        return self.kind.label

    @property
    def title_in_sentence(self) -> str:
        """The title inside a sentence: 'police vetting (NPPV2)'."""
        return self.title[:1].lower() + self.title[1:]

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.level or "", self.level or "")

    def status_on(self, day: dt.date) -> CheckStatus:
        """The status to show on `day`: a cleared check past its expiry shows as lapsed even before
        the daily job has marked it."""
        if self.status is CheckStatus.CLEARED and self.expires_on is not None and day >= self.expires_on:
            return CheckStatus.LAPSED
        return self.status

    def counts_on(self, day: dt.date) -> bool:
        """True when this check was cleared and in date on `day`."""
        return (
            self.status in HELD_STATUSES
            and self.cleared_on is not None
            and self.cleared_on <= day
            and (self.expires_on is None or day < self.expires_on)
        )


class CircumstanceKind(LabelledEnum):
    NEW_ADDRESS = "new_address"
    NEW_NAME = "new_name"
    CONVICTION = "conviction"
    ARREST_OR_CHARGE = "arrest_or_charge"
    HOUSEHOLD = "household"
    OTHER = "other"

    @property
    def label(self) -> str:
        return CIRCUMSTANCE_LABELS[self]


CIRCUMSTANCE_LABELS = {
    CircumstanceKind.NEW_ADDRESS: "New address",
    CircumstanceKind.NEW_NAME: "Change of name",
    CircumstanceKind.CONVICTION: "A new conviction or caution",
    CircumstanceKind.ARREST_OR_CHARGE: "Arrested, charged or under investigation",
    CircumstanceKind.HOUSEHOLD: "Someone new living with me, or a new close association",
    CircumstanceKind.OTHER: "Something else",
}


class CircumstanceReport(Base):
    """A volunteer telling the service that something vetting depends on has changed.

    The details are restricted (they may describe an offence): coordinators read them on the
    volunteer's record; e-mails say only that a report was made.
    """

    __tablename__ = "vetting_circumstance_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[CircumstanceKind] = mapped_column(string_enum(CircumstanceKind, 30))
    details: Mapped[str] = mapped_column(Text)
    changed_on: Mapped[dt.date | None]
    reported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    volunteer: Mapped[Volunteer] = relationship()


# The dashboard's counts are kept in memory until one of these changes (portal.core.versions).
VETTING_VERSION = "vetting"
versions.track(VETTING_VERSION, VettingCheck, Volunteer)

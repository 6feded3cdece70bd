"""RJ case records: the referral, its parties and everything done on the case until closure."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.accounts import User
from portal.core.db import Base, string_enum, utcnow
from portal.core.search import trigram_index

# Words that read better with a hyphen than with the space an underscore becomes.
_LABELS = {
    "follow_up": "follow-up",
    "self_referral": "self-referral",
    "co_facilitator": "co-facilitator",
    "e_signature": "e-signature",
    "face_to_face_conference": "face-to-face conference",
    "anti_social_behaviour": "anti-social behaviour",
    "under_18": "under 18",
    "pre_intervention": "pre-intervention",
}


class LabelledEnum(enum.StrEnum):
    """A string enum whose `label` is the value in words ("awaiting allocation")."""

    @property
    def label(self) -> str:
        return _LABELS.get(self.value, self.value.replace("_", " "))


def _enum(enum_class: type[enum.Enum], length: int = 40) -> Enum:
    return string_enum(enum_class, length)


class CaseStatus(LabelledEnum):
    """Where a case is (rj-domain.md §1.17); moves are governed by services.CASE_TRANSITIONS."""

    REFERRAL_RECEIVED = "referral_received"
    TRIAGE = "triage"
    CONTACTING = "contacting"
    ASSESSMENT = "assessment"
    AWAITING_ALLOCATION = "awaiting_allocation"
    ALLOCATED = "allocated"
    PREPARATION = "preparation"
    INTERVENTION = "intervention"
    MONITORING = "monitoring"
    FOLLOW_UP = "follow_up"
    ON_HOLD = "on_hold"
    CLOSED = "closed"

    @property
    def phrase(self) -> str:
        """The status as it reads after "the case is": "in triage", "awaiting allocation"."""
        return _STATUS_PHRASES.get(self, f"in {self.label}")


_STATUS_PHRASES = {
    CaseStatus.REFERRAL_RECEIVED: "a new referral",
    CaseStatus.CONTACTING: "at the contacting stage",
    CaseStatus.AWAITING_ALLOCATION: "awaiting allocation",
    CaseStatus.ALLOCATED: "allocated",
    CaseStatus.ON_HOLD: "on hold",
    CaseStatus.CLOSED: "closed",
}

OPEN_STATUSES = frozenset(CaseStatus) - {CaseStatus.CLOSED}


class ReferralSource(LabelledEnum):
    POLICE = "police"
    PROBATION = "probation"
    COURT = "court"
    YOUTH_JUSTICE = "youth_justice"
    HOUSING = "housing"
    VICTIM_SERVICES = "victim_services"
    SELF_REFERRAL = "self_referral"
    OTHER = "other"


class OffenceCategory(LabelledEnum):
    """The offence or incident, in broad police-recorded-crime groups plus non-crime conflict."""

    VIOLENCE = "violence"
    SEXUAL_OFFENCE = "sexual_offence"
    ROBBERY = "robbery"
    BURGLARY = "burglary"
    THEFT = "theft"
    CRIMINAL_DAMAGE = "criminal_damage"
    PUBLIC_ORDER = "public_order"
    HARASSMENT = "harassment"
    FRAUD = "fraud"
    ROAD_TRAFFIC = "road_traffic"
    ANTI_SOCIAL_BEHAVIOUR = "anti_social_behaviour"
    NEIGHBOUR_DISPUTE = "neighbour_dispute"
    OTHER = "other"


class JusticeStage(LabelledEnum):
    """The criminal justice stage at referral (rj-domain.md §1.2 `cjs_stage`)."""

    PRE_CHARGE = "pre_charge"
    OUT_OF_COURT_DISPOSAL = "out_of_court_disposal"
    PRE_SENTENCE = "pre_sentence"
    COMMUNITY_SENTENCE = "community_sentence"
    CUSTODY = "custody"
    POST_RELEASE = "post_release"
    NOT_REPORTED = "not_reported"
    NON_CRIME = "non_crime"


class SensitiveKind(LabelledEnum):
    """Why a case is sensitive or complex; such cases need facilitators with the extra training."""

    DOMESTIC_ABUSE = "domestic_abuse"
    SEXUAL_OFFENCE = "sexual_offence"
    HATE_CRIME = "hate_crime"
    SERIOUS_VIOLENCE = "serious_violence"


class InterventionType(LabelledEnum):
    FACE_TO_FACE_CONFERENCE = "face_to_face_conference"
    SHUTTLE = "shuttle"
    LETTER = "letter"
    DIRECT_REPARATION = "direct_reparation"
    INDIRECT_REPARATION = "indirect_reparation"
    COMMUNITY_PANEL = "community_panel"
    REFERRAL_ORDER_PANEL = "referral_order_panel"


class ClosureReason(LabelledEnum):
    COMPLETED_DIRECT = "completed_direct"
    COMPLETED_INDIRECT = "completed_indirect"
    COMPLETED_PARTIAL = "completed_partial"
    DECLINED_HARMED = "declined_harmed"
    DECLINED_RESPONSIBLE = "declined_responsible"
    WITHDRAWN_HARMED = "withdrawn_harmed"
    WITHDRAWN_RESPONSIBLE = "withdrawn_responsible"
    UNSUITABLE_RISK = "unsuitable_risk"
    UNSUITABLE_NO_RESPONSIBILITY = "unsuitable_no_responsibility"
    UNSUITABLE_SENSITIVE_COMPLEX = "unsuitable_sensitive_complex"
    INELIGIBLE = "ineligible"
    NO_CONTACT = "no_contact"
    OTHER_PARTY_NOT_IDENTIFIED = "other_party_not_identified"
    AGREEMENT_NOT_FULFILLED = "agreement_not_fulfilled"
    SIGNPOSTED_ELSEWHERE = "signposted_elsewhere"

    @property
    def label(self) -> str:
        return _CLOSURE_LABELS[self]


_CLOSURE_LABELS = {
    ClosureReason.COMPLETED_DIRECT: "completed (direct)",
    ClosureReason.COMPLETED_INDIRECT: "completed (indirect)",
    ClosureReason.COMPLETED_PARTIAL: "completed (partial)",
    ClosureReason.DECLINED_HARMED: "declined by the harmed person",
    ClosureReason.DECLINED_RESPONSIBLE: "declined by the person responsible",
    ClosureReason.WITHDRAWN_HARMED: "withdrawn by the harmed person",
    ClosureReason.WITHDRAWN_RESPONSIBLE: "withdrawn by the person responsible",
    ClosureReason.UNSUITABLE_RISK: "unsuitable (risk)",
    ClosureReason.UNSUITABLE_NO_RESPONSIBILITY: "unsuitable (no acceptance of responsibility)",
    ClosureReason.UNSUITABLE_SENSITIVE_COMPLEX: "unsuitable (sensitive or complex)",
    ClosureReason.INELIGIBLE: "ineligible",
    ClosureReason.NO_CONTACT: "no contact",
    ClosureReason.OTHER_PARTY_NOT_IDENTIFIED: "other party not identified",
    ClosureReason.AGREEMENT_NOT_FULFILLED: "agreement not fulfilled",
    ClosureReason.SIGNPOSTED_ELSEWHERE: "signposted elsewhere",
}


class PartyRole(LabelledEnum):
    HARMED_PERSON = "harmed_person"
    PERSON_RESPONSIBLE = "person_responsible"
    SUPPORTER = "supporter"
    PARENT_OR_GUARDIAN = "parent_or_guardian"


PRINCIPAL_ROLES = frozenset({PartyRole.HARMED_PERSON, PartyRole.PERSON_RESPONSIBLE})


class ContactMethod(LabelledEnum):
    PHONE = "phone"
    TEXT_MESSAGE = "text_message"
    EMAIL = "email"
    LETTER = "letter"
    IN_PERSON = "in_person"
    VIDEO_CALL = "video_call"


class ContactOutcome(LabelledEnum):
    CONTACT_MADE = "contact_made"
    MESSAGE_LEFT = "message_left"
    NO_ANSWER = "no_answer"
    WRONG_DETAILS = "wrong_details"
    RETURNED_UNDELIVERED = "returned_undelivered"


class ConsentPurpose(LabelledEnum):
    """What a consent covers (rj-domain.md §1.5); participation may name an intervention type."""

    CONTACT = "contact"
    PARTICIPATION = "participation"
    INFORMATION_SHARING = "information_sharing"
    SUPPORTER_ATTENDANCE = "supporter_attendance"
    FEEDBACK_FOLLOW_UP = "feedback_follow_up"


class ConsentMethod(LabelledEnum):
    WRITTEN = "written"
    E_SIGNATURE = "e_signature"
    VERBAL = "verbal"


# RJC Service Provider Code C asks for written consent; verbal consent is recorded but must be
# confirmed in writing before it lets a case move on.
WRITTEN_METHODS = frozenset({ConsentMethod.WRITTEN, ConsentMethod.E_SIGNATURE})


class RiskStage(LabelledEnum):
    INITIAL = "initial"
    PRE_INTERVENTION = "pre_intervention"
    REVIEW = "review"


class RiskRating(LabelledEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class NoteVisibility(LabelledEnum):
    """GENERAL: everyone on the case. RESTRICTED: coordinators, each view audited.
    COORDINATOR_ONLY: coordinators (safeguarding referrals and the like)."""

    GENERAL = "general"
    RESTRICTED = "restricted"
    COORDINATOR_ONLY = "coordinator_only"


class SessionType(LabelledEnum):
    PREPARATION_MEETING = "preparation_meeting"
    CONFERENCE = "conference"
    SHUTTLE_EXCHANGE = "shuttle_exchange"
    LETTER = "letter"
    PANEL = "panel"


# Sessions that deliver an intervention, as opposed to preparing for one.
INTERVENTION_SESSIONS = frozenset(SessionType) - {SessionType.PREPARATION_MEETING}


class ActionStatus(LabelledEnum):
    OPEN = "open"
    DONE = "done"
    NOT_DONE = "not_done"


class AllocationRole(LabelledEnum):
    LEAD = "lead"
    CO_FACILITATOR = "co_facilitator"


class CaseReferenceCounter(Base):
    """The last case number issued in a year; its row is locked while a number is taken."""

    __tablename__ = "case_reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


_AWAITING_FIRST_CONTACT = "first_contact_on IS NULL AND status <> 'closed'"


class Case(Base):
    """One referral and the RJ work that follows it, from receipt to closure."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("first_contact_due_on >= received_on", name="first_contact_due_after_received"),
        CheckConstraint(
            "(status = 'closed' AND closure_reason IS NOT NULL AND closed_on IS NOT NULL)"
            " OR (status <> 'closed' AND closure_reason IS NULL AND closed_on IS NULL)",
            name="closure_reason_when_closed",
        ),
        CheckConstraint(
            "(status = 'on_hold' AND status_before_hold IS NOT NULL"
            " AND status_before_hold NOT IN ('on_hold', 'closed'))"
            " OR (status <> 'on_hold' AND status_before_hold IS NULL)",
            name="hold_remembers_status",
        ),
        # The case list filters by one of these and sorts by date received.
        Index("ix_cases_status_received_on", "status", "received_on"),
        Index("ix_cases_district_received_on", "district", "received_on"),
        Index("ix_cases_referrer_received_on", "referrer_organisation", "received_on"),
        Index("ix_cases_source_received_on", "source", "received_on"),
        # The newest-first case list walks this; the referrer report counts a period's referrals
        # from the index alone (an index-only scan), without reading the wide case rows.
        Index(
            "ix_cases_received_on_id", "received_on", "id",
            postgresql_include=["first_contact_on", "first_contact_due_on", "harmed_consented_on",
                                "responsible_consented_on"],
        ),
        # The report's closures and completed agreements, and its interventions by type, likewise.
        Index("ix_cases_closed_on_report", "closed_on",
              postgresql_include=["closure_reason", "referrer_organisation", "id"]),
        # Overdue first contacts (the list filter and the coordinator home): open, nobody reached.
        Index(
            "ix_cases_awaiting_first_contact", "first_contact_due_on", "id",
            postgresql_where=text(_AWAITING_FIRST_CONTACT), sqlite_where=text(_AWAITING_FIRST_CONTACT),
        ),
        Index(
            "ix_cases_with_intervention_type", "id",
            postgresql_include=["intervention_type", "referrer_organisation"],
            postgresql_where=text("intervention_type IS NOT NULL"),
            sqlite_where=text("intervention_type IS NOT NULL"),
        ),
        # The case list's search: part of a case reference or a crime reference.
        trigram_index("ix_cases_reference_trgm", "reference"),
        trigram_index("ix_cases_crime_reference_trgm", "crime_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus), default=CaseStatus.REFERRAL_RECEIVED)
    status_before_hold: Mapped[CaseStatus | None] = mapped_column(_enum(CaseStatus))
    hold_reason: Mapped[str | None] = mapped_column(Text)
    hold_review_on: Mapped[dt.date | None]

    source: Mapped[ReferralSource] = mapped_column(_enum(ReferralSource))
    referrer_organisation: Mapped[str | None] = mapped_column(String(200))
    referrer_name: Mapped[str | None] = mapped_column(String(200))
    referrer_email: Mapped[str | None] = mapped_column(String(254))
    referrer_phone: Mapped[str | None] = mapped_column(String(40))
    crime_reference: Mapped[str | None] = mapped_column(String(60))
    received_on: Mapped[dt.date]
    incident_on: Mapped[dt.date | None]
    offence_category: Mapped[OffenceCategory] = mapped_column(_enum(OffenceCategory))
    justice_stage: Mapped[JusticeStage] = mapped_column(_enum(JusticeStage))
    district: Mapped[str] = mapped_column(String(100))
    victim_has_enhanced_rights: Mapped[bool] = mapped_column(default=False, server_default=false())
    is_sensitive: Mapped[bool] = mapped_column(default=False, server_default=false())
    summary: Mapped[str] = mapped_column(Text)
    intervention_type: Mapped[InterventionType | None] = mapped_column(_enum(InterventionType))

    # Victims' Code: information about RJ within 5 working days, 1 for enhanced rights.
    first_contact_due_on: Mapped[dt.date] = mapped_column(index=True)
    first_contact_on: Mapped[dt.date | None]
    # The first consent to take part from a harmed person / a person responsible (kept when it is
    # later withdrawn). Derived from the consents by the services, so that the referrer report
    # counts consent uptake from the cases alone rather than joining consents to parties.
    harmed_consented_on: Mapped[dt.date | None]
    responsible_consented_on: Mapped[dt.date | None]

    closure_reason: Mapped[ClosureReason | None] = mapped_column(_enum(ClosureReason))
    closure_notes: Mapped[str | None] = mapped_column(Text)
    closed_on: Mapped[dt.date | None]

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    sensitive_kind_links: Mapped[list[CaseSensitiveKind]] = relationship(
        back_populates="case", cascade="all, delete-orphan", passive_deletes=True
    )
    parties: Mapped[list[Party]] = relationship(
        back_populates="case", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Party.id", foreign_keys="Party.case_id",
    )
    allocations: Mapped[list[Allocation]] = relationship(
        back_populates="case", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Allocation.id",
    )
    current_allocations: Mapped[list[Allocation]] = relationship(
        primaryjoin=lambda: and_(Case.id == Allocation.case_id, Allocation.ends_on.is_(None)),
        viewonly=True,
        order_by="Allocation.id",
    )
    agreement: Mapped[OutcomeAgreement | None] = relationship(
        back_populates="case", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Case {self.reference} {self.status}>"

    @property
    def is_open(self) -> bool:
        return self.status is not CaseStatus.CLOSED

    @property
    def sensitive_kinds(self) -> frozenset[SensitiveKind]:
        return frozenset(link.kind for link in self.sensitive_kind_links)

    def is_first_contact_overdue(self, today: dt.date) -> bool:
        """True when nobody has been reached yet and the Victims' Code date has passed."""
        return self.is_open and self.first_contact_on is None and today > self.first_contact_due_on

    def note_participation_consent(self, role: PartyRole, given_on: dt.date) -> None:
        """Keep the first-consent dates when a party in `role` consents to take part on `given_on`."""
        if role is PartyRole.HARMED_PERSON:
            self.harmed_consented_on = min(filter(None, (self.harmed_consented_on, given_on)))
        elif role is PartyRole.PERSON_RESPONSIBLE:
            self.responsible_consented_on = min(filter(None, (self.responsible_consented_on, given_on)))

    @property
    def first_contact_in_time(self) -> bool | None:
        """Whether first contact met the Victims' Code date; None until someone is reached."""
        if self.first_contact_on is None:
            return None
        return self.first_contact_on <= self.first_contact_due_on


class CaseSensitiveKind(Base):
    __tablename__ = "case_sensitive_kinds"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[SensitiveKind] = mapped_column(_enum(SensitiveKind), primary_key=True)

    case: Mapped[Case] = relationship(back_populates="sensitive_kind_links")


class CaseStatusChange(Base):
    """One move of a case from a status to another: the case's history and the reports' source."""

    __tablename__ = "case_status_changes"
    __table_args__ = (
        Index("ix_case_status_changes_case_id_changed_at", "case_id", "changed_at"),
        Index("ix_case_status_changes_to_status_changed_at", "to_status", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    from_status: Mapped[CaseStatus | None] = mapped_column(_enum(CaseStatus))
    to_status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)

    changed_by: Mapped[User | None] = relationship()


class Party(Base):
    """A person on a case. Address and contact details are restricted (DOMAIN.md, data protection)."""

    __tablename__ = "parties"
    # The case list's search finds cases by part of a person's name.
    __table_args__ = (trigram_index("ix_parties_name_trgm", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    role: Mapped[PartyRole] = mapped_column(_enum(PartyRole))
    # A supporter or parent/guardian is attached to the party they support.
    supports_party_id: Mapped[int | None] = mapped_column(
        ForeignKey("parties.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(Text)
    safe_contact_notes: Mapped[str | None] = mapped_column(Text)
    interpreter_language: Mapped[str | None] = mapped_column(String(100))
    access_needs: Mapped[str | None] = mapped_column(Text)
    is_under_18: Mapped[bool] = mapped_column(default=False, server_default=false())
    home_visit_approved: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="parties", foreign_keys=[case_id])
    supports: Mapped[Party | None] = relationship(remote_side=[id])
    consents: Mapped[list[Consent]] = relationship(back_populates="party", order_by="Consent.id")

    def __repr__(self) -> str:
        return f"<Party {self.id} {self.role}>"

    @property
    def is_principal(self) -> bool:
        return self.role in PRINCIPAL_ROLES


class ContactAttempt(Base):
    __tablename__ = "contact_attempts"
    __table_args__ = (Index("ix_contact_attempts_case_id_attempted_at", "case_id", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[dt.datetime]
    method: Mapped[ContactMethod] = mapped_column(_enum(ContactMethod))
    outcome: Mapped[ContactOutcome] = mapped_column(_enum(ContactOutcome))
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    party: Mapped[Party] = relationship()

    @property
    def is_successful(self) -> bool:
        return self.outcome is ContactOutcome.CONTACT_MADE


class Consent(Base):
    """Free, informed consent from one party for one purpose; it may be withdrawn at any time."""

    __tablename__ = "consents"
    __table_args__ = (
        CheckConstraint("withdrawn_on IS NULL OR withdrawn_on >= given_on", name="withdrawn_after_given"),
        CheckConstraint(
            "intervention_type IS NULL OR purpose = 'participation'", name="type_only_for_participation"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[ConsentPurpose] = mapped_column(_enum(ConsentPurpose))
    intervention_type: Mapped[InterventionType | None] = mapped_column(_enum(InterventionType))
    given_on: Mapped[dt.date]
    method: Mapped[ConsentMethod] = mapped_column(_enum(ConsentMethod))
    withdrawn_on: Mapped[dt.date | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    party: Mapped[Party] = relationship(back_populates="consents")

    @property
    def is_current(self) -> bool:
        return self.withdrawn_on is None

    @property
    def is_written(self) -> bool:
        return self.method in WRITTEN_METHODS


class RiskAssessment(Base):
    """A risk assessment. `police_intelligence` is restricted: facilitators never see it."""

    __tablename__ = "risk_assessments"
    __table_args__ = (Index("ix_risk_assessments_case_id_stage", "case_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    stage: Mapped[RiskStage] = mapped_column(_enum(RiskStage))
    factors: Mapped[str] = mapped_column(Text)
    rating: Mapped[RiskRating] = mapped_column(_enum(RiskRating))
    mitigations: Mapped[str | None] = mapped_column(Text)
    police_intelligence: Mapped[str | None] = mapped_column(Text)
    proceed: Mapped[bool]
    assessed_on: Mapped[dt.date]
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    assessed_by: Mapped[User | None] = relationship(foreign_keys=[assessed_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])


class CaseNote(Base):
    __tablename__ = "case_notes"
    __table_args__ = (Index("ix_case_notes_case_id_written_at", "case_id", "written_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    visibility: Mapped[NoteVisibility] = mapped_column(_enum(NoteVisibility))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    written_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()


class CaseSession(Base):
    """A meeting or exchange with parties: preparation, conference, shuttle, letter or panel."""

    __tablename__ = "case_sessions"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 1440", name="duration_in_a_day"),
        Index("ix_case_sessions_case_id_held_on", "case_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    session_type: Mapped[SessionType] = mapped_column(_enum(SessionType))
    held_on: Mapped[dt.date]
    duration_minutes: Mapped[int]
    attendees: Mapped[str] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OutcomeAgreement(Base):
    """What the parties agreed; one per case, with actions that each have an owner and a date."""

    __tablename__ = "outcome_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    agreed_on: Mapped[dt.date] = mapped_column(index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="agreement")
    actions: Mapped[list[AgreementAction]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", passive_deletes=True,
        order_by="AgreementAction.id",
    )

    @property
    def open_actions(self) -> list[AgreementAction]:
        return [action for action in self.actions if action.status is ActionStatus.OPEN]


class AgreementAction(Base):
    __tablename__ = "agreement_actions"
    # With the status, "has it actions, all done?" (the referrer report) is read from the index.
    __table_args__ = (Index("ix_agreement_actions_agreement_id_status", "agreement_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("outcome_agreements.id", ondelete="CASCADE"))
    owner: Mapped[str] = mapped_column(String(200))
    owner_party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text)
    due_on: Mapped[dt.date]
    status: Mapped[ActionStatus] = mapped_column(_enum(ActionStatus), default=ActionStatus.OPEN)
    status_changed_on: Mapped[dt.date | None]

    agreement: Mapped[OutcomeAgreement] = relationship(back_populates="actions")


class Feedback(Base):
    """One party's view of the service; one response per party."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_1_to_5"),
        UniqueConstraint("party_id"),
        Index("ix_feedback_given_on", "given_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    satisfaction: Mapped[int]
    felt_safe: Mapped[bool | None]
    felt_prepared: Mapped[bool | None]
    would_recommend: Mapped[bool | None]
    comments: Mapped[str | None] = mapped_column(Text)
    given_on: Mapped[dt.date]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    party: Mapped[Party] = relationship()


_AWAITING_REVIEW = "ends_on IS NULL AND review_flagged_at IS NOT NULL AND review_cleared_at IS NULL"


class Allocation(Base):
    """A facilitator on a case. Access runs from `starts_on` up to, not including, `ends_on`."""

    __tablename__ = "case_allocations"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
        Index("ix_case_allocations_user_id_ends_on", "user_id", "ends_on"),
        # At most one current lead per case, and one current allocation per person per case,
        # even when two coordinators allocate at the same moment.
        Index(
            "uq_case_allocations_current_lead", "case_id", unique=True,
            sqlite_where=text("ends_on IS NULL AND role = 'lead'"),
            postgresql_where=text("ends_on IS NULL AND role = 'lead'"),
        ),
        Index(
            "uq_case_allocations_current_person", "case_id", "user_id", unique=True,
            sqlite_where=text("ends_on IS NULL"), postgresql_where=text("ends_on IS NULL"),
        ),
        # The coordinator home lists current allocations awaiting review, oldest flag first.
        Index(
            "ix_case_allocations_awaiting_review", "review_flagged_at",
            sqlite_where=text(_AWAITING_REVIEW), postgresql_where=text(_AWAITING_REVIEW),
        ),
        CheckConstraint(
            "review_cleared_at IS NULL OR review_flagged_at IS NOT NULL", name="review_cleared_after_flag"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[AllocationRole] = mapped_column(_enum(AllocationRole))
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date | None]
    ended_reason: Mapped[str | None] = mapped_column(String(300))
    allocated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Set when something about the person changes (their vetting lapses, say) and a coordinator
    # should decide whether they stay on the case; cleared by the coordinator who reviewed it.
    review_reason: Mapped[str | None] = mapped_column(String(300))
    review_flagged_at: Mapped[dt.datetime | None]
    review_cleared_at: Mapped[dt.datetime | None]
    review_cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    case: Mapped[Case] = relationship(back_populates="allocations")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    party_links: Mapped[list[AllocationParty]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Allocation {self.id} case={self.case_id} user={self.user_id} {self.role}>"

    def is_current_on(self, day: dt.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day < self.ends_on)

    @property
    def needs_review(self) -> bool:
        """Flagged for a coordinator's review, not yet cleared, and still current."""
        return self.review_flagged_at is not None and self.review_cleared_at is None and self.ends_on is None

    @property
    def party_ids(self) -> frozenset[int]:
        return frozenset(link.party_id for link in self.party_links)


class AllocationParty(Base):
    """A party the facilitator works with: they see that party's contact details."""

    __tablename__ = "case_allocation_parties"

    allocation_id: Mapped[int] = mapped_column(
        ForeignKey("case_allocations.id", ondelete="CASCADE"), primary_key=True
    )
    party_id: Mapped[int] = mapped_column(
        ForeignKey("parties.id", ondelete="CASCADE"), primary_key=True, index=True
    )

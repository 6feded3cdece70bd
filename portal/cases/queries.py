"""Reads for the case pages, jobs and reports: `get_*` raises NotFound, `find_*` returns None,
`list_*` returns a list or a page. Each runs a fixed number of SQL statements, whatever the data size.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import CompoundSelect, Select, and_, case, exists, func, or_, select, union
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.cases import permissions
from portal.cases.models import (
    ActionStatus,
    AgreementAction,
    Allocation,
    AllocationRole,
    Case,
    CaseNote,
    CaseSession,
    CaseStatus,
    CaseStatusChange,
    ClosureReason,
    Consent,
    ConsentPurpose,
    ContactAttempt,
    Feedback,
    InterventionType,
    JusticeStage,
    NoteVisibility,
    OffenceCategory,
    OutcomeAgreement,
    Party,
    PartyRole,
    ReferralSource,
    RiskAssessment,
    RiskRating,
    RiskStage,
    SensitiveKind,
    SessionType,
)
from portal.core import audit
from portal.core.accounts import User
from portal.core.clock import london_to_utc, to_london
from portal.core.errors import NotFound
from portal.core.paging import PageWindow
from portal.core.search import clean_term, contains

# ---------------------------------------------------------------------------------------------
# One case


def get_case(session: Session, case_id: int) -> Case:
    """The case with this id. Raises NotFound."""
    found = session.get(Case, case_id)
    if found is None:
        raise NotFound(f"There is no case {case_id}")
    return found


def find_case_by_reference(session: Session, reference: str) -> Case | None:
    """The case with this reference (any case, surrounding spaces ignored), or None."""
    return session.scalar(select(Case).where(Case.reference == reference.strip().upper()))


# ---------------------------------------------------------------------------------------------
# The case list


@dataclass(frozen=True)
class CaseFilter:
    """What the coordinator's case list is narrowed to; every field is optional. `referrer` is the
    referring organisation exactly as recorded (offer the choices from `list_referrers`)."""

    status: CaseStatus | None = None
    district: str | None = None
    referrer: str | None = None
    source: ReferralSource | None = None
    overdue: bool = False
    sensitive: bool | None = None
    open_only: bool = False
    # Part of a case reference, a crime reference or the name of a person on the case, ignoring case.
    search: str = ""


@dataclass(frozen=True)
class CasePage:
    """One page of cases; each case has `sensitive_kind_links` and `current_allocations` (with
    their users) loaded, so showing the page runs no further SQL. When the list was searched,
    `people_found` gives, per case on the page, the people on it whose names matched."""

    cases: list[Case]
    page: int
    pages: int
    per_page: int
    total: int
    people_found: dict[int, list[Party]] = field(default_factory=dict)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _filtered(query: Select, filters: CaseFilter, today: dt.date) -> Select:
    if filters.status is not None:
        query = query.where(Case.status == CaseStatus(filters.status))
    if filters.open_only:
        query = query.where(Case.status != CaseStatus.CLOSED)
    if filters.district:
        query = query.where(Case.district == filters.district.strip())
    if filters.referrer:
        query = query.where(Case.referrer_organisation == filters.referrer.strip())
    if filters.source is not None:
        query = query.where(Case.source == ReferralSource(filters.source))
    if filters.sensitive is not None:
        query = query.where(Case.is_sensitive.is_(filters.sensitive))
    if filters.overdue:
        query = query.where(_overdue_on(today))
    term = clean_term(filters.search)
    if term:
        query = query.where(Case.id.in_(_cases_found(term)))
    return query


def _cases_found(term: str) -> CompoundSelect:
    # A union rather than one OR across cases and parties, so that on PostgreSQL each part is a
    # trigram index scan (ix_cases_reference_trgm, ix_cases_crime_reference_trgm, ix_parties_name_trgm).
    return union(
        select(Case.id).where(or_(contains(Case.reference, term), contains(Case.crime_reference, term))),
        select(Party.case_id).where(contains(Party.name, term)),
    )


def _people_found(session: Session, case_ids: list[int], term: str) -> dict[int, list[Party]]:
    found: dict[int, list[Party]] = {}
    if not term or not case_ids:
        return found
    for party in session.scalars(
        select(Party).where(Party.case_id.in_(case_ids), contains(Party.name, term)).order_by(Party.id)
    ):
        found.setdefault(party.case_id, []).append(party)
    return found


def _overdue_on(today: dt.date):
    return and_(
        Case.status != CaseStatus.CLOSED,
        Case.first_contact_on.is_(None),
        Case.first_contact_due_on < today,
    )


def list_cases(
    session: Session,
    filters: CaseFilter = CaseFilter(),
    *,
    today: dt.date,
    page: int = 1,
    per_page: int = 25,
) -> CasePage:
    """A page of cases, newest referral first (overdue lists: most overdue first).

    `today` decides what is overdue. Runs the same number of statements for 3 cases or 100,000
    (one more when searching: the people found on the page's cases). A page past the end gives the
    last page.
    """
    window = PageWindow.of(session.scalar(_filtered(select(func.count()).select_from(Case), filters, today)) or 0,
                           page, per_page)
    page, pages, per_page, total = window.page, window.pages, window.per_page, window.total
    overdue_first = (Case.first_contact_due_on, Case.id)
    order = overdue_first if filters.overdue else (Case.received_on.desc(), Case.id.desc())
    # Pick the page's ids first, then read those rows: skipping to a deep page then walks an
    # index (ix_cases_received_on_id) rather than reading every wide case row before the page.
    page_ids = (
        _filtered(select(Case.id), filters, today)
        .order_by(*order)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .subquery()
    )
    cases = list(
        session.scalars(
            select(Case)
            .join(page_ids, page_ids.c.id == Case.id)
            .options(
                selectinload(Case.sensitive_kind_links),
                selectinload(Case.current_allocations).joinedload(Allocation.user),
            )
            .order_by(*order)
        )
    )
    people_found = _people_found(session, [case.id for case in cases], clean_term(filters.search))
    return CasePage(cases=cases, page=page, pages=pages, per_page=per_page, total=total, people_found=people_found)


def list_overdue_first_contacts(session: Session, *, today: dt.date, limit: int = 200) -> list[Case]:
    """Open cases where nobody has been reached and the Victims' Code date has passed, most
    overdue first (at most `limit`)."""
    return list(
        session.scalars(
            select(Case)
            .where(_overdue_on(today))
            .order_by(Case.first_contact_due_on, Case.id)
            .limit(limit)
        )
    )


def list_allocations_needing_review(session: Session, *, limit: int = 200) -> list[Allocation]:
    """Current allocations on open cases flagged for a coordinator's review and not yet cleared,
    longest waiting first (at most `limit`), each with its case and person loaded (one statement)."""
    return list(
        session.scalars(
            select(Allocation)
            .join(Case, Allocation.case_id == Case.id)
            .where(
                Allocation.ends_on.is_(None),
                Allocation.review_flagged_at.is_not(None),
                Allocation.review_cleared_at.is_(None),
                Case.status != CaseStatus.CLOSED,
            )
            .options(joinedload(Allocation.case), joinedload(Allocation.user))
            .order_by(Allocation.review_flagged_at, Allocation.id)
            .limit(limit)
        ).unique()
    )


def _distinct_values(session: Session, column) -> list[str]:
    """The distinct non-null values of an indexed column, in order.

    A recursive "loose index scan" reads one index entry per value, not every case: with 100,000
    cases a plain DISTINCT scans the whole table on every page that shows the filter.
    """
    values = select(func.min(column).label("value")).cte("distinct_values", recursive=True)
    values = values.union_all(
        select(select(func.min(column)).where(column > values.c.value).scalar_subquery()).where(
            values.c.value.is_not(None)
        )
    )
    return list(session.scalars(select(values.c.value).where(values.c.value.is_not(None))))


def list_referrers(session: Session) -> list[str]:
    """Every referring organisation on record, in order, for the filter and report choices."""
    return _distinct_values(session, Case.referrer_organisation)


def list_districts(session: Session) -> list[str]:
    """Every district with a case, in order, for the filter choices."""
    return _distinct_values(session, Case.district)


# ---------------------------------------------------------------------------------------------
# A facilitator's cases and view of a case


@dataclass(frozen=True)
class MyCase:
    """A row of a facilitator's "my cases" list."""

    case_id: int
    reference: str
    status: CaseStatus
    district: str
    offence_category: OffenceCategory
    is_sensitive: bool
    role: AllocationRole
    allocated_on: dt.date


def _current_on(on: dt.date):
    return and_(Allocation.starts_on <= on, or_(Allocation.ends_on.is_(None), Allocation.ends_on > on))


def list_my_cases(session: Session, user: User, *, on: dt.date) -> list[MyCase]:
    """The cases `user` is allocated to on `on` (one query), most recently allocated first."""
    rows = session.execute(
        select(
            Case.id, Case.reference, Case.status, Case.district, Case.offence_category,
            Case.is_sensitive, Allocation.role, Allocation.starts_on,
        )
        .join(Allocation, Allocation.case_id == Case.id)
        .where(Allocation.user_id == user.id, _current_on(on))
        .order_by(Allocation.starts_on.desc(), Case.id.desc())
    )
    return [MyCase(*row) for row in rows]


@dataclass(frozen=True)
class PartyView:
    """A party as a facilitator sees them: contact details only for the parties they work with,
    an address only where a home visit is approved. Hidden fields are None."""

    id: int
    role: PartyRole
    name: str
    is_under_18: bool
    interpreter_language: str | None
    access_needs: str | None
    supports_party_id: int | None
    is_own: bool
    phone: str | None
    email: str | None
    safe_contact_notes: str | None
    address: str | None


@dataclass(frozen=True)
class RiskView:
    """A risk assessment without its factors or police intelligence."""

    stage: RiskStage
    rating: RiskRating
    mitigations: str | None
    proceed: bool
    assessed_on: dt.date


@dataclass(frozen=True)
class NoteView:
    written_at: dt.datetime
    author: str
    text: str


@dataclass(frozen=True)
class SessionView:
    session_type: SessionType
    held_on: dt.date
    duration_minutes: int
    attendees: str


@dataclass(frozen=True)
class ConsentView:
    party_id: int
    purpose: ConsentPurpose
    intervention_type: InterventionType | None
    given_on: dt.date
    withdrawn_on: dt.date | None


@dataclass(frozen=True)
class ActionView:
    id: int
    owner: str
    description: str
    due_on: dt.date
    status: ActionStatus


@dataclass(frozen=True)
class ContactAttemptView:
    party_id: int
    attempted_at: dt.datetime
    method: str
    outcome: str


@dataclass(frozen=True)
class FacilitatorCaseView:
    """What an allocated facilitator may see of a case (rj-domain.md §4.6). Built field by field
    from the records, so nothing restricted can reach a template by accident."""

    case_id: int
    reference: str
    status: CaseStatus
    received_on: dt.date
    district: str
    offence_category: OffenceCategory
    justice_stage: JusticeStage
    summary: str
    is_sensitive: bool
    sensitive_kinds: frozenset[SensitiveKind]
    victim_has_enhanced_rights: bool
    intervention_type: InterventionType | None
    my_role: AllocationRole
    allocated_on: dt.date
    co_facilitators: list[str]
    parties: list[PartyView]
    risk_assessments: list[RiskView]
    notes: list[NoteView]
    sessions: list[SessionView]
    consents: list[ConsentView]
    contact_attempts: list[ContactAttemptView]
    agreed_on: dt.date | None = None
    actions: list[ActionView] = field(default_factory=list)


def get_case_for_facilitator(
    session: Session, case_id: int, user: User, *, on: dt.date
) -> FacilitatorCaseView:
    """The facilitator's view of a case they are allocated to on `on`.

    Raises NotFound, worded as for a case that does not exist, when there is no such case or the
    user holds no current allocation on it (never allocated, de-allocated, or the case closed).
    """
    case_ = session.scalar(
        select(Case)
        .where(Case.id == case_id)
        .options(
            selectinload(Case.allocations).selectinload(Allocation.party_links),
            selectinload(Case.allocations).joinedload(Allocation.user),
            selectinload(Case.parties),
            selectinload(Case.sensitive_kind_links),
        )
    )
    allocation = permissions.current_allocation(user, case_, on=on) if case_ is not None else None
    if case_ is None or allocation is None:
        raise NotFound(f"There is no case {case_id}")

    own = permissions.own_party_ids(user, case_, on=on)
    parties = []
    for party in case_.parties:
        contact = permissions.can_see_party_contact_details(user, case_, party, on=on)
        parties.append(
            PartyView(
                id=party.id, role=party.role, name=party.name, is_under_18=party.is_under_18,
                interpreter_language=party.interpreter_language, access_needs=party.access_needs,
                supports_party_id=party.supports_party_id, is_own=party.id in own,
                phone=party.phone if contact else None,
                email=party.email if contact else None,
                safe_contact_notes=party.safe_contact_notes if contact else None,
                address=party.address if permissions.can_see_party_address(user, case_, party, on=on) else None,
            )
        )
    risks = [
        RiskView(stage, rating, mitigations, proceed, assessed_on)
        for stage, rating, mitigations, proceed, assessed_on in session.execute(
            select(
                RiskAssessment.stage, RiskAssessment.rating, RiskAssessment.mitigations,
                RiskAssessment.proceed, RiskAssessment.assessed_on,
            )
            .where(RiskAssessment.case_id == case_.id)
            .order_by(RiskAssessment.assessed_on, RiskAssessment.id)
        )
    ]
    notes = [
        NoteView(written_at, author or "", text)
        for written_at, author, text in session.execute(
            select(CaseNote.written_at, User.name, CaseNote.text)
            .outerjoin(User, CaseNote.author_id == User.id)
            .where(CaseNote.case_id == case_.id, CaseNote.visibility.in_(permissions.visible_note_kinds(user)))
            .order_by(CaseNote.written_at, CaseNote.id)
        )
    ]
    sessions = [
        SessionView(*row)
        for row in session.execute(
            select(CaseSession.session_type, CaseSession.held_on, CaseSession.duration_minutes,
                   CaseSession.attendees)
            .where(CaseSession.case_id == case_.id)
            .order_by(CaseSession.held_on, CaseSession.id)
        )
    ]
    consents = [
        ConsentView(*row)
        for row in session.execute(
            select(Consent.party_id, Consent.purpose, Consent.intervention_type, Consent.given_on,
                   Consent.withdrawn_on)
            .where(Consent.case_id == case_.id)
            .order_by(Consent.given_on, Consent.id)
        )
    ]
    attempts = [
        ContactAttemptView(party_id, attempted_at, method.label, outcome.label)
        for party_id, attempted_at, method, outcome in session.execute(
            select(ContactAttempt.party_id, ContactAttempt.attempted_at, ContactAttempt.method,
                   ContactAttempt.outcome)
            .where(ContactAttempt.case_id == case_.id, ContactAttempt.party_id.in_(own))
            .order_by(ContactAttempt.attempted_at, ContactAttempt.id)
        )
    ]
    agreement = session.scalar(
        select(OutcomeAgreement)
        .where(OutcomeAgreement.case_id == case_.id)
        .options(selectinload(OutcomeAgreement.actions))
    )
    return FacilitatorCaseView(
        case_id=case_.id, reference=case_.reference, status=case_.status,
        received_on=case_.received_on, district=case_.district,
        offence_category=case_.offence_category, justice_stage=case_.justice_stage,
        summary=case_.summary, is_sensitive=case_.is_sensitive,
        sensitive_kinds=case_.sensitive_kinds,
        victim_has_enhanced_rights=case_.victim_has_enhanced_rights,
        intervention_type=case_.intervention_type, my_role=allocation.role,
        allocated_on=allocation.starts_on,
        co_facilitators=[
            other.user.name for other in case_.allocations
            if other.is_current_on(on) and other.user_id != user.id
        ],
        parties=parties, risk_assessments=risks, notes=notes, sessions=sessions, consents=consents,
        contact_attempts=attempts,
        agreed_on=agreement.agreed_on if agreement else None,
        actions=[
            ActionView(action.id, action.owner, action.description, action.due_on, action.status)
            for action in (agreement.actions if agreement else [])
        ],
    )


# ---------------------------------------------------------------------------------------------
# Timeline and views


@dataclass(frozen=True)
class TimelineEvent:
    """One dated thing that happened on a case. `at` is None for events known only by date."""

    on: dt.date
    at: dt.datetime | None
    kind: str
    summary: str
    detail: str | None = None


def _party_label(party: Party) -> str:
    return f"{party.name} ({party.role.label})"


TIMELINE_PAGE_SIZE = 25


def list_case_timeline(session: Session, case_id: int, *, viewer: User) -> list[TimelineEvent]:
    """Everything that happened on a case, oldest first, in one list: status changes, allocations,
    contact attempts, consents, risk assessments, notes the viewer may read, sessions, the agreement
    and its actions, and feedback. Summaries never include police intelligence, addresses or
    contact details. A fixed number of statements per call. Raises NotFound.
    """
    case_ = get_case(session, case_id)
    return sorted(_timeline_events(session, case_.id, viewer=viewer, limit=None), key=_timeline_key)


def list_case_timeline_page(
    session: Session, case_id: int, *, viewer: User, page: int = 1, per_page: int = TIMELINE_PAGE_SIZE
) -> tuple[list[TimelineEvent], int, int]:
    """One page of the case timeline, newest first: `(events, page, pages)`. `page` is clamped to
    1..pages (there is always at least one page, perhaps empty). Raises NotFound.

    Merge then slice: one statement counts every source's events; then each source is read newest
    first with LIMIT page * per_page (a row that gives two events, like an allocation's start and
    end, is ordered by its newer one), the events are merged, sorted newest first and the page is
    sliced off. So a call runs a fixed number of statements, and each reads at most
    page * per_page rows whatever the number of events on the case.
    """
    case_ = get_case(session, case_id)
    window = PageWindow.of(_count_timeline_events(session, case_.id, viewer=viewer), page, per_page)
    page, pages, per_page = window.page, window.pages, window.per_page
    events = _timeline_events(session, case_.id, viewer=viewer, limit=page * per_page)
    events.sort(key=_timeline_key, reverse=True)
    start = (page - 1) * per_page
    return events[start:start + per_page], page, pages


def _timeline_key(event: TimelineEvent):
    # Same day: timed events first, in time order; then events known only by their date.
    return (event.on, event.at is None, event.at or dt.datetime.min.replace(tzinfo=dt.UTC))


def _count_timeline_events(session: Session, case_id: int, *, viewer: User) -> int:
    """How many events the timeline of a case holds for this viewer, in one statement."""

    def count(model, *conditions):
        return select(func.count()).select_from(model).where(*conditions).scalar_subquery()

    counts = [
        count(CaseStatusChange, CaseStatusChange.case_id == case_id),
        count(Allocation, Allocation.case_id == case_id),
        count(Allocation, Allocation.case_id == case_id, Allocation.ends_on.is_not(None)),
        count(ContactAttempt, ContactAttempt.case_id == case_id),
        count(Consent, Consent.case_id == case_id),
        count(Consent, Consent.case_id == case_id, Consent.withdrawn_on.is_not(None)),
        count(RiskAssessment, RiskAssessment.case_id == case_id),
        count(CaseNote, CaseNote.case_id == case_id,
              CaseNote.visibility.in_(permissions.visible_note_kinds(viewer))),
        count(CaseSession, CaseSession.case_id == case_id),
        count(OutcomeAgreement, OutcomeAgreement.case_id == case_id),
        select(func.count()).select_from(AgreementAction)
        .join(OutcomeAgreement, AgreementAction.agreement_id == OutcomeAgreement.id)
        .where(*_changed_action_conditions(case_id)).scalar_subquery(),
        count(Feedback, Feedback.case_id == case_id),
    ]
    return sum(session.execute(select(*counts)).one())


def _changed_action_conditions(case_id: int) -> list:
    return [
        OutcomeAgreement.case_id == case_id,
        AgreementAction.status != ActionStatus.OPEN,
        AgreementAction.status_changed_on.is_not(None),
    ]


def _timeline_events(session: Session, case_id: int, *, viewer: User, limit: int | None) -> list[TimelineEvent]:
    """The timeline's events, unsorted. With `limit`, each source gives at most its `limit` newest
    rows, so the `limit` newest events overall are all in the result."""
    london = _london_date
    events: list[TimelineEvent] = []

    def newest(query: Select, *order) -> Select:
        return query if limit is None else query.order_by(*order).limit(limit)

    # Names are selected as columns: loading User objects would also load their roles.
    for change, changed_by in session.execute(newest(
        select(CaseStatusChange, User.name)
        .outerjoin(User, CaseStatusChange.changed_by_id == User.id)
        .where(CaseStatusChange.case_id == case_id),
        CaseStatusChange.changed_at.desc(), CaseStatusChange.id.desc(),
    )):
        who = f" by {changed_by}" if changed_by else ""
        if change.from_status is None:
            summary = f"Referral recorded{who}"
        else:
            summary = f"Moved from {change.from_status.label} to {change.to_status.label}{who}"
        events.append(TimelineEvent(london(change.changed_at), change.changed_at, "status", summary, change.reason))

    for allocation, name in session.execute(newest(
        select(Allocation, User.name)
        .join(User, Allocation.user_id == User.id)
        .where(Allocation.case_id == case_id),
        # An allocation's newest event is its end, when it has ended.
        func.coalesce(Allocation.ends_on, Allocation.starts_on).desc(), Allocation.ends_on.is_(None),
        Allocation.created_at.desc(), Allocation.id.desc(),
    )):
        events.append(
            TimelineEvent(allocation.starts_on, allocation.created_at, "allocation",
                          f"{name} allocated as {allocation.role.label}")
        )
        if allocation.ends_on is not None:
            events.append(
                TimelineEvent(allocation.ends_on, None, "allocation", f"{name}'s allocation ended",
                              allocation.ended_reason)
            )

    for attempt in session.scalars(newest(
        select(ContactAttempt).where(ContactAttempt.case_id == case_id)
        .options(joinedload(ContactAttempt.party)),
        ContactAttempt.attempted_at.desc(), ContactAttempt.id.desc(),
    )):
        events.append(
            TimelineEvent(
                london(attempt.attempted_at), attempt.attempted_at, "contact",
                f"Contact attempt by {attempt.method.label} with {_party_label(attempt.party)}:"
                f" {attempt.outcome.label}",
            )
        )

    for consent in session.scalars(newest(
        select(Consent).where(Consent.case_id == case_id).options(joinedload(Consent.party)),
        func.coalesce(Consent.withdrawn_on, Consent.given_on).desc(), Consent.id.desc(),
    )):
        what = consent.purpose.label
        if consent.intervention_type:
            what += f" ({consent.intervention_type.label})"
        events.append(
            TimelineEvent(consent.given_on, None, "consent",
                          f"{_party_label(consent.party)} gave {consent.method.label} consent: {what}")
        )
        if consent.withdrawn_on:
            events.append(
                TimelineEvent(consent.withdrawn_on, None, "consent",
                              f"{_party_label(consent.party)} withdrew consent: {what}")
            )

    for stage, rating, proceed, assessed_on in session.execute(newest(
        select(RiskAssessment.stage, RiskAssessment.rating, RiskAssessment.proceed,
               RiskAssessment.assessed_on)
        .where(RiskAssessment.case_id == case_id),
        RiskAssessment.assessed_on.desc(), RiskAssessment.id.desc(),
    )):
        decision = "proceed" if proceed else "do not proceed"
        events.append(
            TimelineEvent(assessed_on, None, "risk",
                          f"{stage.label.capitalize()} risk assessment: {rating.label} risk, {decision}")
        )

    for note, author in session.execute(newest(
        select(CaseNote, User.name)
        .outerjoin(User, CaseNote.author_id == User.id)
        .where(CaseNote.case_id == case_id,
               CaseNote.visibility.in_(permissions.visible_note_kinds(viewer))),
        CaseNote.written_at.desc(), CaseNote.id.desc(),
    )):
        kind = "" if note.visibility is NoteVisibility.GENERAL else f"{note.visibility.label} "
        author = author or "someone"
        events.append(
            TimelineEvent(london(note.written_at), note.written_at, "note",
                          f"{kind.capitalize()}{'note' if kind else 'Note'} by {author}", note.text)
        )

    for record in session.scalars(newest(
        select(CaseSession).where(CaseSession.case_id == case_id),
        CaseSession.held_on.desc(), CaseSession.id.desc(),
    )):
        events.append(
            TimelineEvent(record.held_on, None, "session",
                          f"{record.session_type.label.capitalize()} ({record.duration_minutes} minutes)",
                          record.attendees)
        )

    # The agreement with its number of actions, then the actions whose status changed (bounded).
    action_count = (
        select(func.count()).select_from(AgreementAction)
        .where(AgreementAction.agreement_id == OutcomeAgreement.id)
        .scalar_subquery()
    )
    found = session.execute(
        select(OutcomeAgreement.agreed_on, action_count).where(OutcomeAgreement.case_id == case_id)
    ).first()
    if found is not None:
        agreed_on, how_many = found
        events.append(
            TimelineEvent(agreed_on, None, "agreement", f"Outcome agreement made with {how_many} action(s)")
        )
    for status, changed_on, description in session.execute(newest(
        select(AgreementAction.status, AgreementAction.status_changed_on, AgreementAction.description)
        .join(OutcomeAgreement, AgreementAction.agreement_id == OutcomeAgreement.id)
        .where(*_changed_action_conditions(case_id)),
        AgreementAction.status_changed_on.desc(), AgreementAction.id.desc(),
    )):
        events.append(
            TimelineEvent(changed_on, None, "agreement", f"Action marked {status.label}: {description}")
        )

    for feedback in session.scalars(newest(
        select(Feedback).where(Feedback.case_id == case_id).options(joinedload(Feedback.party)),
        Feedback.given_on.desc(), Feedback.id.desc(),
    )):
        events.append(
            TimelineEvent(feedback.given_on, None, "feedback",
                          f"Feedback from {_party_label(feedback.party)}: satisfaction {feedback.satisfaction} of 5",
                          feedback.comments)
        )

    return events


def _london_date(moment: dt.datetime) -> dt.date:
    return to_london(moment).date()


def list_case_views(
    session: Session, case_id: int, *, page: int = 1, per_page: int = 50
) -> audit.AuditPage:
    """Who viewed a case and when, newest first, a page at a time (from the audit trail; each
    entry's `details["restricted"]` says whether restricted details were shown)."""
    return audit.list_entries(
        session,
        audit.AuditFilter(action="case.viewed", subject_type="cases", subject_id=case_id),
        page=page,
        per_page=per_page,
    )


# ---------------------------------------------------------------------------------------------
# Referrer report


@dataclass(frozen=True)
class ReportPeriod:
    """A reporting period of whole days, `starts_on` to `ends_on` inclusive."""

    starts_on: dt.date
    ends_on: dt.date
    label: str

    @classmethod
    def month(cls, year: int, month: int) -> ReportPeriod:
        last = calendar.monthrange(year, month)[1]
        return cls(dt.date(year, month, 1), dt.date(year, month, last), f"{calendar.month_name[month]} {year}")

    @classmethod
    def quarter(cls, year: int, quarter: int) -> ReportPeriod:
        """Calendar quarter 1–4 (January–March is 1)."""
        if quarter not in (1, 2, 3, 4):
            raise ValueError("quarter must be 1, 2, 3 or 4")
        first = 3 * quarter - 2
        last = calendar.monthrange(year, first + 2)[1]
        return cls(dt.date(year, first, 1), dt.date(year, first + 2, last), f"Q{quarter} {year}")

    @classmethod
    def year(cls, year: int) -> ReportPeriod:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year))

    @classmethod
    def financial_year(cls, starting: int) -> ReportPeriod:
        """April to March, as commissioners count."""
        return cls(dt.date(starting, 4, 1), dt.date(starting + 1, 3, 31), f"{starting}–{str(starting + 1)[2:]}")


@dataclass(frozen=True)
class ReferrerReport:
    """Counts for a period and (optionally) one referring organisation.

    Referrals received in the period are the cohort for `received`, the first-contact figures and
    consent uptake; interventions count cases that entered intervention in the period; closures,
    completed agreements and satisfaction count what happened in the period.
    """

    period: ReportPeriod
    referrer: str | None
    received: int
    first_contact_in_time: int
    first_contact_late: int
    not_yet_contacted: int
    consented_any: int
    consented_by_role: dict[PartyRole, int]
    interventions_by_type: dict[InterventionType, int]
    agreements_made: int
    agreements_completed: int
    closures_by_reason: dict[ClosureReason, int]
    feedback_responses: int
    satisfaction_average: float | None

    @property
    def first_contact_in_time_rate(self) -> float | None:
        return self.first_contact_in_time / self.received if self.received else None

    @property
    def consent_rate(self) -> float | None:
        return self.consented_any / self.received if self.received else None

    def rows(self) -> list[tuple[str, str]]:
        """(measure, value) pairs in reading order, for a table or a CSV export."""
        rows = [
            ("Period", self.period.label),
            ("Referrer", self.referrer or "All referrers"),
            ("Referrals received", str(self.received)),
            ("First contact within the Victims' Code time", str(self.first_contact_in_time)),
            ("First contact late", str(self.first_contact_late)),
            ("Not yet contacted", str(self.not_yet_contacted)),
            ("Consented to take part (any party)", str(self.consented_any)),
        ]
        rows += [(f"Consented: {role.label}", str(self.consented_by_role.get(role, 0))) for role in PartyRole
                 if role in (PartyRole.HARMED_PERSON, PartyRole.PERSON_RESPONSIBLE)]
        rows += [(f"Interventions: {kind.label}", str(self.interventions_by_type.get(kind, 0)))
                 for kind in InterventionType]
        rows += [("Outcome agreements made", str(self.agreements_made)),
                 ("Outcome agreements completed", str(self.agreements_completed))]
        rows += [(f"Closed: {reason.label}", str(self.closures_by_reason.get(reason, 0)))
                 for reason in ClosureReason]
        rows += [("Feedback responses", str(self.feedback_responses)),
                 ("Average satisfaction (1–5)",
                  "" if self.satisfaction_average is None else f"{self.satisfaction_average:.1f}")]
        return rows


def referrer_report(
    session: Session, period: ReportPeriod, *, referrer: str | None = None
) -> ReferrerReport:
    """The referrer report for `period`, for one referring organisation or all of them.

    Six aggregate statements, whatever the number of cases.
    """
    def scoped(query: Select) -> Select:
        return query.where(Case.referrer_organisation == referrer) if referrer else query

    def scoped_via(query: Select, case_id) -> Select:
        # Records of one referrer's cases need the case; for all referrers the join is wasted work.
        return query.join(Case, case_id == Case.id).where(Case.referrer_organisation == referrer) if referrer \
            else query

    def counted(condition) -> object:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    # One pass over the cohort: first contact and consent uptake come from columns of the case
    # (the consent dates are kept by the services), so no join to consents or parties is needed.
    in_period = Case.received_on.between(period.starts_on, period.ends_on)
    received, in_time, late, not_contacted, consented_any, harmed_count, responsible_count = session.execute(
        scoped(
            select(
                func.count(),
                counted(Case.first_contact_on <= Case.first_contact_due_on),
                counted(Case.first_contact_on > Case.first_contact_due_on),
                counted(Case.first_contact_on.is_(None)),
                counted(or_(Case.harmed_consented_on.is_not(None), Case.responsible_consented_on.is_not(None))),
                counted(Case.harmed_consented_on.is_not(None)),
                counted(Case.responsible_consented_on.is_not(None)),
            ).where(in_period)
        )
    ).one()
    consented_by_role = {
        role: int(count)
        for role, count in (
            (PartyRole.HARMED_PERSON, harmed_count),
            (PartyRole.PERSON_RESPONSIBLE, responsible_count),
        )
        if count
    }

    start_at = london_to_utc(period.starts_on, dt.time())
    end_at = london_to_utc(period.ends_on + dt.timedelta(days=1), dt.time())
    interventions_by_type = {
        InterventionType(kind): count
        for kind, count in session.execute(
            scoped(
                select(Case.intervention_type, func.count(Case.id))
                .where(
                    Case.id.in_(
                        select(CaseStatusChange.case_id).where(
                            CaseStatusChange.to_status == CaseStatus.INTERVENTION,
                            CaseStatusChange.changed_at >= start_at,
                            CaseStatusChange.changed_at < end_at,
                        )
                    ),
                    Case.intervention_type.is_not(None),
                )
                .group_by(Case.intervention_type)
            )
        )
    }

    agreements_made = session.scalar(
        scoped_via(
            select(func.count(OutcomeAgreement.id))
            .where(OutcomeAgreement.agreed_on.between(period.starts_on, period.ends_on)),
            OutcomeAgreement.case_id,
        )
    ) or 0

    closed_in_period = Case.closed_on.between(period.starts_on, period.ends_on)
    action_of_agreement = AgreementAction.agreement_id == OutcomeAgreement.id
    agreements_completed = session.scalar(
        scoped(
            select(func.count(OutcomeAgreement.id))
            .join(Case, OutcomeAgreement.case_id == Case.id)
            .where(
                closed_in_period,
                exists().where(action_of_agreement),
                ~exists().where(action_of_agreement, AgreementAction.status != ActionStatus.DONE),
            )
        )
    ) or 0

    closures_by_reason = {
        ClosureReason(reason): count
        for reason, count in session.execute(
            scoped(
                select(Case.closure_reason, func.count(Case.id))
                .where(closed_in_period)
                .group_by(Case.closure_reason)
            )
        )
    }

    responses, average = session.execute(
        scoped_via(
            select(func.count(Feedback.id), func.avg(Feedback.satisfaction))
            .where(Feedback.given_on.between(period.starts_on, period.ends_on)),
            Feedback.case_id,
        )
    ).one()

    return ReferrerReport(
        period=period,
        referrer=referrer,
        received=received,
        first_contact_in_time=int(in_time),
        first_contact_late=int(late),
        not_yet_contacted=int(not_contacted),
        consented_any=consented_any,
        consented_by_role=consented_by_role,
        interventions_by_type=interventions_by_type,
        agreements_made=agreements_made,
        agreements_completed=agreements_completed,
        closures_by_reason=closures_by_reason,
        feedback_responses=responses,
        satisfaction_average=round(float(average), 2) if average is not None else None,
    )

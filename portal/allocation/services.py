"""Allocation use cases: a case's needs, offers of a case to facilitators and their answers, the lapse
job, confirming or discarding bulk proposal items, and the ranking settings.

Services take the session first and `actor` and `now` (an aware datetime) as keywords; "today" is
`now`'s date in Europe/London. They flush and never commit, audit every change in the same transaction
and queue mail through the outbox with a dedupe key. Facilitators' e-mails carry only what they need to
decide (district, rough timing, kind of offence, role): never a party's name or the case summary.

Lock order, to keep PostgreSQL free of deadlocks: the proposal item, then the case row, then offer
rows, then volunteer rows (lowest user id first). `cases.services.allocate_case` and the capacity veto
take the case and then the volunteer in the same order. Holding the volunteer rows while eligibility
counts their cases is what stops two coordinators both giving away someone's last place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.allocation import eligibility, queries, scoring
from portal.allocation.errors import AllocationInputInvalid, OfferRefused
from portal.allocation.models import (
    LIVE_OFFER_STATUSES,
    OFFER_TRANSITIONS,
    AllocationOffer,
    AllocationProposal,
    CaseNeeds,
    OfferStatus,
    ProposalItem,
    ProposalItemStatus,
    ProposalStatus,
)
from portal.cases import services as case_services
from portal.cases.errors import AllocationBlocked
from portal.cases.models import Allocation, AllocationRole, Case, CaseStatus
from portal.core import audit, outbox, settings
from portal.core.accounts import Role, User, UserRole, is_coordinator
from portal.core.clock import LONDON
from portal.core.errors import NotFound, PermissionDenied, RuleViolation, transition_error
from portal.core.validation import FieldErrors, clean_text, too_long
from portal.volunteers.models import DAY_PERIODS, WEEKDAYS
from portal.volunteers.profiles import availability
from portal.volunteers.profiles.models import Volunteer

MAX_HOURS = 200
MAX_FACILITATORS = 2
LANGUAGE_MAX = 60
MAX_LANGUAGES = 10
DECLINE_REASON_MAX = 500
ENDED_REASON_MAX = 300
MAX_OFFER_HOURS = 24 * 14
WEIGHT_MAX = 100
# The case is offered while it waits, and again for a co-facilitator while it is allocated and short of one.
OFFERABLE_STATUSES = frozenset({CaseStatus.AWAITING_ALLOCATION, CaseStatus.ALLOCATED})
OFFER_PATH = "/allocation/offers/{id}"


# ---------------------------------------------------------------------------------------------
# Input


@dataclass(frozen=True)
class NeedsDetails:
    """What a coordinator records about a case: when the parties can meet ({"monday": ["morning"]}),
    languages, whether it is complex, expected hours, how many facilitators, and the expected period
    (both days included)."""

    pattern: Mapping[str, Sequence[str]]
    languages: Sequence[str] = field(default_factory=tuple)
    is_complex: bool = False
    expected_hours: int | None = 20
    facilitators_needed: int | None = 2
    expected_start_on: dt.date | None = None
    expected_end_on: dt.date | None = None


# ---------------------------------------------------------------------------------------------
# Helpers


def _today(now: dt.datetime) -> dt.date:
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now.astimezone(LONDON).date()


def long_date(day: dt.date) -> str:
    """3 March 2026."""
    return f"{day:%-d %B %Y}"


def london_moment(moment: dt.datetime) -> str:
    """A UTC instant as read here: "26 November 2026 at 10:00"."""
    local = moment.astimezone(LONDON)
    return f"{local:%-d %B %Y} at {local:%H:%M}"


def _one_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _require_coordinator(actor: User | None, what: str) -> None:
    if not is_coordinator(actor):
        raise PermissionDenied(f"Only coordinators can {what}")


def _load_case(session: Session, case_id: int, *, lock: bool = False) -> Case:
    query = select(Case).where(Case.id == case_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    case = session.scalar(query)
    if case is None:
        raise NotFound(f"There is no case {case_id}")
    return case


def _lock_offer(session: Session, offer_id: int) -> AllocationOffer:
    offer = session.scalar(
        select(AllocationOffer).where(AllocationOffer.id == offer_id)
        .with_for_update().execution_options(populate_existing=True)
    )
    if offer is None:
        raise NotFound("Offer not found")
    return offer


def _lock_volunteers(session: Session, user_ids: Iterable[int]) -> None:
    # In user-id order, so two transactions locking overlapping people never wait on each other in a ring.
    session.scalars(
        select(Volunteer).where(Volunteer.user_id.in_(sorted(set(user_ids))))
        .order_by(Volunteer.user_id).with_for_update().execution_options(populate_existing=True)
    ).all()


def _move(offer: AllocationOffer, target: OfferStatus) -> None:
    if target not in OFFER_TRANSITIONS[offer.status]:
        raise transition_error("offer", offer.status.value, target.value)
    offer.status = target


def _case_offers(session: Session, case_id: int, statuses: Iterable[OfferStatus]) -> list[AllocationOffer]:
    return list(session.scalars(
        select(AllocationOffer)
        .where(AllocationOffer.case_id == case_id, AllocationOffer.status.in_(list(statuses)))
        .order_by(AllocationOffer.id)
    ))


def _current_allocations(session: Session, case_id: int) -> list[Allocation]:
    return list(session.scalars(
        select(Allocation).where(Allocation.case_id == case_id, Allocation.ends_on.is_(None)).order_by(Allocation.id)
    ))


def _coordinator_addresses(session: Session, offer: AllocationOffer) -> list[str]:
    """The coordinator who made the offer; every active coordinator when that account is gone."""
    if offer.offered_by_id is not None:
        maker = session.get(User, offer.offered_by_id)
        if maker is not None and not maker.is_deactivated:
            return [maker.email]
    return list(session.scalars(
        select(User.email).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.COORDINATOR, User.is_deactivated.is_(False)).order_by(User.email)
    ))


def _name(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.name if user is not None else f"person {user_id}"


def _role_words(role: AllocationRole) -> str:
    return "lead facilitator" if AllocationRole(role) is AllocationRole.LEAD else "co-facilitator"


def _offer_context(session: Session, offer: AllocationOffer, *, today: dt.date, site_url: str = "") -> dict:
    """What a facilitator is told about an offered case: nothing that identifies a party."""
    case = offer.case
    needs = queries.needs_or_default(session, case, today=today)
    weeks = max(1, ((needs.expected_end_on - needs.expected_start_on).days + 1 + 6) // 7)
    return {
        "volunteer_name": offer.user.name,
        "district": case.district,
        "starts": f"{needs.expected_start_on:%B %Y}",
        "weeks": weeks,
        "hours": needs.expected_hours,
        "offence": case.offence_category.label,
        "role": _role_words(offer.role),
        "respond_by": london_moment(offer.respond_by),
        "offer_url": site_url.rstrip("/") + OFFER_PATH.format(id=offer.id),
    }


# ---------------------------------------------------------------------------------------------
# What a case needs


def _check_needs(details: NeedsDetails, *, today: dt.date, errors: FieldErrors) -> tuple[int, list[str]]:
    mask = 0
    try:
        mask = availability.to_mask({day: list(periods) for day, periods in (details.pattern or {}).items()})
    except ValueError:
        errors.add("pattern", f"Choose times from {', '.join(DAY_PERIODS)} on {WEEKDAYS[0].capitalize()} to "
                              f"{WEEKDAYS[-1].capitalize()}")
    if not mask and "pattern" not in errors:
        errors.add("pattern", "Choose at least one time when the parties can meet")

    languages: list[str] = []
    for raw in details.languages or ():
        language = clean_text(raw)
        if not language:
            continue
        if len(language) > LANGUAGE_MAX:
            errors.add("languages", too_long("A language", LANGUAGE_MAX, language))
        elif language.casefold() not in {known.casefold() for known in languages}:
            languages.append(language)
    if len(languages) > MAX_LANGUAGES:
        errors.add("languages", f"Enter {MAX_LANGUAGES} languages or fewer")

    hours = details.expected_hours
    if hours is None:
        errors.add("expected_hours", "Enter the expected hours")
    elif not 1 <= hours <= MAX_HOURS:
        errors.add("expected_hours", f"Expected hours must be between 1 and {MAX_HOURS}")
    needed = details.facilitators_needed
    if needed is None:
        errors.add("facilitators_needed", "Choose how many facilitators the case needs")
    elif not 1 <= needed <= MAX_FACILITATORS:
        errors.add("facilitators_needed", "A case needs 1 or 2 facilitators")

    start, end = details.expected_start_on, details.expected_end_on
    if start is None:
        errors.add("expected_start_on", "Enter the expected start date")
    elif start < today:
        errors.add("expected_start_on", f"The expected start date must be today ({long_date(today)}) or later")
    if end is None:
        errors.add("expected_end_on", "Enter the expected end date")
    elif start is not None:
        if end < start:
            errors.add("expected_end_on", "The expected end date must be the same as or after the start date")
        elif end > _one_year_after(start):
            errors.add("expected_end_on", "The expected period must be 1 year or shorter")
    return mask, languages


def set_case_needs(
    session: Session, case_id: int, details: NeedsDetails, *, actor: User, now: dt.datetime
) -> CaseNeeds:
    """Record (or replace) what an open case asks of its facilitators.

    Raises NotFound, PermissionDenied (not a coordinator), RuleViolation (the case is closed) and
    AllocationInputInvalid with every problem: no meeting times, hours outside 1–200, facilitators not
    1 or 2, a start in the past, an end before the start or more than a year after it.
    """
    _require_coordinator(actor, "record what a case needs")
    case = _load_case(session, case_id)
    if not case.is_open:
        raise RuleViolation(f"Case {case.reference} is closed: its needs cannot change")
    errors = FieldErrors(AllocationInputInvalid)
    mask, languages = _check_needs(details, today=_today(now), errors=errors)
    errors.raise_if_any()

    needs = queries.find_case_needs(session, case.id)
    before = None
    if needs is None:
        needs = CaseNeeds(case_id=case.id)
        session.add(needs)
    else:
        before = _needs_fields(needs)
    needs.meeting_mask = mask
    needs.languages = languages
    needs.is_complex = bool(details.is_complex)
    needs.expected_hours = details.expected_hours
    needs.facilitators_needed = details.facilitators_needed
    needs.expected_start_on = details.expected_start_on
    needs.expected_end_on = details.expected_end_on
    needs.updated_at = now
    needs.updated_by_id = actor.id
    session.flush()
    audit.record(session, actor, "allocation.needs_set", ("cases", case.id), at=now, before=before,
                 after=_needs_fields(needs))
    return needs


def _needs_fields(needs: CaseNeeds) -> dict:
    return {"meeting_times": availability.describe(needs.meeting_mask), "languages": list(needs.languages),
            "is_complex": needs.is_complex, "expected_hours": needs.expected_hours,
            "facilitators_needed": needs.facilitators_needed, "expected_start_on": needs.expected_start_on,
            "expected_end_on": needs.expected_end_on}


# ---------------------------------------------------------------------------------------------
# Offers


def _refusals(
    session: Session, case: Case, choices: Sequence[tuple[int, AllocationRole]], *, today: dt.date,
) -> tuple[list[str], list[tuple[int, AllocationRole]], list[AllocationOffer]]:
    """Every reason the choices cannot be offered now, the choices still to offer, and the live offers
    that already answer a choice (a double click)."""
    reasons: list[str] = []
    if not choices:
        return ["Choose at least one facilitator"], [], []
    user_ids = [user_id for user_id, _role in choices]
    if len(set(user_ids)) != len(user_ids):
        reasons.append("Choose each facilitator once")
    if sum(1 for _user_id, role in choices if role is AllocationRole.LEAD) > 1:
        reasons.append("Choose one lead facilitator at most")
    if case.status not in OFFERABLE_STATUSES:
        reasons.append(f"{case.reference} is {case.status.phrase}: a case is offered once it is awaiting allocation")

    needs = queries.needs_or_default(session, case, today=today)
    current = _current_allocations(session, case.id)
    live = _case_offers(session, case.id, LIVE_OFFER_STATUSES)
    # An accepted offer becomes its allocation: count each person on the case once.
    people_on_case = {allocation.user_id for allocation in current} | {offer.user_id for offer in live}
    existing, fresh = [], []
    for user_id, role in choices:
        same = next((offer for offer in live if offer.user_id == user_id), None)
        if same is not None and same.role is role:
            existing.append(same)
        elif same is not None:
            reasons.append(f"{_name(session, user_id)}: already has a live offer of {case.reference} as "
                           f"{_role_words(same.role)}")
        elif any(allocation.user_id == user_id for allocation in current):
            reasons.append(f"{_name(session, user_id)}: already allocated to {case.reference}")
        else:
            fresh.append((user_id, role))
    if any(role is AllocationRole.LEAD for _user_id, role in fresh):
        lead_allocation = next((a for a in current if a.role is AllocationRole.LEAD), None)
        lead_offer = next((o for o in live if o.role is AllocationRole.LEAD), None)
        if lead_allocation is not None:
            reasons.append(f"{case.reference} already has a lead facilitator ({lead_allocation.user.name})")
        elif lead_offer is not None:
            reasons.append(f"{case.reference} is already offered to {lead_offer.user.name} as lead facilitator")
    if len(people_on_case) + len(fresh) > needs.facilitators_needed:
        reasons.append(f"{case.reference} needs {needs.facilitators_needed} facilitator"
                       f"{'s' if needs.facilitators_needed != 1 else ''} and already has "
                       f"{len(people_on_case)} allocated or offered")
    return reasons, fresh, existing


def _offer(
    session: Session, case_id: int, choices: Sequence[tuple[int, AllocationRole | str]], *, actor: User,
    now: dt.datetime, site_url: str, proposal_item_id: int | None = None,
) -> list[AllocationOffer]:
    today = _today(now)
    choices = [(int(user_id), AllocationRole(role)) for user_id, role in choices]
    case = _load_case(session, case_id, lock=True)
    _lock_volunteers(session, [user_id for user_id, _role in choices])
    reasons, fresh, existing = _refusals(session, case, choices, today=today)
    if fresh and not reasons:
        assessments = eligibility.assess(session, case, [user_id for user_id, _role in fresh], today=today)
        for user_id, _role in fresh:
            assessment = assessments[user_id]
            reasons.extend(f"{assessment.name}: {reason.text}" for reason in assessment.reasons)
    if reasons:
        raise OfferRefused(reasons)

    respond_by = now + dt.timedelta(hours=scoring.get_offer_hours(session))
    made = []
    for user_id, role in sorted(fresh, key=lambda choice: choice[1] is not AllocationRole.LEAD):
        offer = AllocationOffer(
            case_id=case.id, user_id=user_id, role=role, status=OfferStatus.OFFERED, offered_at=now,
            offered_by_id=actor.id, respond_by=respond_by, proposal_item_id=proposal_item_id,
        )
        session.add(offer)
        made.append(offer)
    session.flush()
    for offer in made:
        audit.record(session, actor, "allocation.offered", ("cases", case.id), at=now, offer_id=offer.id,
                     user_id=offer.user_id, role=offer.role, respond_by=offer.respond_by,
                     proposal_item_id=proposal_item_id)
        context = _offer_context(session, offer, today=today, site_url=site_url)
        outbox.queue(
            session, to=offer.user.email,
            subject=f"Case offer: {context['district']}, as {context['role']} — please reply by "
                    f"{context['respond_by']}",
            template="allocation/offer_made", context=context, dedupe_key=f"allocation.offer:{offer.id}:made",
            now=now,
        )
    by_id = {offer.user_id: offer for offer in [*existing, *made]}
    return [by_id[user_id] for user_id, _role in choices]


def offer_case(
    session: Session, case_id: int, choices: Sequence[tuple[int, AllocationRole]], *, actor: User,
    now: dt.datetime, site_url: str = "",
) -> list[AllocationOffer]:
    """Offer the case to each chosen (user id, role), to answer within the offer hours setting; each
    facilitator is e-mailed a link to the offer page (`site_url` is the portal's address, for links).
    Returns the offers in the order chosen.

    The case must be awaiting allocation (or allocated and short of a co-facilitator); one lead at
    most; nobody already allocated or offered the case in another role; never more people than the
    case needs. A choice that is already a live offer in the same role is returned as it is (a double
    click offers nothing twice). Raises NotFound, PermissionDenied and OfferRefused with every reason,
    each naming the person, including every eligibility reason ("Sam Patel: holds 2 of 2 cases").
    """
    _require_coordinator(actor, "offer cases")
    return _offer(session, case_id, choices, actor=actor, now=now, site_url=site_url)


def _check_answerable(offer: AllocationOffer, *, now: dt.datetime) -> None:
    """Raise RuleViolation saying why the offer can no longer be accepted or declined."""
    if offer.status is OfferStatus.LAPSED or (offer.status is OfferStatus.OFFERED and now > offer.respond_by):
        raise RuleViolation(f"This offer lapsed on {london_moment(offer.respond_by)}")
    if offer.status is OfferStatus.WITHDRAWN:
        reason = f": {offer.ended_reason}" if offer.ended_reason else ""
        raise RuleViolation(f"This offer was withdrawn{reason}")
    if offer.status is OfferStatus.DECLINED:
        raise RuleViolation(f"You declined this offer on {london_moment(offer.responded_at or now)}")
    if offer.status in (OfferStatus.ACCEPTED, OfferStatus.ALLOCATED):
        raise RuleViolation(f"You accepted this offer on {london_moment(offer.responded_at or now)}")


def _own_offer(session: Session, offer_id: int, actor: User, *, lock_case: bool) -> AllocationOffer:
    """The actor's own offer, its case then the offer locked; anyone else's offer is NotFound."""
    offer = session.get(AllocationOffer, offer_id)
    if offer is None or actor is None or offer.user_id != actor.id:
        raise NotFound("Offer not found")
    if lock_case:
        _load_case(session, offer.case_id, lock=True)
    return _lock_offer(session, offer.id)


def accept_offer(session: Session, offer_id: int, *, actor: User, now: dt.datetime) -> AllocationOffer:
    """The facilitator accepts their offer. Eligibility is checked again (vetting may have lapsed since
    the offer). Once no offer of the case is still waiting for an answer, every accepted offer becomes
    an allocation through the cases module (lead first, working with all the case's parties, which
    moves the case to allocated) and the coordinator who made the offers is e-mailed.

    Raises NotFound (not the actor's offer), RuleViolation (lapsed, even before the lapse job has run;
    withdrawn; declined; already accepted) and OfferRefused with the reasons.
    """
    offer = _own_offer(session, offer_id, actor, lock_case=True)
    _check_answerable(offer, now=now)
    today = _today(now)
    # The case lock keeps its offers still while we look. An offer past its respond-by time waits for
    # nobody, even before the lapse job has marked it.
    waiting = [other for other in _case_offers(session, offer.case_id, [OfferStatus.OFFERED])
               if other.id != offer.id and other.respond_by >= now]
    allocating = [] if waiting else [other.user_id for other in _case_offers(session, offer.case_id,
                                                                             [OfferStatus.ACCEPTED])]
    # Everyone about to be allocated is locked now, in user-id order, before the capacity veto asks.
    _lock_volunteers(session, [offer.user_id, *allocating])
    assessment = eligibility.assess(session, offer.case, [offer.user_id], today=today)[offer.user_id]
    if not assessment.eligible:
        raise OfferRefused([f"{assessment.name}: {reason.text}" for reason in assessment.reasons])
    _move(offer, OfferStatus.ACCEPTED)
    offer.responded_at = now
    session.flush()
    audit.record(session, actor, "allocation.offer_accepted", ("cases", offer.case_id), at=now, offer_id=offer.id,
                 user_id=offer.user_id, role=offer.role)
    if not waiting:
        _allocate_accepted(session, offer.case, actor=actor, now=now)
    return offer


def _allocate_accepted(session: Session, case: Case, *, actor: User, now: dt.datetime) -> list[Allocation]:
    accepted = sorted(_case_offers(session, case.id, [OfferStatus.ACCEPTED]),
                      key=lambda offer: (offer.role is not AllocationRole.LEAD, offer.id))
    party_ids = [party.id for party in case.parties]
    allocations = []
    for accepted_offer in accepted:
        try:
            allocation = case_services.allocate_case(
                session, case.id, accepted_offer.user_id, accepted_offer.role, actor=actor, now=now,
                party_ids=party_ids,
            )
        except AllocationBlocked as blocked:
            raise OfferRefused([f"{accepted_offer.user.name}: {reason}" for reason in blocked.reasons]) from blocked
        _move(accepted_offer, OfferStatus.ALLOCATED)
        accepted_offer.allocation_id = allocation.id
        allocations.append((accepted_offer, allocation))
    session.flush()
    if not allocations:
        return []
    audit.record(session, actor, "allocation.case_allocated", ("cases", case.id), at=now,
                 offer_ids=[offer.id for offer, _allocation in allocations],
                 allocation_ids=[allocation.id for _offer, allocation in allocations])
    people = [f"{offer.user.name} ({_role_words(offer.role)})" for offer, _allocation in allocations]
    recipients: dict[str, None] = {}
    for offer, _allocation in allocations:
        recipients.update(dict.fromkeys(_coordinator_addresses(session, offer)))
    if recipients:
        outbox.queue(
            session, to=list(recipients), subject=f"{case.reference} is allocated: the offer was accepted",
            template="allocation/case_allocated",
            context={"reference": case.reference, "people": people, "allocated_on": long_date(_today(now))},
            dedupe_key=f"allocation.allocated:{case.id}:{allocations[0][1].id}", now=now,
        )
    return [allocation for _offer, allocation in allocations]


def decline_offer(
    session: Session, offer_id: int, reason: str | None, *, actor: User, now: dt.datetime
) -> AllocationOffer:
    """The facilitator declines their offer, with an optional reason (500 characters at most); the
    coordinator who made it is e-mailed. Raises NotFound (not the actor's offer), RuleViolation (lapsed,
    withdrawn or already answered) and AllocationInputInvalid (reason too long)."""
    offer = _own_offer(session, offer_id, actor, lock_case=False)
    _check_answerable(offer, now=now)
    text = clean_text(reason) or None
    if text is not None and len(text) > DECLINE_REASON_MAX:
        raise AllocationInputInvalid({"reason": [too_long("The reason", DECLINE_REASON_MAX, text)]})
    _move(offer, OfferStatus.DECLINED)
    offer.responded_at = now
    offer.decline_reason = text
    session.flush()
    audit.record(session, actor, "allocation.offer_declined", ("cases", offer.case_id), at=now,
                 offer_id=offer.id, user_id=offer.user_id, role=offer.role, reason=text)
    recipients = _coordinator_addresses(session, offer)
    if recipients:
        outbox.queue(
            session, to=recipients, subject=f"{offer.user.name} declined {offer.case.reference}",
            template="allocation/offer_declined",
            context={"volunteer_name": offer.user.name, "reference": offer.case.reference,
                     "role": _role_words(offer.role), "reason": text or ""},
            dedupe_key=f"allocation.offer:{offer.id}:declined", now=now,
        )
    return offer


def _end_offer(session: Session, offer: AllocationOffer, target: OfferStatus, reason: str | None, *,
               actor: User | None, now: dt.datetime, action: str) -> None:
    _move(offer, target)
    offer.ended_reason = reason
    session.flush()
    audit.record(session, actor, action, ("cases", offer.case_id), at=now, offer_id=offer.id,
                 user_id=offer.user_id, role=offer.role, reason=reason)


def withdraw_offer(
    session: Session, offer_id: int, reason: str | None, *, actor: User, now: dt.datetime
) -> AllocationOffer:
    """A coordinator withdraws a live offer (offered, or accepted and not yet allocated), with an
    optional reason (300 characters at most); the facilitator is e-mailed. Raises NotFound,
    PermissionDenied, RuleViolation (the offer has already ended), AllocationInputInvalid."""
    _require_coordinator(actor, "withdraw offers")
    found = session.get(AllocationOffer, offer_id)
    if found is None:
        raise NotFound("Offer not found")
    _load_case(session, found.case_id, lock=True)
    offer = _lock_offer(session, offer_id)
    if not offer.is_live:
        raise RuleViolation(f"This offer has already ended: it was {offer.status.label.lower()}")
    text = clean_text(reason) or None
    if text is not None and len(text) > ENDED_REASON_MAX:
        raise AllocationInputInvalid({"reason": [too_long("The reason", ENDED_REASON_MAX, text)]})
    _end_offer(session, offer, OfferStatus.WITHDRAWN, text, actor=actor, now=now, action="allocation.offer_withdrawn")
    _tell_withdrawn(session, offer, now=now)
    return offer


def _tell_withdrawn(session: Session, offer: AllocationOffer, *, now: dt.datetime) -> None:
    context = _offer_context(session, offer, today=_today(now))
    outbox.queue(
        session, to=offer.user.email, subject=f"Case offer withdrawn: {context['district']}",
        template="allocation/offer_withdrawn", context={**context, "reason": offer.ended_reason or ""},
        dedupe_key=f"allocation.offer:{offer.id}:withdrawn", now=now,
    )


def withdraw_offers_for_case(
    session: Session, case: Case, reason: str, *, actor: User | None, now: dt.datetime
) -> list[AllocationOffer]:
    """The case can no longer be offered (put on hold, or closed): its live offers are withdrawn with
    `reason` and each facilitator is e-mailed. Offers already ended are left alone."""
    offers = list(session.scalars(
        select(AllocationOffer)
        .where(AllocationOffer.case_id == case.id, AllocationOffer.status.in_(list(LIVE_OFFER_STATUSES)))
        .order_by(AllocationOffer.id).with_for_update()
    ))
    for offer in offers:
        _end_offer(session, offer, OfferStatus.WITHDRAWN, reason, actor=actor, now=now,
                   action="allocation.offer_withdrawn")
        _tell_withdrawn(session, offer, now=now)
    return offers


def withdraw_offers_for_lost_clearance(
    session: Session, user_id: int, reason: str, *, now: dt.datetime
) -> list[AllocationOffer]:
    """The person is no longer cleared to practise (`reason`, in vetting's words): their live offers
    are withdrawn with that reason and the coordinator who made each is e-mailed once about it.
    Offers already ended are left alone, so running it again changes nothing."""
    offers = list(session.scalars(
        select(AllocationOffer)
        .where(AllocationOffer.user_id == user_id, AllocationOffer.status.in_(list(LIVE_OFFER_STATUSES)))
        .order_by(AllocationOffer.id).with_for_update()
    ))
    text = clean_text(reason)[:ENDED_REASON_MAX] or None
    for offer in offers:
        _end_offer(session, offer, OfferStatus.WITHDRAWN, text, actor=None, now=now,
                   action="allocation.offer_withdrawn")
        recipients = _coordinator_addresses(session, offer)
        if recipients:
            outbox.queue(
                session, to=recipients,
                subject=f"Offer of {offer.case.reference} to {offer.user.name} withdrawn: {text}",
                template="allocation/offer_withdrawn_clearance",
                context={"volunteer_name": offer.user.name, "reference": offer.case.reference,
                         "role": _role_words(offer.role), "reason": text or ""},
                dedupe_key=f"allocation.offer:{offer.id}:clearance_lost", now=now,
            )
    return offers


def lapse_overdue_offers(session: Session, *, now: dt.datetime) -> int:
    """Offers still waiting for an answer after their respond-by time become lapsed, and the coordinator
    who made each is told once. Returns how many lapsed. Rows are claimed with FOR UPDATE SKIP LOCKED and
    only offers still "offered" change, so running it twice, or on two machines at once, lapses and
    tells nothing twice."""
    overdue = session.scalars(
        select(AllocationOffer)
        .where(AllocationOffer.status == OfferStatus.OFFERED, AllocationOffer.respond_by < now)
        .order_by(AllocationOffer.id).with_for_update(skip_locked=True)
    ).all()
    for offer in overdue:
        when = london_moment(offer.respond_by)
        _end_offer(session, offer, OfferStatus.LAPSED, f"No answer by {when}", actor=None, now=now,
                   action="allocation.offer_lapsed")
        recipients = _coordinator_addresses(session, offer)
        if recipients:
            outbox.queue(
                session, to=recipients,
                subject=f"Offer of {offer.case.reference} to {offer.user.name} lapsed",
                template="allocation/offer_lapsed",
                context={"volunteer_name": offer.user.name, "reference": offer.case.reference,
                         "role": _role_words(offer.role), "lapsed_at": when},
                dedupe_key=f"allocation.offer:{offer.id}:lapsed", now=now,
            )
    session.flush()
    return len(overdue)


# ---------------------------------------------------------------------------------------------
# Bulk proposal items


def _lock_item(session: Session, item_id: int) -> ProposalItem:
    item = session.scalar(
        select(ProposalItem).where(ProposalItem.id == item_id)
        .with_for_update().execution_options(populate_existing=True)
    )
    if item is None:
        raise NotFound("Proposal item not found")
    return item


def _require_open_proposal(session: Session, item: ProposalItem) -> None:
    proposal = session.get(AllocationProposal, item.proposal_id)
    if proposal.status is not ProposalStatus.OPEN:
        raise RuleViolation("This proposal is closed: make a new proposal")


def confirm_proposal_item(
    session: Session, item_id: int, *, actor: User, now: dt.datetime, site_url: str = ""
) -> list[AllocationOffer]:
    """Confirm one case of a bulk proposal: its lead (and co-facilitator) are offered the case as
    `offer_case` does, and the item is confirmed. Confirming a confirmed item returns its live offers
    and changes nothing. Raises NotFound, PermissionDenied, RuleViolation (discarded item, closed
    proposal) and OfferRefused with every reason (someone's last place was taken meanwhile, say)."""
    _require_coordinator(actor, "confirm proposals")
    item = _lock_item(session, item_id)
    if item.status is ProposalItemStatus.CONFIRMED:
        return list(session.scalars(
            select(AllocationOffer)
            .where(AllocationOffer.proposal_item_id == item.id,
                   AllocationOffer.status.in_(list(LIVE_OFFER_STATUSES)))
            .order_by(AllocationOffer.id)
        ))
    if item.status is ProposalItemStatus.DISCARDED:
        raise RuleViolation("This part of the proposal was discarded: offer the case from its page instead")
    _require_open_proposal(session, item)
    choices = [(item.lead_user_id, AllocationRole.LEAD)]
    if item.co_user_id is not None:
        choices.append((item.co_user_id, AllocationRole.CO_FACILITATOR))
    offers = _offer(session, item.case_id, choices, actor=actor, now=now, site_url=site_url,
                    proposal_item_id=item.id)
    item.status = ProposalItemStatus.CONFIRMED
    item.decided_at = now
    item.decided_by_id = actor.id
    session.flush()
    audit.record(session, actor, "allocation.proposal_item_confirmed", ("cases", item.case_id), at=now,
                 proposal_id=item.proposal_id, item_id=item.id, offer_ids=[offer.id for offer in offers])
    return offers


def discard_proposal_item(session: Session, item_id: int, *, actor: User, now: dt.datetime) -> ProposalItem:
    """Discard one case of a bulk proposal (nobody is offered it). Discarding twice changes nothing.
    Raises NotFound, PermissionDenied, RuleViolation (already confirmed: withdraw its offers instead)."""
    _require_coordinator(actor, "discard proposals")
    item = _lock_item(session, item_id)
    if item.status is ProposalItemStatus.DISCARDED:
        return item
    if item.status is ProposalItemStatus.CONFIRMED:
        raise RuleViolation("This part of the proposal is already confirmed: withdraw its offers instead")
    item.status = ProposalItemStatus.DISCARDED
    item.decided_at = now
    item.decided_by_id = actor.id
    session.flush()
    audit.record(session, actor, "allocation.proposal_item_discarded", ("cases", item.case_id), at=now,
                 proposal_id=item.proposal_id, item_id=item.id)
    return item


# ---------------------------------------------------------------------------------------------
# Settings


def set_weights(
    session: Session, weights: Mapping[str, int | None], offer_hours: int | None, *, actor: User,
    now: dt.datetime,
) -> dict[str, int]:
    """Store the ranking weights (each a whole number from 0 to 100, at least one above 0, keyed by
    the names in scoring.PARTS) and the hours a facilitator has to answer an offer (1 to 336).
    Returns the weights now in force. Raises PermissionDenied (not an admin), AllocationInputInvalid."""
    if actor is None or not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins can change the allocation settings")
    errors = FieldErrors(AllocationInputInvalid)
    labels = dict(scoring.PARTS)
    for name in weights:
        if name not in labels:
            errors.add(name, f"There is no part of the score called {name}")
    clean: dict[str, int] = {}
    for name, label in scoring.PARTS:
        value = weights.get(name)
        if value is None:
            errors.add(name, f"Enter a weight for {label.lower()}")
        elif not 0 <= value <= WEIGHT_MAX:
            errors.add(name, f"The weight for {label.lower()} must be between 0 and {WEIGHT_MAX}")
        else:
            clean[name] = int(value)
    if len(clean) == len(scoring.PARTS) and sum(clean.values()) == 0:
        errors.add(scoring.PARTS[0][0], "At least one weight must be more than 0")
    if offer_hours is None:
        errors.add("offer_hours", "Enter how many hours facilitators have to answer an offer")
    elif not 1 <= offer_hours <= MAX_OFFER_HOURS:
        errors.add("offer_hours", f"Facilitators must have between 1 and {MAX_OFFER_HOURS} hours to answer")
    errors.raise_if_any()
    before = {"weights": scoring.get_weights(session), "offer_hours": scoring.get_offer_hours(session)}
    settings.set_setting(session, scoring.WEIGHTS_SETTING, clean)
    settings.set_setting(session, scoring.OFFER_HOURS_SETTING, int(offer_hours))
    after = {"weights": scoring.get_weights(session), "offer_hours": scoring.get_offer_hours(session)}
    audit.record(session, actor, "allocation.settings_changed", ("settings", None), at=now, before=before,
                 after=after)
    return after["weights"]

"""Who may take a case, and every reason why not: the one answer the allocation pages, offers,
bulk proposals and the `allocation_requested` veto all use.

    assess(session, case_or_id, user_ids, *, today) -> dict[int, Assessment]

answers for each user id asked about, in a constant number of queries whatever the number of ids.
The vetting, training and supervision modules supply their own rules through bulk queries they own;
this module owns the rest. Each rule is a small function of one person's loaded facts and the case,
giving its reasons (which stop an allocation) and warnings (which are shown beside it).

The case's expected period runs from its expected start (or today, if later) to its expected end,
both included; the vetting, pause and away rules look at that period.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.allocation import queries
from portal.allocation.models import CaseNeeds
from portal.cases.models import Case
from portal.core.accounts import User
from portal.core.errors import NotFound
from portal.supervision import queries as supervision_queries
from portal.training import queries as training_queries
from portal.volunteers.profiles import queries as profile_queries
from portal.volunteers.profiles.models import (
    ConflictKind,
    ConflictOfInterest,
    ExperienceLevel,
    Volunteer,
    VolunteerAbsence,
    VolunteerStatus,
)
from portal.volunteers.vetting import queries as vetting_queries
from portal.volunteers.vetting.queries import Clearance

RULES = ("status", "vetting", "training", "supervision", "capacity", "pause", "away", "conflict", "sensitive")
NO_RECORD = "has no volunteer record"
DEACTIVATED = "account is deactivated"
STATUS_TEXTS = {
    VolunteerStatus.VETTING: "being vetted, not yet active",
    VolunteerStatus.TRAINING: "in training, not yet active",
    VolunteerStatus.PAUSED: "paused",
    VolunteerStatus.LEFT: "left",
}
NOT_TRAINED = "has not completed the facilitator course"
NOT_SPECIALIST = "not trained for sensitive and complex cases"
BEFORE_END = "before the case is expected to end"


@dataclass(frozen=True)
class Reason:
    """One reason, in a coordinator's words ("Police vetting lapsed on 3 March 2026"), with the rule
    that gave it: status, vetting, training, supervision, capacity, pause, away, conflict, sensitive."""

    rule: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Assessment:
    """A volunteer's eligibility for one case: eligible when there are no reasons; warnings never
    stop an offer but are shown beside it ("away 12–26 May", "supervision overdue since 3 March")."""

    user_id: int
    name: str
    reasons: list[Reason] = field(default_factory=list)
    warnings: list[Reason] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.reasons


# ---------------------------------------------------------------------------------------------
# What the rules read


@dataclass(frozen=True)
class CaseFacts:
    """The case as the rules see it: its expected period and who and where it involves."""

    case: Case
    needs: CaseNeeds
    today: dt.date
    starts_on: dt.date
    ends_on: dt.date
    party_names: tuple[str, ...]
    places: tuple[str, ...]  # the district, then each party's address

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    @property
    def needs_specialist(self) -> bool:
        return bool(self.case.is_sensitive or self.needs.is_complex)


@dataclass(frozen=True)
class PersonFacts:
    """Everything the rules need about one volunteer, loaded in bulk."""

    user: User
    volunteer: Volunteer
    clearance_from: Clearance
    clearance_to: Clearance
    lapsing: list[str]
    completed: bool
    overdue_since: dt.date | None
    overdue_blocks: bool
    load: int
    absences: list[VolunteerAbsence]
    conflicts: list[ConflictOfInterest]


@dataclass(frozen=True)
class Finding:
    """A rule's answer: a reason when it blocks, otherwise a warning."""

    reason: Reason
    blocks: bool = True


# ---------------------------------------------------------------------------------------------
# The rules, one function each


def status_rule(person: PersonFacts, case: CaseFacts) -> Iterator[Finding]:
    """Active volunteers with an account in use."""
    if person.volunteer.status is not VolunteerStatus.ACTIVE:
        yield Finding(Reason("status", STATUS_TEXTS.get(person.volunteer.status, person.volunteer.status.label)))
    if person.user.is_deactivated:
        yield Finding(Reason("status", DEACTIVATED))


def vetting_rule(person: PersonFacts, case: CaseFacts) -> Iterator[Finding]:
    """Cleared to practise (vetting's own rule) on the first and the last day of the expected period."""
    if not person.clearance_from.cleared:
        for text in person.clearance_from.reasons:
            yield Finding(Reason("vetting", text))
    elif not person.clearance_to.cleared:
        texts = person.lapsing or [
            f"{text} by {long_date(case.ends_on)}" for text in person.clearance_to.reasons
        ]
        for text in texts:
            yield Finding(Reason("vetting", f"{text}, {BEFORE_END}"))


def training_rule(person: PersonFacts, case: CaseFacts) -> Iterator[Finding]:
    """The facilitator course completed."""
    if not person.completed:
        yield Finding(Reason("training", NOT_TRAINED))


def supervision_rule(person: PersonFacts, case: CaseFacts) -> Iterator[Finding]:
    """Not overdue for supervision today: a reason when the supervision setting blocks, else a warning."""
    if person.overdue_since is not None:
        text = f"Supervision overdue since {long_date(person.overdue_since)}"
        yield Finding(Reason("supervision", text), blocks=person.overdue_blocks)


def capacity_rule(person: PersonFacts, case: CaseFacts) -> Iterator[Finding]:
    """Fewer cases held (allocations and live offers, this case aside) than the volunteer's limit."""
    if person.load >= person.volunteer.max_cases:
        yield Finding(Reason("capacity", f"holds {person.load} of {person.volunteer.max_cases} cases"))


def pause_and_away_rule(person: PersonFacts, case: CaseFacts) -> Iterator[Finding]:
    """Paused or away for more than half the days of the expected period: reasons; for some of them
    (half or fewer): warnings with the same words."""
    covered: set[dt.date] = set()
    findings: list[Reason] = []
    paused_until = person.volunteer.paused_until
    if paused_until is not None and paused_until >= case.starts_on:
        covered.update(_days(case.starts_on, min(paused_until, case.ends_on)))
        findings.append(Reason("pause", f"paused until {long_date(paused_until)}"))
    for absence in person.absences:
        first, last = max(absence.starts_on, case.starts_on), min(absence.ends_on, case.ends_on)
        if first > last:
            continue
        covered.update(_days(first, last))
        findings.append(Reason("away", f"away {day_range(absence.starts_on, absence.ends_on, case.today)}"))
    if covered:
        blocks = len(covered) * 2 > case.days
        for reason in findings:
            yield Finding(reason, blocks=blocks)


def conflict_rule(person: PersonFacts, case: CaseFacts) -> Iterator[Finding]:
    """No current declared conflict with a person on the case or a place it involves."""
    for conflict in person.conflicts:
        if conflict.kind is ConflictKind.PERSON:
            if any(names_match(conflict.name, name) for name in case.party_names):
                text = f"declared a conflict of interest with a person on this case ({conflict.name})"
                yield Finding(Reason("conflict", text))
        elif any(names_match(conflict.name, place) for place in case.places):
            yield Finding(Reason("conflict", f"declared a conflict of interest with a place on this case "
                                             f"({conflict.name})"))


def sensitive_rule(person: PersonFacts, case: CaseFacts) -> Iterator[Finding]:
    """Sensitive or complex cases only to those trained for them."""
    if case.needs_specialist and person.volunteer.experience is not ExperienceLevel.SPECIALIST:
        yield Finding(Reason("sensitive", NOT_SPECIALIST))


RULE_FUNCTIONS = (
    status_rule, vetting_rule, training_rule, supervision_rule, capacity_rule, pause_and_away_rule,
    conflict_rule, sensitive_rule,
)


# ---------------------------------------------------------------------------------------------
# Assessing


def assess(
    session: Session, case_id_or_case: int | Case, user_ids: Iterable[int], *, today: dt.date
) -> dict[int, Assessment]:
    """Each person's eligibility for the case, keyed by every user id asked about, in a constant
    number of queries whatever the number of ids. A person with no volunteer record (or no account)
    is not eligible: "has no volunteer record". Raises NotFound for an unknown case."""
    case = _case_facts(session, case_id_or_case, today)
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return {}
    users = {user.id: user for user in session.scalars(select(User).where(User.id.in_(wanted)))}
    volunteers = profile_queries.volunteers_by_user(session, users)
    people = _person_facts(session, case, users, volunteers)
    assessments = {}
    for user_id in wanted:
        user = users.get(user_id)
        person = people.get(user_id)
        if person is None:
            assessments[user_id] = Assessment(user_id, user.name if user else "", [Reason("status", NO_RECORD)])
            continue
        findings = [finding for rule in RULE_FUNCTIONS for finding in rule(person, case)]
        assessments[user_id] = Assessment(
            user_id, person.user.name,
            reasons=[finding.reason for finding in findings if finding.blocks],
            warnings=[finding.reason for finding in findings if not finding.blocks],
        )
    return assessments


def assess_one(session: Session, case: int | Case, user_id: int, *, today: dt.date) -> Assessment:
    """One person's eligibility for the case (the "why not suggested" search)."""
    return assess(session, case, [user_id], today=today)[user_id]


def _case_facts(session: Session, case_id_or_case: int | Case, today: dt.date) -> CaseFacts:
    case = case_id_or_case if isinstance(case_id_or_case, Case) else session.get(Case, case_id_or_case)
    if case is None:
        raise NotFound("Case not found")
    needs = queries.needs_or_default(session, case, today=today)
    starts_on = max(needs.expected_start_on, today)
    parties = list(case.parties)
    return CaseFacts(
        case=case, needs=needs, today=today, starts_on=starts_on, ends_on=max(needs.expected_end_on, starts_on),
        party_names=tuple(party.name for party in parties),
        places=(case.district, *(party.address for party in parties if party.address)),
    )


def _person_facts(
    session: Session, case: CaseFacts, users: dict[int, User], volunteers: dict[int, Volunteer]
) -> dict[int, PersonFacts]:
    ids = list(volunteers)
    if not ids:
        return {}
    from_day = vetting_queries.clearances(session, ids, case.starts_on)
    to_day = vetting_queries.clearances(session, ids, case.ends_on)
    lapsing_ids = [user_id for user_id in ids if from_day[user_id].cleared and not to_day[user_id].cleared]
    lapsing = vetting_queries.lapses_between(session, lapsing_ids, case.starts_on, case.ends_on)
    completed = training_queries.course_completed_on(session, ids)
    overdue = supervision_queries.overdue_since(session, ids, case.today)
    blocks = supervision_queries.cadence_rules(session).overdue_blocks_allocation
    loads = queries.load_by_user(session, ids, exclude_case_id=case.case.id)
    by_volunteer = {volunteer.id: volunteer.user_id for volunteer in volunteers.values()}
    absences = profile_queries.absences_by_volunteer(session, by_volunteer, case.starts_on, case.ends_on)
    conflicts = profile_queries.current_conflicts_by_volunteer(session, by_volunteer)
    return {
        user_id: PersonFacts(
            user=users[user_id], volunteer=volunteer, clearance_from=from_day[user_id], clearance_to=to_day[user_id],
            lapsing=lapsing.get(user_id, []), completed=user_id in completed, overdue_since=overdue.get(user_id),
            overdue_blocks=blocks, load=loads[user_id], absences=absences.get(volunteer.id, []),
            conflicts=conflicts.get(volunteer.id, []),
        )
        for user_id, volunteer in volunteers.items()
    }


# ---------------------------------------------------------------------------------------------
# Words and names


def long_date(day: dt.date) -> str:
    """3 March 2026."""
    return f"{day:%-d %B %Y}"


def day_range(first: dt.date, last: dt.date, today: dt.date) -> str:
    """"12–26 May", "28 May – 3 June", "28 December 2026 – 3 January 2027": the year only when it is
    not this year (`today`'s)."""
    if first == last:
        return f"{first:%-d %B}" if first.year == today.year else long_date(first)
    if first.year != last.year:
        return f"{long_date(first)} – {long_date(last)}"
    year = "" if last.year == today.year else f" {last.year}"
    if first.month == last.month:
        return f"{first.day}–{last:%-d %B}{year}"
    return f"{first:%-d %B} – {last:%-d %B}{year}"


_APOSTROPHES = re.compile(r"['’‘`]")
_SEPARATORS = re.compile(r"[\W_]+")


def name_words(text: str) -> list[str]:
    """The words of a name or place, compared without case, accents, apostrophes or punctuation:
    "Siân O'Brien" -> ["sian", "obrien"]."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return [word for word in _SEPARATORS.split(_APOSTROPHES.sub("", plain)) if word]


def names_match(declared: str, actual: str) -> bool:
    """True when a declared name (or place) is `actual` once normalised (spaces aside), or every word
    of it appears among `actual`'s words; a one-letter word is an initial and matches any word
    starting with it ("J. Smith" matches "John Smith"). A declaration with no words matches nothing."""
    return words_match(name_words(declared), name_words(actual))


def words_match(wanted: Sequence[str], words: Sequence[str]) -> bool:
    """`names_match` on names already split by `name_words` (declared, actual)."""
    if not wanted or not words:
        return False
    if "".join(wanted) == "".join(words):
        return True
    return all(
        word in words or (len(word) == 1 and any(other.startswith(word) for other in words)) for word in wanted
    )


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    for offset in range((last - first).days + 1):
        yield first + dt.timedelta(days=offset)

"""Demo cases: realistic Essex referrals in every status of the state machine, driven through the
real services (so every guard holds and every step is audited). Flask-free; called by
`flask demo load` after the demo accounts exist.

Each case walks its own simulated timeline from the day the referral arrived, so dates, status
changes and the referrer reports look like a service that has been running for about a year and a
half. Names, addresses and phone numbers are invented (phones in Ofcom's drama range, e-mail at
example.org).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from faker import Faker
from sqlalchemy.orm import Session

from portal.cases import services
from portal.cases.errors import AllocationBlocked
from portal.cases.models import (
    ActionStatus,
    AllocationRole,
    Case,
    CaseStatus,
    ClosureReason,
    ConsentMethod,
    ConsentPurpose,
    ContactMethod,
    ContactOutcome,
    InterventionType,
    JusticeStage,
    NoteVisibility,
    OffenceCategory,
    PartyRole,
    ReferralSource,
    RiskRating,
    RiskStage,
    SensitiveKind,
    SessionType,
)
from portal.core import settings
from portal.core.accounts import User
from portal.core.clock import LONDON

S = CaseStatus
DEMO_CASES_SETTING = "cases.demo_cases_loaded"

# District and the start of a typical postcode there.
DISTRICTS = {
    "Basildon": "SS14", "Braintree": "CM7", "Brentwood": "CM14", "Castle Point": "SS7",
    "Chelmsford": "CM1", "Colchester": "CO1", "Epping Forest": "CM16", "Harlow": "CM20",
    "Maldon": "CM9", "Rochford": "SS4", "Tendring": "CO15", "Uttlesford": "CB11",
    "Southend-on-Sea": "SS1", "Thurrock": "RM17",
}

REFERRERS: dict[ReferralSource, list[tuple[str, str]]] = {
    ReferralSource.POLICE: [("Essex Police", "essex.police.example"), ("British Transport Police", "btp.example")],
    ReferralSource.PROBATION: [("Probation Service, East of England", "probation.example")],
    ReferralSource.COURT: [("Chelmsford Magistrates' Court", "courts.example"),
                           ("Southend Magistrates' Court", "courts.example")],
    ReferralSource.YOUTH_JUSTICE: [("Essex Youth Justice Service", "essex-yjs.example"),
                                   ("Southend Youth Justice Service", "southend-yjs.example")],
    ReferralSource.HOUSING: [("Chelmsford Housing Partnership", "housing.example"),
                             ("Colne Valley Homes", "housing.example")],
    ReferralSource.VICTIM_SERVICES: [("Essex Victim Care Hub", "victimcare.example")],
    ReferralSource.SELF_REFERRAL: [],
}
SOURCE_WEIGHTS = {
    ReferralSource.POLICE: 40, ReferralSource.PROBATION: 15, ReferralSource.COURT: 8,
    ReferralSource.YOUTH_JUSTICE: 14, ReferralSource.HOUSING: 6, ReferralSource.VICTIM_SERVICES: 10,
    ReferralSource.SELF_REFERRAL: 7,
}

OFFENCES: list[tuple[OffenceCategory, str, SensitiveKind | None]] = [
    (OffenceCategory.BURGLARY, "Burglary of a home while the family were away; a laptop and jewellery taken", None),
    (OffenceCategory.BURGLARY, "Break-in at a garden shed; power tools taken", None),
    (OffenceCategory.THEFT, "Theft of a bicycle from outside the railway station", None),
    (OffenceCategory.THEFT, "Shop theft from a family-run newsagent over several weeks", None),
    (OffenceCategory.CRIMINAL_DAMAGE, "Windows of a community centre smashed at night", None),
    (OffenceCategory.CRIMINAL_DAMAGE, "Graffiti and damage to a neighbour's car", None),
    (OffenceCategory.VIOLENCE, "Assault outside a pub after an argument about a taxi", None),
    (OffenceCategory.VIOLENCE, "Serious assault with a weapon in a town-centre car park",
     SensitiveKind.SERIOUS_VIOLENCE),
    (OffenceCategory.ROBBERY, "Mobile phone taken by force from a teenager on the way home from school", None),
    (OffenceCategory.PUBLIC_ORDER, "Racially abusive language towards a bus driver", SensitiveKind.HATE_CRIME),
    (OffenceCategory.HARASSMENT, "Repeated abusive messages to a former partner", SensitiveKind.DOMESTIC_ABUSE),
    (OffenceCategory.FRAUD, "Online purchase fraud against a pensioner", None),
    (OffenceCategory.ROAD_TRAFFIC, "Dangerous driving that injured a cyclist", None),
    (OffenceCategory.ANTI_SOCIAL_BEHAVIOUR, "Months of noise and intimidation on an estate", None),
    (OffenceCategory.NEIGHBOUR_DISPUTE, "Long-running boundary and parking dispute between neighbours", None),
]
STAGES_BY_SOURCE = {
    ReferralSource.POLICE: [JusticeStage.PRE_CHARGE, JusticeStage.OUT_OF_COURT_DISPOSAL],
    ReferralSource.PROBATION: [JusticeStage.COMMUNITY_SENTENCE, JusticeStage.CUSTODY, JusticeStage.POST_RELEASE],
    ReferralSource.COURT: [JusticeStage.PRE_SENTENCE],
    ReferralSource.YOUTH_JUSTICE: [JusticeStage.OUT_OF_COURT_DISPOSAL, JusticeStage.COMMUNITY_SENTENCE],
    ReferralSource.HOUSING: [JusticeStage.NON_CRIME],
    ReferralSource.VICTIM_SERVICES: [JusticeStage.PRE_CHARGE, JusticeStage.COMMUNITY_SENTENCE,
                                     JusticeStage.NOT_REPORTED],
    ReferralSource.SELF_REFERRAL: [JusticeStage.NOT_REPORTED, JusticeStage.POST_RELEASE],
}
SESSION_FOR = {
    InterventionType.FACE_TO_FACE_CONFERENCE: SessionType.CONFERENCE,
    InterventionType.SHUTTLE: SessionType.SHUTTLE_EXCHANGE,
    InterventionType.LETTER: SessionType.LETTER,
    InterventionType.DIRECT_REPARATION: SessionType.CONFERENCE,
    InterventionType.INDIRECT_REPARATION: SessionType.LETTER,
    InterventionType.COMMUNITY_PANEL: SessionType.PANEL,
    InterventionType.REFERRAL_ORDER_PANEL: SessionType.PANEL,
}
ACTIONS = [
    "Write a letter of apology",
    "Attend the victim awareness course",
    "Pay £150 towards the repair in monthly instalments",
    "Complete 10 hours of work at the community garden",
    "Keep away from the shop for six months",
    "Meet the youth worker weekly until the end of term",
]
INTERPRETER_LANGUAGES = ["Polish", "Romanian", "Lithuanian", "Bengali", "Portuguese", "Turkish"]

# How many of every 100 demo cases end in each status: every status appears from 12 cases up.
STATUS_SHARE = {
    S.REFERRAL_RECEIVED: 6, S.TRIAGE: 6, S.CONTACTING: 9, S.ASSESSMENT: 8, S.AWAITING_ALLOCATION: 7,
    S.ALLOCATED: 6, S.PREPARATION: 7, S.INTERVENTION: 6, S.MONITORING: 6, S.FOLLOW_UP: 5,
    S.ON_HOLD: 6, S.CLOSED: 28,
}
# The order a case walks the main path; on hold and closed branch off it.
PATH = [S.REFERRAL_RECEIVED, S.TRIAGE, S.CONTACTING, S.ASSESSMENT, S.AWAITING_ALLOCATION,
        S.ALLOCATED, S.PREPARATION, S.INTERVENTION, S.MONITORING, S.FOLLOW_UP]
# Where a case that ends closed stopped, and a reason that fits (services.CLOSURE_REASONS).
CLOSURES: list[tuple[CaseStatus, ClosureReason, int]] = [
    (S.FOLLOW_UP, ClosureReason.COMPLETED_DIRECT, 25),
    (S.FOLLOW_UP, ClosureReason.COMPLETED_INDIRECT, 12),
    (S.PREPARATION, ClosureReason.COMPLETED_PARTIAL, 3),
    (S.TRIAGE, ClosureReason.INELIGIBLE, 8),
    (S.TRIAGE, ClosureReason.SIGNPOSTED_ELSEWHERE, 4),
    (S.CONTACTING, ClosureReason.NO_CONTACT, 8),
    (S.CONTACTING, ClosureReason.DECLINED_HARMED, 10),
    (S.ASSESSMENT, ClosureReason.DECLINED_RESPONSIBLE, 8),
    (S.ASSESSMENT, ClosureReason.UNSUITABLE_RISK, 5),
    (S.AWAITING_ALLOCATION, ClosureReason.WITHDRAWN_HARMED, 5),
    (S.PREPARATION, ClosureReason.WITHDRAWN_RESPONSIBLE, 4),
    (S.MONITORING, ClosureReason.AGREEMENT_NOT_FULFILLED, 4),
]


@dataclass
class _Clock:
    """A case's own simulated time: moves forward a day or more per step, never past `limit`."""

    at: dt.datetime
    limit: dt.datetime
    rng: random.Random

    def step(self, low: int = 1, high: int = 6) -> dt.datetime:
        moved = self.at + dt.timedelta(days=self.rng.randint(low, high), minutes=self.rng.randint(0, 300))
        self.at = min(moved, self.limit)
        return self.at

    @property
    def today(self) -> dt.date:
        return self.at.astimezone(LONDON).date()


class _NobodyFree(Exception):
    """No pair of demo facilitators can take another case."""


def _statuses(count: int, rng: random.Random) -> list[CaseStatus]:
    """`count` target statuses: one of each (from 12 cases up), the rest in the shares above."""
    targets = list(CaseStatus)[:count]
    spare = count - len(targets)
    total = sum(STATUS_SHARE.values())
    for status, share in STATUS_SHARE.items():
        targets += [status] * (spare * share // total)
    targets += [S.CLOSED] * (count - len(targets))
    rng.shuffle(targets)
    return targets


def load_demo_cases(
    session: Session,
    *,
    coordinator: User,
    volunteers: Sequence[User],
    now: dt.datetime,
    count: int = 300,
    seed: int = 2026,
) -> list[Case]:
    """Create `count` demo cases spread over every status, through the services. Idempotent: does
    nothing (returns []) once demo cases have been loaded into this database. Flushes, never commits.

    Needs at least two volunteers (lead and co-facilitator); the first gets a bigger share, so
    make it the demo volunteer people sign in as. Call `portal.wiring.connect_handlers()`
    first so other modules' allocation rules apply to the demo volunteers too.
    """
    if settings.get_setting(session, DEMO_CASES_SETTING):
        return []
    if len(volunteers) < 2:
        raise ValueError("Demo cases need at least two volunteers")
    rng = random.Random(seed)
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    builder = _Builder(session, fake, rng, coordinator, list(volunteers), now)
    cases = [builder.build(target) for target in _statuses(count, rng)]
    # One facilitator's allocations wait for a coordinator's review, as after a lapsed check.
    lapsed_on = (now - dt.timedelta(days=3)).date()
    services.flag_allocations_for_review(
        session, volunteers[-1].id, f"DBS check expired on {lapsed_on.day} {lapsed_on:%B %Y}", actor=None, now=now
    )
    settings.set_setting(session, DEMO_CASES_SETTING, len(cases))
    return cases


class _Builder:
    def __init__(self, session, fake, rng, coordinator, volunteers, now):
        self.session, self.fake, self.rng = session, fake, rng
        self.coordinator, self.volunteers, self.now = coordinator, volunteers, now
        self.closures = [(stop, reason) for stop, reason, weight in CLOSURES for _ in range(weight)]

    # -- people ---------------------------------------------------------------------------------

    def _address(self, district: str) -> str:
        fake, prefix = self.fake, DISTRICTS[district]
        town = district if district not in ("Tendring", "Uttlesford", "Epping Forest", "Castle Point", "Rochford",
                                             "Thurrock") else {
            "Tendring": "Clacton-on-Sea", "Uttlesford": "Saffron Walden", "Epping Forest": "Epping",
            "Castle Point": "Canvey Island", "Rochford": "Rayleigh", "Thurrock": "Grays"}[district]
        postcode = f"{prefix} {self.rng.randint(1, 9)}{fake.random_uppercase_letter()}{fake.random_uppercase_letter()}"
        return f"{fake.building_number()} {fake.street_name()}, {town} {postcode}"

    def _phone(self) -> str:
        return f"07700 900{self.rng.randint(0, 999):03d}"

    def _person(self, role: PartyRole, district: str, *, under_18: bool = False,
                supports: int | None = None) -> services.PartyDetails:
        first, last = self.fake.first_name(), self.fake.last_name()
        if self.rng.random() < 0.08:
            last = self.rng.choice(["O'Brien", "Ní Bhriain", "Nowak", "Okafor", "Szymańska", "Llewellyn-Jones"])
        contact_note = self.rng.choice([
            None, "Mobile only, after 5pm", "Text first; do not leave voicemail", "Via their probation officer",
            "Email preferred", "Not at the home address: use the mobile",
        ])
        return services.PartyDetails(
            role=role, name=f"{first} {last}", phone=self._phone(),
            email=f"{first}.{last}".lower().replace("'", "").replace(" ", "") + "@example.org"
            if self.rng.random() < 0.7 else None,
            address=self._address(district), safe_contact_notes=contact_note,
            interpreter_language=self.rng.choice(INTERPRETER_LANGUAGES) if self.rng.random() < 0.06 else None,
            access_needs="Step-free access; hearing loop" if self.rng.random() < 0.05 else None,
            is_under_18=under_18, supports_party_id=supports,
        )

    # -- one case -------------------------------------------------------------------------------

    def build(self, target: CaseStatus) -> Case:
        rng, coordinator = self.rng, self.coordinator
        stop, reason = (rng.choice(self.closures) if target is S.CLOSED else (None, None))
        hold_from = rng.choice(PATH[:8]) if target is S.ON_HOLD else None
        last = stop or hold_from or target
        depth = PATH.index(last)
        # Deeper cases arrived longer ago; new referrals arrived in the last week or so.
        days_ago = rng.randint(0, 8) if depth == 0 else rng.randint(8 * depth + 10, 8 * depth + 480)
        received = (self.now - dt.timedelta(days=days_ago)).astimezone(LONDON).date()
        start = dt.datetime.combine(received, dt.time(9, rng.randint(0, 59)), tzinfo=LONDON).astimezone(dt.UTC)
        clock = _Clock(min(start, self.now), self.now, rng)
        case = self._referral(clock, received)
        for status in PATH[1 : depth + 1]:
            try:
                self._advance(case, status, clock, closing=reason)
            except _NobodyFree:
                return case  # every facilitator is full: the case waits for allocation, as in life
        if target is S.ON_HOLD:
            when = clock.step()
            services.move_case(self.session, case.id, S.ON_HOLD, actor=coordinator, now=when,
                               reason=rng.choice(["Awaiting sentence", "Harmed person in hospital",
                                                  "Person responsible remanded; waiting for a prison visit",
                                                  "Family bereavement: pause for a month"]),
                               review_on=(self.now + dt.timedelta(days=rng.randint(7, 60))).date())
        elif target is S.CLOSED:
            self._close(case, reason, clock)
        return case

    def _referral(self, clock: _Clock, received: dt.date) -> Case:
        rng = self.rng
        source = rng.choices(list(SOURCE_WEIGHTS), weights=list(SOURCE_WEIGHTS.values()))[0]
        offence, summary, sensitive = rng.choice(OFFENCES)
        district = rng.choice(list(DISTRICTS))
        organisation, domain = rng.choice(REFERRERS[source]) if REFERRERS[source] else (None, None)
        referrer_name = self.fake.name() if organisation else None
        youth = source is ReferralSource.YOUTH_JUSTICE
        details = services.ReferralDetails(
            source=source, received_on=received, offence_category=offence,
            justice_stage=rng.choice(STAGES_BY_SOURCE[source]), district=district, summary=summary,
            referrer_organisation=organisation, referrer_name=referrer_name,
            referrer_email=(referrer_name.lower().replace(" ", ".").replace("'", "") + f"@{domain}")
            if organisation else None,
            crime_reference=f"42/{rng.randint(10000, 99999)}/{received:%y}"
            if source in (ReferralSource.POLICE, ReferralSource.COURT) else None,
            incident_on=received - dt.timedelta(days=rng.randint(3, 120)),
            victim_has_enhanced_rights=sensitive is not None or rng.random() < 0.1,
            sensitive_kinds=frozenset({sensitive}) if sensitive else frozenset(),
        )
        parties = [self._person(PartyRole.HARMED_PERSON, district),
                   self._person(PartyRole.PERSON_RESPONSIBLE, district, under_18=youth)]
        case = services.record_referral(self.session, details, parties, actor=self.coordinator, now=clock.at)
        harmed, responsible = case.parties[0], case.parties[1]
        if youth:
            services.add_party(self.session, case.id, self._person(
                PartyRole.PARENT_OR_GUARDIAN, district, supports=responsible.id), actor=self.coordinator, now=clock.at)
        elif rng.random() < 0.25:
            services.add_party(self.session, case.id, self._person(
                PartyRole.SUPPORTER, district, supports=harmed.id), actor=self.coordinator, now=clock.at)
        return case

    def _principals(self, case: Case):
        by_role = {party.role: party for party in case.parties}
        return by_role[PartyRole.HARMED_PERSON], by_role[PartyRole.PERSON_RESPONSIBLE]

    def _move(self, case: Case, target: CaseStatus, clock: _Clock, **extra) -> None:
        # Triage and the start of contacting happen within a day or so of the referral.
        quick = target in (S.TRIAGE, S.CONTACTING)
        when = clock.step(0, 1) if quick else clock.step()
        services.move_case(self.session, case.id, target, actor=self.coordinator, now=when, **extra)

    def _advance(self, case: Case, status: CaseStatus, clock: _Clock, *, closing: ClosureReason | None) -> None:
        """Do what the guard into `status` needs, then move there."""
        session, rng, actor = self.session, self.rng, self.coordinator
        harmed, responsible = self._principals(case)
        if status is S.ASSESSMENT:
            when = clock.step(0, 1)
            services.record_contact_attempt(
                session, case.id, harmed.id, attempted_at=when, method=ContactMethod.PHONE,
                outcome=ContactOutcome.NO_ANSWER if rng.random() < 0.4 else ContactOutcome.MESSAGE_LEFT,
                actor=actor, now=when)
            # Most are reached within the Victims' Code time; some take longer.
            when = clock.step(0, 3) if rng.random() < 0.75 else clock.step(6, 14)
            services.record_contact_attempt(
                session, case.id, harmed.id, attempted_at=when,
                method=rng.choice([ContactMethod.PHONE, ContactMethod.LETTER, ContactMethod.EMAIL]),
                outcome=ContactOutcome.CONTACT_MADE, actor=actor, now=when)
            when = clock.step(0, 4)
            services.record_contact_attempt(
                session, case.id, responsible.id, attempted_at=when, method=ContactMethod.PHONE,
                outcome=ContactOutcome.CONTACT_MADE, actor=actor, now=when)
        elif status is S.AWAITING_ALLOCATION:
            when = clock.step()
            services.record_consent(session, harmed.id, purpose=ConsentPurpose.PARTICIPATION,
                                    given_on=clock.today, method=ConsentMethod.WRITTEN, actor=actor, now=when)
            services.record_consent(session, responsible.id, purpose=ConsentPurpose.PARTICIPATION,
                                    given_on=clock.today, method=ConsentMethod.E_SIGNATURE, actor=actor, now=when)
            self._risk(case, RiskStage.INITIAL, clock)
        elif status is S.ALLOCATED:
            when = clock.step()
            self._allocate_pair(case, harmed, responsible, when)
            if rng.random() < 0.3:
                harmed.home_visit_approved = True
                session.flush()
            return  # the first allocation moved the case to allocated
        elif status is S.PREPARATION:
            for party in (harmed, responsible):
                when = clock.step()
                services.record_session(session, case.id, session_type=SessionType.PREPARATION_MEETING,
                                        held_on=clock.today, duration_minutes=rng.choice([45, 60, 90]),
                                        attendees=f"{party.name} and both facilitators", actor=actor, now=when)
            self._note(case, clock)
        elif status is S.INTERVENTION:
            kind = rng.choices(list(SESSION_FOR), weights=[30, 20, 20, 8, 8, 6, 8])[0]
            if closing is ClosureReason.COMPLETED_INDIRECT:
                kind = rng.choice([InterventionType.SHUTTLE, InterventionType.LETTER,
                                   InterventionType.INDIRECT_REPARATION])
            elif closing is ClosureReason.COMPLETED_DIRECT:
                kind = rng.choice([InterventionType.FACE_TO_FACE_CONFERENCE, InterventionType.DIRECT_REPARATION,
                                   InterventionType.COMMUNITY_PANEL])
            when = clock.step()
            services.choose_intervention_type(session, case.id, kind, actor=actor, now=when)
            for party in (harmed, responsible):
                services.record_consent(session, party.id, purpose=ConsentPurpose.PARTICIPATION,
                                        intervention_type=kind, given_on=clock.today,
                                        method=ConsentMethod.WRITTEN, actor=actor, now=when)
            self._risk(case, RiskStage.PRE_INTERVENTION, clock)
        elif status is S.MONITORING:
            self._deliver(case, clock)
            self._agreement(case, clock)
        elif status is S.FOLLOW_UP:
            for action in case.agreement.actions:
                services.set_action_status(session, action.id, ActionStatus.DONE, actor=actor,
                                           now=clock.step(3, 20))
            self._feedback(case, clock)
        elif status is S.CONTACTING and closing is ClosureReason.NO_CONTACT:
            self._move(case, status, clock)
            for method in (ContactMethod.PHONE, ContactMethod.TEXT_MESSAGE, ContactMethod.LETTER):
                when = clock.step(1, 4)
                services.record_contact_attempt(
                    session, case.id, harmed.id, attempted_at=when, method=method,
                    outcome=rng.choice([ContactOutcome.NO_ANSWER, ContactOutcome.RETURNED_UNDELIVERED,
                                        ContactOutcome.WRONG_DETAILS]), actor=actor, now=when)
            return
        self._move(case, status, clock)

    def _allocate_pair(self, case: Case, harmed, responsible, when: dt.datetime) -> None:
        """Allocate a lead and a co-facilitator, trying others when a higher module refuses someone (a
        full case limit, say); raises _NobodyFree when no pair can take the case."""
        rng, session, actor = self.rng, self.session, self.coordinator
        order = rng.sample(self.volunteers, len(self.volunteers))
        if rng.random() < 0.25:
            order.insert(0, order.pop(order.index(self.volunteers[0])))  # the demo sign-in gets a good share
        lead = None
        for person in order:
            try:
                services.allocate_case(session, case.id, person.id, AllocationRole.LEAD, actor=actor, now=when,
                                       party_ids=[harmed.id])
            except AllocationBlocked:
                continue
            lead = person
            break
        if lead is None:
            raise _NobodyFree
        for person in order:
            if person is lead:
                continue
            try:
                services.allocate_case(session, case.id, person.id, AllocationRole.CO_FACILITATOR, actor=actor,
                                       now=when, party_ids=[responsible.id])
            except AllocationBlocked:
                continue
            return

    def _risk(self, case: Case, stage: RiskStage, clock: _Clock) -> None:
        rng = self.rng
        rating = rng.choices([RiskRating.LOW, RiskRating.MEDIUM, RiskRating.HIGH], weights=[55, 35, 10])[0]
        services.record_risk_assessment(
            self.session, case.id, stage=stage, rating=rating, proceed=True, assessed_on=clock.today,
            factors=rng.choice(["Accepts responsibility; no previous contact between the parties",
                                "Some anger about the offence; both parties keen to go ahead",
                                "Alcohol a factor at the time; now engaging with support"]),
            mitigations=rng.choice(["Meet at a neutral venue with two facilitators",
                                    "Separate arrival and departure times; supporter present",
                                    "Shuttle only until the pre-intervention review"]),
            police_intelligence="Intelligence report: no current concerns" if rng.random() < 0.3 else None,
            approved_by=self.coordinator, actor=self.coordinator, now=clock.step(0, 3),
        )

    def _note(self, case: Case, clock: _Clock) -> None:
        visibility = self.rng.choices(list(NoteVisibility), weights=[70, 20, 10])[0]
        text = {
            NoteVisibility.GENERAL: "Both parties prefer afternoon appointments.",
            NoteVisibility.RESTRICTED: "Harmed person disclosed a health condition: see restricted notes.",
            NoteVisibility.COORDINATOR_ONLY: "Safeguarding: discussed with the duty social worker.",
        }[visibility]
        services.add_note(self.session, case.id, text, visibility=visibility, actor=self.coordinator, now=clock.at)

    def _deliver(self, case: Case, clock: _Clock) -> None:
        harmed, responsible = self._principals(case)
        when = clock.step()
        services.record_session(
            self.session, case.id, session_type=SESSION_FOR[case.intervention_type], held_on=clock.today,
            duration_minutes=self.rng.choice([60, 90, 120]),
            attendees=f"{harmed.name}, {responsible.name} and both facilitators", actor=self.coordinator, now=when)

    def _agreement(self, case: Case, clock: _Clock) -> None:
        if case.agreement is not None:
            return
        responsible = self._principals(case)[1]
        when = clock.step(0, 2)
        actions = [
            services.ActionDetails(description=text, owner_party_id=responsible.id,
                                   due_on=clock.today + dt.timedelta(days=self.rng.randint(14, 90)))
            for text in self.rng.sample(ACTIONS, self.rng.randint(1, 3))
        ]
        services.record_agreement(self.session, case.id, agreed_on=clock.today, actions=actions,
                                  actor=self.coordinator, now=when)

    def _feedback(self, case: Case, clock: _Clock) -> None:
        for party in self._principals(case):
            if self.rng.random() < 0.75:
                when = clock.step(1, 10)
                services.record_feedback(
                    self.session, party.id, satisfaction=self.rng.choices([5, 4, 3, 2], weights=[50, 32, 12, 6])[0],
                    given_on=clock.today, felt_safe=True, felt_prepared=self.rng.random() < 0.9,
                    would_recommend=self.rng.random() < 0.85,
                    comments=self.rng.choice([None, "It helped me move on.", "I was nervous but felt well prepared.",
                                              "I wish it had happened sooner."]),
                    actor=self.coordinator, now=when)

    def _close(self, case: Case, reason: ClosureReason, clock: _Clock) -> None:
        session, actor = self.session, self.coordinator
        if reason is ClosureReason.AGREEMENT_NOT_FULFILLED:
            action = case.agreement.actions[0]
            services.set_action_status(session, action.id, ActionStatus.NOT_DONE, actor=actor, now=clock.step(14, 40))
        if reason in (ClosureReason.WITHDRAWN_HARMED, ClosureReason.WITHDRAWN_RESPONSIBLE):
            harmed, responsible = self._principals(case)
            who = harmed if reason is ClosureReason.WITHDRAWN_HARMED else responsible
            consent = next(consent for consent in who.consents if consent.withdrawn_on is None)
            when = clock.step()
            services.withdraw_consent(session, consent.id, withdrawn_on=clock.today,
                                      reason="No longer wishes to take part", actor=actor, now=when)
        services.close_case(session, case.id, reason, actor=actor, now=clock.step(),
                            notes="Referrer informed of the outcome by letter")

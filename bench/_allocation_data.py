"""The allocation bench's data: volunteers with everything eligibility reads, and open cases.

`load(engine, volunteers=20_000, cases=10_000, waiting=5_000)` fills an empty database (tables already
created) in one transaction with Core `insert()`s, then runs VACUUM ANALYZE. What it makes, from a
fixed seed:

- one coordinator (signing in with `PASSWORD`); `volunteers` volunteers, about 75% active (the rest
  vetting, training, paused or left), a few accounts deactivated; districts among 25, a random weekly
  availability (weekday daytimes likelier than evenings and weekends), case limits 1–4, 30% new, 50%
  experienced and 20% trained for sensitive cases, some speaking a second language, a few pauses;
- police vetting and references for everyone past vetting (about 3% with police vetting lapsed),
  completed training enrolments for everyone past training;
- absences for about 5% of the active volunteers and declared conflicts for about 2%;
- `cases` open cases with two parties each: `waiting` of them (by default a fifth) awaiting allocation
  with nobody offered yet, two thirds of those with their needs recorded and a third without (so the
  bulk proposal works out their defaults, as it must for cases a coordinator has not looked at yet);
  1.2% more awaiting allocation with a live offer out; the rest allocated with 1–2 current
  allocations each, none over any volunteer's case limit.

Imported by bench/allocation.py; running this file on its own does nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import time

from sqlalchemy import insert, text
from sqlalchemy.engine import Connection, Engine

from portal.allocation.models import AllocationOffer, CaseNeeds, OfferStatus
from portal.cases.models import (
    Allocation,
    AllocationRole,
    Case,
    CaseStatus,
    JusticeStage,
    OffenceCategory,
    Party,
    PartyRole,
    ReferralSource,
)
from portal.cases.services import first_contact_due_on, format_reference
from portal.core.accounts import Role, User, UserRole
from portal.core.passwords import hash_password
from portal.training.models import Cohort, Course, Enrolment, EnrolmentStatus
from portal.volunteers.profiles import availability
from portal.volunteers.profiles.models import (
    ConflictKind,
    ConflictOfInterest,
    ExperienceLevel,
    Volunteer,
    VolunteerAbsence,
    VolunteerStatus,
)
from portal.volunteers.vetting.models import CheckKind, CheckStatus, VettingCheck
from portal.volunteers.vetting.rules import add_months

TODAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
COORDINATOR_ID = 1
WAITING_SHARE = 0.2     # awaiting allocation with nobody offered yet, unless `waiting` says how many
NO_NEEDS_EVERY = 3      # every third waiting case has no needs recorded
OFFERED_SHARE = 0.012   # awaiting allocation with a live offer out (not in the bulk proposal)
PASSWORD = "bench-password-kettle-42"
COORDINATOR_EMAIL = "bench-coordinator@example.org"
DISTRICTS = [
    "Ashford", "Canterbury", "Dartford", "Dover", "Folkestone and Hythe", "Gravesham", "Maidstone",
    "Medway", "Sevenoaks", "Swale", "Thanet", "Tonbridge and Malling", "Tunbridge Wells", "Basildon",
    "Braintree", "Brentwood", "Castle Point", "Chelmsford", "Colchester", "Epping Forest", "Harlow",
    "Maldon", "Rochford", "Southend-on-Sea", "Thurrock",
]
LANGUAGES = ["Polish", "Urdu", "Punjabi", "Romanian", "Lithuanian", "Bengali", "Turkish", "Nepali"]
FIRST = ["Amira", "Bryn", "Chidi", "Dee", "Eilidh", "Farah", "Gareth", "Hana", "Imran", "Jess", "Kofi",
         "Lena", "Marek", "Niamh", "Olu", "Priya", "Rhys", "Sian", "Tomasz", "Yusuf"]
LAST = ["Ahmed", "Brown", "Clarke", "Davies", "Evans", "Green", "Hughes", "Khan", "Lewis", "Morgan",
        "Nowak", "Okafor", "Patel", "Roberts", "Smith", "Taylor", "Walsh", "Williams", "Wright", "Young"]
STATUS_MIX = {
    VolunteerStatus.ACTIVE: 75, VolunteerStatus.TRAINING: 8, VolunteerStatus.VETTING: 7,
    VolunteerStatus.PAUSED: 5, VolunteerStatus.LEFT: 5,
}
EXPERIENCE_MIX = {ExperienceLevel.NEW: 30, ExperienceLevel.EXPERIENCED: 50, ExperienceLevel.SPECIALIST: 20}
WORKING_STATUSES = [CaseStatus.ALLOCATED, CaseStatus.PREPARATION, CaseStatus.INTERVENTION, CaseStatus.MONITORING]


def _random_mask(rng: random.Random) -> int:
    """A weekly pattern: weekday daytimes likelier than evenings, evenings likelier than weekends."""
    mask = 0
    for index, (day, period) in enumerate(availability.SLOTS):
        weekend = day in ("saturday", "sunday")
        chance = 0.15 if weekend else (0.3 if period == "evening" else 0.4)
        if rng.random() < chance:
            mask |= 1 << index
    return mask or 1 << rng.randrange(15)


def _insert(connection: Connection, model, rows: list[dict]) -> None:
    begun = time.perf_counter()
    for start in range(0, len(rows), 5_000):
        connection.execute(insert(model), rows[start:start + 5_000])
    print(f"  {model.__tablename__}: {len(rows):,} rows in {time.perf_counter() - begun:.1f} s", flush=True)


def load(engine: Engine, *, volunteers: int, cases: int, waiting: int | None = None) -> list[int]:
    """Load the data (see the module docstring); returns the ids of the waiting cases."""
    rng = random.Random(2026)
    waiting = int(cases * WAITING_SHARE) if waiting is None else waiting
    offered_until = waiting + int(cases * OFFERED_SHARE)
    if offered_until > cases:
        raise ValueError(f"{cases:,} open cases cannot hold {waiting:,} waiting and"
                         f" {offered_until - waiting:,} offered")
    users = [dict(id=COORDINATOR_ID, email=COORDINATOR_EMAIL, name="Bench Coordinator",
                  password_hash=hash_password(PASSWORD), is_deactivated=False, created_at=NOW)]
    roles = [dict(user_id=COORDINATOR_ID, role=Role.COORDINATOR, granted_at=NOW)]
    volunteer_rows, checks, enrolments, absences, conflicts = [], [], [], [], []
    statuses = rng.choices(list(STATUS_MIX), weights=list(STATUS_MIX.values()), k=volunteers)
    levels = rng.choices(list(EXPERIENCE_MIX), weights=list(EXPERIENCE_MIX.values()), k=volunteers)
    capacity: dict[int, int] = {}   # active, open-account user id -> case places left
    cohorts = 40
    for number, (status, level) in enumerate(zip(statuses, levels, strict=True), start=1):
        user_id = number + 1
        deactivated = status is VolunteerStatus.ACTIVE and rng.random() < 0.01
        users.append(dict(
            id=user_id, email=f"volunteer{number}@bench.example.org",
            name=f"{rng.choice(FIRST)} {rng.choice(LAST)}", password_hash=None, is_deactivated=deactivated,
            created_at=NOW - dt.timedelta(days=400),
        ))
        roles.append(dict(user_id=user_id, role=Role.VOLUNTEER, granted_at=NOW))
        mask = _random_mask(rng)
        max_cases = rng.randint(1, 4)
        paused_until = TODAY + dt.timedelta(days=rng.randint(5, 60)) if (
            status is VolunteerStatus.ACTIVE and rng.random() < 0.03) else None
        speaks = ["English"] + ([rng.choice(LANGUAGES)] if rng.random() < 0.15 else [])
        volunteer_rows.append(dict(
            id=number, user_id=user_id, status=status, districts=rng.sample(DISTRICTS, rng.randint(1, 3)),
            availability=availability.from_mask(mask), availability_mask=mask, languages=speaks,
            max_cases=max_cases, drives=rng.random() < 0.6, experience=level, paused_until=paused_until,
            offered_at=NOW - dt.timedelta(days=420), status_changed_at=NOW - dt.timedelta(days=rng.randint(10, 400)),
            created_at=NOW - dt.timedelta(days=420),
        ))
        if status is VolunteerStatus.VETTING:
            continue
        lapsed = rng.random() < 0.03
        cleared_on = TODAY - dt.timedelta(days=rng.randint(400, 500) if lapsed else rng.randint(10, 340))
        checks.append(dict(
            volunteer_id=number, kind=CheckKind.NPPV, level="NPPV2", status=CheckStatus.LAPSED if lapsed
            else CheckStatus.CLEARED, cleared_on=cleared_on, expires_on=add_months(cleared_on, 12),
            created_at=NOW, updated_at=NOW,
        ))
        checks.append(dict(
            volunteer_id=number, kind=CheckKind.REFERENCES, level=None, status=CheckStatus.CLEARED,
            cleared_on=cleared_on, expires_on=None, created_at=NOW, updated_at=NOW,
        ))
        completed = status is not VolunteerStatus.TRAINING
        enrolments.append(dict(
            cohort_id=number % cohorts + 1, user_id=user_id,
            status=EnrolmentStatus.COMPLETED if completed else EnrolmentStatus.ENROLLED,
            enrolled_at=NOW - dt.timedelta(days=380), created_at=NOW,
            completed_on=TODAY - dt.timedelta(days=360) if completed else None,
        ))
        if status is not VolunteerStatus.ACTIVE:
            continue
        if not deactivated and not lapsed:
            capacity[user_id] = max_cases
        if rng.random() < 0.05:
            starts = TODAY + dt.timedelta(days=rng.randint(0, 90))
            absences.append(dict(volunteer_id=number, starts_on=starts,
                                 ends_on=starts + dt.timedelta(days=rng.randint(6, 20)), created_at=NOW))
        if rng.random() < 0.02:
            place = rng.random() < 0.5
            conflicts.append(dict(
                volunteer_id=number, kind=ConflictKind.PLACE if place else ConflictKind.PERSON,
                name=rng.choice(DISTRICTS) if place else f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                declared_at=NOW,
            ))

    case_rows, party_rows, needs_rows, allocation_rows, offer_rows = [], [], [], [], []
    waiting_ids: list[int] = []
    people = list(capacity)
    sources, offences, stages = list(ReferralSource), list(OffenceCategory), list(JusticeStage)

    def take_place() -> int:
        while True:
            user_id = rng.choice(people)
            if capacity[user_id] > 0:
                capacity[user_id] -= 1
                return user_id

    for case_id in range(1, cases + 1):
        received = TODAY - dt.timedelta(days=rng.randint(5, 200))
        offered = waiting < case_id <= offered_until
        is_waiting = case_id <= waiting or offered
        status = CaseStatus.AWAITING_ALLOCATION if is_waiting else rng.choice(WORKING_STATUSES)
        district = rng.choice(DISTRICTS)
        sensitive = rng.random() < 0.12
        case_rows.append(dict(
            id=case_id, reference=format_reference(2026, case_id), status=status, source=rng.choice(sources),
            received_on=received, offence_category=rng.choice(offences), justice_stage=rng.choice(stages),
            district=district, is_sensitive=sensitive, summary="Bench referral: damage to a neighbour's fence",
            first_contact_due_on=first_contact_due_on(received, enhanced_rights=False),
            first_contact_on=received + dt.timedelta(days=2), created_at=NOW, created_by_id=COORDINATOR_ID,
        ))
        for offset, role in enumerate((PartyRole.HARMED_PERSON, PartyRole.PERSON_RESPONSIBLE)):
            party_rows.append(dict(
                id=2 * case_id - 1 + offset, case_id=case_id, role=role,
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                address=f"{rng.randint(1, 200)} High Street, {district}",
                interpreter_language=rng.choice(LANGUAGES) if rng.random() < 0.05 else None, created_at=NOW,
            ))
        if is_waiting:
            waiting_ids.append(case_id)
            starts = TODAY + dt.timedelta(days=rng.randint(3, 30))
            needs = dict(
                case_id=case_id, meeting_mask=_random_mask(rng) | _random_mask(rng),
                languages=[rng.choice(LANGUAGES)] if rng.random() < 0.1 else [], is_complex=rng.random() < 0.05,
                expected_hours=rng.choice([10, 20, 30]), facilitators_needed=1 if rng.random() < 0.15 else 2,
                expected_start_on=starts, expected_end_on=starts + dt.timedelta(weeks=rng.randint(4, 12)),
                updated_at=NOW, updated_by_id=COORDINATOR_ID,
            )
            if case_id % NO_NEEDS_EVERY:  # drawn for every case, so the other cases are as before
                needs_rows.append(needs)
            if offered:
                offer_rows.append(dict(
                    case_id=case_id, user_id=take_place(), role=AllocationRole.LEAD, status=OfferStatus.OFFERED,
                    offered_at=NOW - dt.timedelta(days=1), offered_by_id=COORDINATOR_ID,
                    respond_by=NOW + dt.timedelta(days=2),
                ))
            continue
        starts_on = max(received, TODAY - dt.timedelta(days=rng.randint(1, 300)))
        roles_here = [AllocationRole.LEAD] + ([AllocationRole.CO_FACILITATOR] if rng.random() < 0.5 else [])
        chosen: set[int] = set()
        for role in roles_here:
            user_id = take_place()
            while user_id in chosen:
                capacity[user_id] += 1
                user_id = take_place()
            chosen.add(user_id)
            allocation_rows.append(dict(
                case_id=case_id, user_id=user_id, role=role, starts_on=starts_on, allocated_by_id=COORDINATOR_ID,
                created_at=NOW,
            ))

    with engine.begin() as connection:
        _insert(connection, User, users)
        _insert(connection, UserRole, roles)
        _insert(connection, Volunteer, volunteer_rows)
        _insert(connection, VettingCheck, checks)
        connection.execute(insert(Course), [dict(id=1, title="Restorative justice facilitator course")])
        connection.execute(insert(Cohort), [
            dict(id=number, course_id=1, name=f"Cohort {number}", capacity=600) for number in range(1, cohorts + 1)
        ])
        _insert(connection, Enrolment, enrolments)
        _insert(connection, VolunteerAbsence, absences)
        _insert(connection, ConflictOfInterest, conflicts)
        _insert(connection, Case, case_rows)
        _insert(connection, Party, party_rows)
        _insert(connection, CaseNeeds, needs_rows)
        _insert(connection, Allocation, allocation_rows)
        _insert(connection, AllocationOffer, offer_rows)
        for table in ("users", "volunteers", "cases", "parties", "training_courses", "training_cohorts"):
            connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            ))
    # Statistics and the visibility map now, not whenever autovacuum wakes (see bench/cases.py).
    begun = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    print(f"  VACUUM ANALYZE in {time.perf_counter() - begun:.1f} s", flush=True)
    return waiting_ids

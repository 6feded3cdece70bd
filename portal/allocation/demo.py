"""Demo allocation data: what each demo case awaiting allocation needs, the demo facilitators'
preferences (varied weekly availability, districts, experience and case limits; one away, one paused,
one with a declared conflict of interest) and one live offer, so the allocation pages show meaningful
suggestions and reasons. Flask-free; called by `flask demo load` after every other module's demo data
(it reads their allocations, vetting, training and supervision).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.allocation import queries, ranking, services
from portal.allocation.errors import OfferRefused
from portal.cases.models import AllocationRole, Case, PartyRole
from portal.core import account_services, settings
from portal.core.accounts import Role, User, find_user_by_email
from portal.core.clock import LONDON
from portal.training import services as training_services
from portal.training.models import Course, Enrolment, EnrolmentStatus
from portal.volunteers.profiles import availability
from portal.volunteers.profiles.models import (
    ConflictKind,
    ConflictOfInterest,
    ExperienceLevel,
    Volunteer,
    VolunteerAbsence,
    VolunteerStatus,
)
from portal.volunteers.vetting import services as vetting_services
from portal.volunteers.vetting.models import CheckKind, CheckStatus

DEMO_ALLOCATION_SETTING = "allocation.demo_loaded"
DEMO_COORDINATOR_EMAIL = "coordinator@example.org"
DEMO_VOLUNTEER_EMAIL = "volunteer@example.org"
FOUNDING_COHORT = "Founding cohort (Chelmsford, paper records)"
RECRUITS = ("Bethan Morgan", "Kwame Mensah", "Aisling Byrne", "Priyanka Desai", "Callum Fraser",
            "Hannah Goldberg", "Oluwaseun Adeyemi", "Niamh Kelly")
DISTRICTS = (
    "Basildon", "Braintree", "Brentwood", "Castle Point", "Chelmsford", "Colchester", "Epping Forest", "Harlow",
    "Maldon", "Rochford", "Tendring", "Uttlesford", "Southend-on-Sea", "Thurrock",
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
M, A, E = "morning", "afternoon", "evening"
# Weekly availability of the demo facilitators, in turn: daytimes, evenings, weekends and mixtures.
PATTERNS: tuple[dict[str, list[str]], ...] = (
    {day: [M, A] for day in WEEKDAYS},
    {"monday": [E], "tuesday": [E], "wednesday": [E], "thursday": [E], "saturday": [M, A]},
    {"tuesday": [M, A], "thursday": [M, A, E], "friday": [M]},
    {"monday": [M], "wednesday": [M, A], "friday": [A, E], "saturday": [M]},
    {day: [A, E] for day in WEEKDAYS},
    {"saturday": [M, A, E], "sunday": [M, A]},
    {"monday": [M, A, E], "tuesday": [M, A, E], "wednesday": [M]},
)
EXPERIENCE = (ExperienceLevel.SPECIALIST, ExperienceLevel.EXPERIENCED, ExperienceLevel.NEW,
              ExperienceLevel.EXPERIENCED, ExperienceLevel.SPECIALIST, ExperienceLevel.NEW)
LANGUAGES = (["English"], ["English", "Polish"], ["English"], ["English", "Welsh"], ["English", "Urdu", "Punjabi"])
# When the parties of each waiting case can meet, in turn.
MEETINGS: tuple[dict[str, list[str]], ...] = (
    {day: [M, A] for day in WEEKDAYS},
    {"tuesday": [E], "thursday": [E], "saturday": [M]},
    {"monday": [A], "wednesday": [A], "friday": [M, A]},
    {day: [M] for day in WEEKDAYS},
)


def _demo_facilitators(session: Session) -> list[Volunteer]:
    """The active demo volunteers: the main demo volunteer first, then facilitatorNN, volunteerNN and
    vettingNN."""
    rows = session.scalars(
        select(Volunteer).join(User, User.id == Volunteer.user_id)
        .where(Volunteer.status == VolunteerStatus.ACTIVE, User.email.like("%@example.org"))
        .order_by(User.email)
    ).all()
    wanted = [row for row in rows if row.user.email == DEMO_VOLUNTEER_EMAIL]
    for prefix in ("facilitator", "volunteer0", "volunteer1", "vetting"):
        wanted += [row for row in rows if row.user.email.startswith(prefix)]
    return wanted


def _recruit_facilitators(session: Session, *, coordinator: User, now: dt.datetime,
                          password_hash: str | None) -> None:
    """Facilitators who joined in the last year and hold no cases yet (the demo cases keep the longer
    serving ones busy): active, with police vetting and references cleared through the vetting service."""
    today = now.astimezone(LONDON).date()
    for number, name in enumerate(RECRUITS, start=1):
        email = f"facilitator{number:02d}@example.org"
        user = find_user_by_email(session, email) or account_services.create_user(
            session, email=email, name=name, roles=[Role.VOLUNTEER], password_hash=password_hash, now=now,
        )
        if session.scalar(select(Volunteer.id).where(Volunteer.user_id == user.id)) is not None:
            continue
        joined = now - dt.timedelta(days=120 + 20 * number)
        volunteer = Volunteer(user_id=user.id, status=VolunteerStatus.ACTIVE, offered_at=joined,
                              status_changed_at=now - dt.timedelta(days=60), created_at=joined)
        session.add(volunteer)
        session.flush()
        cleared_on = today - dt.timedelta(days=90 + 15 * number)
        for kind, level, maker, last4 in (
            (CheckKind.NPPV, "NPPV2", "Essex Police Force Vetting Unit", "4H7Q"),
            (CheckKind.REFERENCES, None, None, None),
        ):
            vetting_services.record_check(
                session, volunteer.id,
                vetting_services.CheckDetails(
                    kind=kind, status=CheckStatus.CLEARED, level=level, decision_maker=maker, reference_last4=last4,
                    submitted_on=cleared_on - dt.timedelta(days=25), cleared_on=cleared_on,
                ),
                actor=coordinator, now=now,
            )


def _coordinator(session: Session) -> User | None:
    found = find_user_by_email(session, DEMO_COORDINATOR_EMAIL)
    if found is not None and found.has_role(Role.COORDINATOR):
        return found
    return None


def _record_founding_training(session: Session, people: list[Volunteer], *, coordinator: User,
                              now: dt.datetime) -> None:
    """Facilitators who trained before the portal existed: their course completion, kept on paper until
    now, is recorded on a founding cohort two years ago, so the course rule holds for them."""
    course = session.scalar(select(Course).order_by(Course.id))
    untrained = [
        person for person in people
        if session.scalar(select(Enrolment.id).where(
            Enrolment.user_id == person.user_id, Enrolment.status == EnrolmentStatus.COMPLETED).limit(1)) is None
    ]
    if course is None or not untrained:
        return
    created = now - dt.timedelta(days=800)
    first = (created + dt.timedelta(days=30)).astimezone(LONDON).date()
    first += dt.timedelta(days=(7 - first.weekday()) % 7)  # a Monday
    days = [training_services.DayTimes(first + dt.timedelta(days=number), dt.time(9, 30), dt.time(16, 30))
            for number in range(4)]
    cohort = training_services.create_cohort(
        session, course.id,
        training_services.CohortDetails(
            name=FOUNDING_COHORT, capacity=max(len(untrained), 1), days=days, trainer_ids=[coordinator.id],
            venue_name="Chelmsford Community Hub", venue_address="Market Road, Chelmsford CM1 1XA",
        ),
        actor=coordinator, now=created,
    )
    for person in untrained:
        session.add(Enrolment(
            cohort_id=cohort.id, user_id=person.user_id, status=EnrolmentStatus.COMPLETED, enrolled_at=created,
            completed_on=days[-1].on, completed_by_id=coordinator.id, created_at=created,
        ))
    session.flush()


def _set_preferences(session: Session, people: list[Volunteer], *, now: dt.datetime) -> None:
    loads = queries.load_by_user(session, [person.user_id for person in people])
    for number, person in enumerate(people):
        pattern = PATTERNS[number % len(PATTERNS)]
        person.availability = {day: list(periods) for day, periods in pattern.items()}
        person.availability_mask = availability.to_mask(pattern)
        person.districts = [DISTRICTS[(number * 3 + offset) % len(DISTRICTS)] for offset in range(3)]
        person.experience = EXPERIENCE[number % len(EXPERIENCE)]
        person.languages = list(LANGUAGES[number % len(LANGUAGES)])
        person.drives = number % 3 != 1
        # Room for one or two more cases, except every fifth person, who is full.
        spare = 0 if number % 5 == 4 else 1 + number % 2
        person.max_cases = max(1, min(10, loads.get(person.user_id, 0) + spare))
        person.preferences_updated_at = now - dt.timedelta(days=3 + number)
    if people:
        people[0].districts = sorted(set(people[0].districts) | {"Chelmsford", "Braintree", "Maldon"})
    session.flush()


def _needs(session: Session, cases: list[Case], *, coordinator: User, now: dt.datetime) -> None:
    today = now.astimezone(LONDON).date()
    monday = queries.next_monday(today)
    for number, case in enumerate(cases):
        if queries.find_case_needs(session, case.id) is not None:
            continue
        starts_on = monday + dt.timedelta(weeks=(0, 0, 1, 2)[number % 4])
        languages = sorted({party.interpreter_language for party in case.parties if party.interpreter_language})
        services.set_case_needs(
            session, case.id,
            services.NeedsDetails(
                pattern=MEETINGS[number % len(MEETINGS)], languages=languages, is_complex=case.is_sensitive,
                expected_hours=(20, 16, 24, 12)[number % 4], facilitators_needed=1 if number % 4 == 3 else 2,
                expected_start_on=starts_on, expected_end_on=starts_on + dt.timedelta(weeks=4, days=4),
            ),
            actor=coordinator, now=now,
        )


def _circumstances(session: Session, people: list[Volunteer], first: Case | None, *, now: dt.datetime) -> None:
    """One facilitator away, one paused and one with a conflict of interest with the first waiting
    case's harmed person: chosen from outside that case's top three suggestions, so it keeps them,
    and from its other candidates first, so the coordinator can search for them and see why."""
    today = now.astimezone(LONDON).date()
    if first is None:
        return
    ranked = ranking.rank_candidates(session, first, today=today, limit=10)
    top = {candidate.user_id for candidate in ranked.candidates[:3]}
    by_user = {person.user_id: person for person in people}
    others = [by_user[c.user_id] for c in ranked.candidates[3:] if c.user_id in by_user]
    others += [person for person in people if person.user_id not in top and person not in others]
    if not others:
        return
    away = others[0]
    starts = ranked.needs.expected_start_on
    session.add(VolunteerAbsence(volunteer_id=away.id, starts_on=starts - dt.timedelta(days=2),
                                 ends_on=starts + dt.timedelta(days=30), note="Family visit in Kraków",
                                 created_at=now))
    if len(others) > 1:
        others[1].paused_until = today + dt.timedelta(days=60)
        others[1].pause_reason = "Moving house"
    harmed = next((party for party in first.parties if party.role is PartyRole.HARMED_PERSON), None)
    if len(others) > 2 and harmed is not None:
        session.add(ConflictOfInterest(
            volunteer_id=others[2].id, kind=ConflictKind.PERSON, name=harmed.name,
            details="Our children are at the same school", declared_at=now - dt.timedelta(days=40),
        ))
    session.flush()


def _one_live_offer(session: Session, cases: list[Case], people: list[Volunteer], *, coordinator: User,
                    now: dt.datetime) -> None:
    """Offer the second waiting case to the demo volunteer if they fit it, otherwise to the best candidate."""
    if len(cases) < 2:
        return
    case = cases[1]
    result = ranking.rank_candidates(session, case, today=now.astimezone(LONDON).date(), limit=10)
    if not result.candidates:
        return
    main = people[0].user_id if people else None
    chosen = next((candidate for candidate in result.candidates if candidate.user_id == main), result.candidates[0])
    try:
        services.offer_case(session, case.id, [(chosen.user_id, AllocationRole.LEAD)], actor=coordinator, now=now)
    except OfferRefused:
        return


def load_demo_allocation(session: Session, *, now: dt.datetime, password_hash: str | None = None) -> list[Case]:
    """Load the demo allocation data; returns the waiting cases given needs. Idempotent: returns []
    once loaded (or when the demo coordinator is missing). Flushes, never commits.

    Call after the demo cases, vetting, training and supervision. Adds eight recently recruited
    facilitators (facilitator01–08@example.org, signing in with `password_hash`'s password) who hold
    no cases; facilitators with no completed course are recorded as trained on a founding cohort; case
    limits leave room for one or two more cases, except for those who already hold more.
    """
    if settings.get_setting(session, DEMO_ALLOCATION_SETTING):
        return []
    coordinator = _coordinator(session)
    if coordinator is None:
        return []
    _recruit_facilitators(session, coordinator=coordinator, now=now, password_hash=password_hash)
    people = _demo_facilitators(session)
    _record_founding_training(session, people, coordinator=coordinator, now=now)
    _set_preferences(session, people, now=now)
    cases = queries.list_waiting_cases(session)
    _needs(session, cases, coordinator=coordinator, now=now)
    _circumstances(session, people, cases[0] if cases else None, now=now)
    _one_live_offer(session, cases, people, coordinator=coordinator, now=now)
    settings.set_setting(session, DEMO_ALLOCATION_SETTING, True)
    session.flush()
    return cases

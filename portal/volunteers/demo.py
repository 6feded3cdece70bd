"""Demo volunteer applications in every state, made through the services as a real applicant would.

Used by `flask demo load`; idempotent (an applicant whose e-mail exists is skipped).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from faker import Faker
from sqlalchemy.orm import Session

from portal.core import account_services
from portal.core.accounts import Role, User, find_user_by_email
from portal.core.clock import LONDON
from portal.volunteers import services
from portal.volunteers.interviews import services as interview_services
from portal.volunteers.interviews.models import Criterion, SlotMode
from portal.volunteers.models import (
    DAY_PERIODS,
    WEEKDAYS,
    Application,
    ApplicationSection,
    ApplicationStatus,
    InterviewOutcome,
)
from portal.volunteers.profiles import services as offer_services
from portal.volunteers.references import services as reference_services
from portal.volunteers.references.models import ReceivedBy

S = ApplicationStatus
Section = ApplicationSection

# Real Essex postcode districts, with a plausible sector and unit.
_POSTCODES = ("CM1 1AA", "CM2 6LB", "CO1 2AB", "CO4 3SQ", "SS1 2EG", "SS14 1DL", "RM17 6SL", "CM20 1XA",
              "CB11 3AR", "CO15 1SE", "CM9 5DL", "SS7 2LH", "CM14 4AB", "IG10 1AA")
_LANGUAGES = ("English", "English, Polish", "English, Urdu", "English, Welsh", "English, Romanian",
              "English, British Sign Language", "English, Bengali")
_EXPERIENCE = (
    "Twelve years as a special constable; I have sat on youth offender panels.",
    "Mediation training with the county's community mediation service; volunteer at Citizens Advice.",
    "Retired head teacher; led our school's restorative practice work.",
    "Support worker in a women's refuge for six years.",
    "Peer mentor with a prison charity after my own time in custody, which is now spent.",
)
_MOTIVATION = (
    "A restorative conference helped my family after a burglary and I want to offer the same to others.",
    "I believe people can repair harm when they are heard, and I have the time to give.",
    "I want to use my listening skills to help victims be part of what happens next.",
)
# How many demo applications end in each state, and the steps that take a draft there.
PLAN: tuple[tuple[ApplicationStatus, int], ...] = (
    (S.DRAFT, 3), (S.SUBMITTED, 5), (S.SHORTLISTED, 3), (S.INTERVIEW_BOOKED, 2), (S.INTERVIEWED, 2),
    (S.OFFERED, 2), (S.REJECTED, 2), (S.WITHDRAWN, 2),
)


def _answers(fake: Faker, rng: random.Random, name: str, email: str, today: dt.date) -> dict[Section, dict]:
    age = rng.randint(19, 72)
    born = today.replace(year=today.year - age) - dt.timedelta(days=rng.randint(1, 300))
    districts = sorted(rng.sample(services.DEFAULT_DISTRICTS, rng.randint(1, 3)))
    availability = {day: sorted(rng.sample(DAY_PERIODS, rng.randint(1, 2)), key=DAY_PERIODS.index)
                    for day in rng.sample(WEEKDAYS, rng.randint(2, 5))}
    referees = [fake.name() for _ in range(2)]
    return {
        Section.PERSONAL_DETAILS: {"full_name": name, "preferred_name": "", "date_of_birth": born.isoformat()},
        Section.CONTACT_DETAILS: {
            "email": email, "phone": f"07700 900{rng.randint(100, 999)}",
            "address_line_1": f"{rng.randint(1, 180)} {fake.street_name()}", "address_line_2": "",
            "town": districts[0], "postcode": rng.choice(_POSTCODES),
        },
        Section.DISTRICTS: {"districts": districts},
        Section.AVAILABILITY: {"availability": availability},
        Section.LANGUAGES: {"languages": rng.choice(_LANGUAGES)},
        Section.EXPERIENCE: {"experience": rng.choice(_EXPERIENCE)},
        Section.MOTIVATION: {"motivation": rng.choice(_MOTIVATION)},
        Section.REFEREES: {
            "referee_1_name": referees[0], "referee_1_email": f"referee.{email}",
            "referee_1_relationship": "Line manager",
            "referee_2_name": referees[1], "referee_2_email": f"second.referee.{email}",
            "referee_2_relationship": "Friend for ten years",
        },
        Section.CONVICTIONS: {"has_unspent_convictions": "no"},
        Section.EQUALITY: {"sex": rng.choice(("female", "male", "prefer_not_to_say")),
                           "age_band": "prefer_not_to_say"},
        Section.AGREEMENTS: {"privacy_notice_agreed": True, "commitment_agreed": True},
    }


# A step takes (session, application, coordinator, when) and moves the application one state on.
StageStep = Callable[[Session, Application, User, dt.datetime], None]


def _later_steps(now: dt.datetime, final: dict[int, ApplicationStatus]) -> dict[ApplicationStatus, StageStep]:
    """The interview, record and offer steps, run through the sub-packages' services at `when`.

    An application that stops at "interview booked" gets an interview in the coming days; one that
    goes further had its interview the day after booking."""

    def book(session: Session, application: Application, coordinator: User, when: dt.datetime) -> None:
        if final[application.id] is S.INTERVIEW_BOOKED:
            day = (now + dt.timedelta(days=3 + application.id % 4)).astimezone(LONDON).date()
        else:
            day = (when + dt.timedelta(days=1)).astimezone(LONDON).date()
        slot = interview_services.create_slots(
            session,
            interview_services.SlotDetails(
                day=day, start_time=dt.time(10 + application.id % 6), length_minutes=60, mode=SlotMode.IN_PERSON,
                venue="Colchester Town Hall", address="High Street, Colchester CO1 1PJ",
                interviewer_ids=[coordinator.id],
            ),
            actor=coordinator, now=when,
        )[0]
        interview_services.book_interview(session, application.id, slot.id, actor=coordinator, now=when)

    def record(session: Session, application: Application, coordinator: User, when: dt.datetime) -> None:
        interview_services.save_interview_record(
            session, application.id,
            interview_services.RecordDetails(
                scores={criterion.value: 4 for criterion in Criterion},
                notes={criterion.value: "Clear, thoughtful answers." for criterion in Criterion},
                outcome=InterviewOutcome.OFFER, reason="Warm, reflective and clear about safety.",
                panel_ids=[coordinator.id],
            ),
            actor=coordinator, now=when,
        )

    def offer(session: Session, application: Application, coordinator: User, when: dt.datetime) -> None:
        for position in (1, 2):
            reference_services.record_reference(
                session, application.id, position, received_by=ReceivedBy.PHONE,
                summary="Known them for years; reliable, calm and fair. No concerns.", is_satisfactory=True,
                note=None, actor=coordinator, now=when,
            )
        offer_services.make_offer(session, application.id, actor=coordinator, now=when)

    return {S.INTERVIEW_BOOKED: book, S.INTERVIEWED: record, S.OFFERED: offer}


def load_demo_applications(
    session: Session, *, coordinator: User, password_hash: str, now: dt.datetime, seed: int = 2026,
) -> list[Application]:
    """Create demo applicants and their applications in every state of PLAN; returns those created.

    Submitted dates spread over the last eight weeks; interviews, references and offers go through
    their own services, so the demo has slots, bookings, records and volunteer records too.
    """
    fake = Faker("en_GB")
    fake.seed_instance(seed + 1)
    rng = random.Random(seed + 1)
    final: dict[int, ApplicationStatus] = {}
    later_steps = _later_steps(now, final)
    created: list[Application] = []
    number = 0
    for status, count in PLAN:
        for _ in range(count):
            number += 1
            email = f"applicant{number:02d}@example.org"
            name = fake.name()
            if find_user_by_email(session, email) is not None:
                continue
            user = account_services.create_user(
                session, email=email, name=name, roles=[Role.APPLICANT], password_hash=password_hash, now=now,
            )
            started = now - dt.timedelta(days=rng.randint(3, 56), hours=rng.randint(0, 8))
            application = services.start_application(session, user, now=started)
            answers = _answers(fake, rng, name, email, started.date())
            sections = list(answers.items())
            if status is S.DRAFT:
                sections = sections[: rng.randint(2, 8)]
            for section, data in sections:
                services.save_section(session, application.id, section, data, actor=user, now=started)
            final[application.id] = status
            if status is not S.DRAFT:
                _advance(session, application, status, user=user, coordinator=coordinator,
                         at=started + dt.timedelta(hours=2), later_steps=later_steps)
            created.append(application)
    session.flush()
    return created


_PATH = (S.SUBMITTED, S.SHORTLISTED, S.INTERVIEW_BOOKED, S.INTERVIEWED, S.OFFERED)


def _advance(
    session: Session, application: Application, target: ApplicationStatus, *, user: User, coordinator: User,
    at: dt.datetime, later_steps: dict[ApplicationStatus, StageStep],
) -> None:
    services.submit_application(session, application.id, actor=user, now=at)
    if target is S.WITHDRAWN:
        services.withdraw_application(session, application.id, actor=user, now=at + dt.timedelta(days=2),
                                      reason="I have taken on more hours at work.")
        return
    if target is S.REJECTED:
        services.reject_application(session, application.id, "Cannot offer the availability we need this year.",
                                    actor=coordinator, now=at + dt.timedelta(days=3))
        return
    for step_number, stage in enumerate(_PATH[1: _PATH.index(target) + 1], start=1):
        when = at + dt.timedelta(days=2 * step_number)
        if stage is S.SHORTLISTED:
            services.shortlist_application(session, application.id, actor=coordinator, now=when)
        else:
            later_steps[stage](session, application, coordinator, when)

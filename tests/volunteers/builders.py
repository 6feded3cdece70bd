"""Builders for volunteer application test data: plain functions that flush (never commit).

`make_application(status=...)` fills every section through the services, then puts the application
straight into `status` without its guards, so a test can start from any point of the state machine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from portal.core.accounts import Role, User
from portal.volunteers import services
from portal.volunteers.models import Application, ApplicationSection, ApplicationStatus
from tests.builders import FIXED_NOW, make_user

NOW = FIXED_NOW  # Monday 23 November 2026, 10:00 UTC
TODAY = NOW.date()


def make_applicant(session: Session, **overrides) -> User:
    return make_user(session, roles=(Role.APPLICANT,), **overrides)


def make_coordinator(session: Session, **overrides) -> User:
    return make_user(session, roles=(Role.COORDINATOR,), **overrides)


def valid_sections(**overrides: dict[str, Any]) -> dict[ApplicationSection, dict[str, Any]]:
    """Valid answers for every section; `overrides` replace fields per section name."""
    sections: dict[ApplicationSection, dict[str, Any]] = {
        ApplicationSection.PERSONAL_DETAILS: {
            "full_name": "Siobhán O'Brien", "preferred_name": "Shiv", "date_of_birth": "1985-04-12",
        },
        ApplicationSection.CONTACT_DETAILS: {
            "email": "siobhan@example.org", "phone": "07700 900982", "address_line_1": "3 Quay Street",
            "address_line_2": "", "town": "Colchester", "postcode": "co1 2ab",
        },
        ApplicationSection.DISTRICTS: {"districts": ["Colchester", "Tendring"]},
        ApplicationSection.AVAILABILITY: {"availability": {"monday": ["evening"], "saturday": ["morning"]}},
        ApplicationSection.LANGUAGES: {"languages": "English, Irish"},
        ApplicationSection.EXPERIENCE: {"experience": "Ten years as a school governor; mediation training."},
        ApplicationSection.MOTIVATION: {"motivation": "I saw what a conference did for my neighbour."},
        ApplicationSection.REFEREES: {
            "referee_1_name": "Jean-Luc Picard", "referee_1_email": "jl@example.org",
            "referee_1_relationship": "Line manager",
            "referee_2_name": "Zoë Ní Bhriain", "referee_2_email": "zoe@example.org",
            "referee_2_relationship": "Fellow governor",
        },
        ApplicationSection.CONVICTIONS: {"has_unspent_convictions": "no"},
        ApplicationSection.AGREEMENTS: {"privacy_notice_agreed": True, "commitment_agreed": True},
    }
    for name, fields in overrides.items():
        sections[ApplicationSection(name)] = {**sections.get(ApplicationSection(name), {}), **fields}
    return sections


def fill_application(
    session: Session, application: Application, *, now: dt.datetime = NOW, skip: tuple[str, ...] = (),
    **overrides: dict[str, Any],
) -> Application:
    """Save every section of `application` with valid answers, except the sections in `skip`."""
    for section, data in valid_sections(**overrides).items():
        if section.value not in skip:
            services.save_section(session, application.id, section, data, actor=application.user, now=now)
    return application


def make_application(
    session: Session, *, status: ApplicationStatus = ApplicationStatus.DRAFT, user: User | None = None,
    now: dt.datetime = NOW, complete: bool = True, **overrides: dict[str, Any],
) -> Application:
    """An application of a new applicant (or `user`), filled in, in `status`."""
    user = user or make_applicant(session)
    application = services.start_application(session, user, now=now)
    if complete:
        fill_application(session, application, now=now, **overrides)
    if status != ApplicationStatus.DRAFT:
        application.status = status
        application.submitted_at = now
        application.status_changed_at = now
        session.flush()
    return application

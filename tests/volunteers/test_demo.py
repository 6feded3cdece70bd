"""Demo applications: every state, made through the services, loaded once."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from portal.core.audit import AuditEntry
from portal.core.passwords import hash_password
from portal.volunteers.demo import PLAN, load_demo_applications
from portal.volunteers.interviews.models import InterviewBooking, InterviewRecord
from portal.volunteers.models import Application, ApplicationStatus
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from tests.volunteers.builders import NOW, make_coordinator


def test_demo_applications_cover_every_state_once_loaded(session):
    coordinator = make_coordinator(session)
    password_hash = hash_password("restorative-demo-2026")
    created = load_demo_applications(session, coordinator=coordinator, password_hash=password_hash, now=NOW)
    statuses = Counter(session.scalars(select(Application.status)))
    assert set(statuses) == set(ApplicationStatus)
    assert statuses == Counter(dict(PLAN))
    assert len(created) == sum(count for _status, count in PLAN)
    submitted = [application for application in created if application.submitted_at is not None]
    assert all(application.reference.startswith("APP-") for application in submitted)
    assert all(application.submitted_at <= NOW for application in submitted)
    # Went through the services: each submission is audited.
    audited = session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "application.submitted"))
    assert audited == len(submitted)
    # Interviews, records and offers went through their own services.
    booked = session.scalars(select(InterviewBooking)).all()
    assert len(booked) == 6 and all(booking.slot.starts_at > booking.booked_at for booking in booked)
    waiting = [b for b in booked if b.application.status == ApplicationStatus.INTERVIEW_BOOKED]
    assert waiting and all(booking.slot.starts_at > NOW for booking in waiting)
    assert session.scalar(select(func.count(InterviewRecord.id))) == 4
    volunteers = session.scalars(select(Volunteer)).all()
    assert len(volunteers) == 2 and {volunteer.status for volunteer in volunteers} == {VolunteerStatus.VETTING}
    again = load_demo_applications(session, coordinator=coordinator, password_hash=password_hash, now=NOW)
    assert again == [] and session.scalar(select(func.count(Application.id))) == len(created)

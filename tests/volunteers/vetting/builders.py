"""Builders for vetting test data: plain functions that flush (never commit)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from portal.core.accounts import Role, User
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from portal.volunteers.vetting import services
from portal.volunteers.vetting.models import CheckKind, CheckStatus, VettingCheck
from tests.builders import FIXED_NOW, make_user

NOW = FIXED_NOW  # Monday 23 November 2026, 10:00 UTC
TODAY = NOW.date()
LEVEL = {CheckKind.NPPV: "NPPV2", CheckKind.NSV: "SC", CheckKind.DBS: "ENHANCED_BARRED", CheckKind.REFERENCES: None}


def make_coordinator(session: Session, **overrides) -> User:
    return make_user(session, roles=(Role.COORDINATOR,), **overrides)


def make_volunteer(session: Session, *, status: VolunteerStatus = VolunteerStatus.ACTIVE, **overrides) -> Volunteer:
    """A volunteer record (with its account, volunteer role) and no checks."""
    user = make_user(session, roles=(Role.VOLUNTEER,), **overrides)
    volunteer = Volunteer(user=user, user_id=user.id, status=status)
    session.add(volunteer)
    session.flush()
    return volunteer


def details(kind: CheckKind = CheckKind.NPPV, status: CheckStatus = CheckStatus.CLEARED, **overrides):
    values = {"level": LEVEL[kind], "reference_last4": "7K2Q", "decision_maker": "Essex Police Vetting Unit"}
    if status is CheckStatus.CLEARED:
        values.setdefault("cleared_on", TODAY - dt.timedelta(days=30))
        values["submitted_on"] = values["cleared_on"] - dt.timedelta(days=20)
    if status is CheckStatus.SUBMITTED:
        values["submitted_on"] = TODAY - dt.timedelta(days=10)
    values.update(overrides)
    if "cleared_on" in overrides and status is CheckStatus.CLEARED and "submitted_on" not in overrides:
        values["submitted_on"] = overrides["cleared_on"] - dt.timedelta(days=20)
    return services.CheckDetails(kind=kind, status=status, **values)


def record(session: Session, volunteer: Volunteer, kind: CheckKind = CheckKind.NPPV,
           status: CheckStatus = CheckStatus.CLEARED, *, actor: User | None = None, now: dt.datetime = NOW,
           renews_id: int | None = None, **overrides) -> VettingCheck:
    """Record a check through the service (so it obeys every rule)."""
    actor = actor or make_coordinator(session)
    return services.record_check(session, volunteer.id, details(kind, status, **overrides), actor=actor, now=now,
                                 renews_id=renews_id)


def make_cleared_volunteer(session: Session, *, cleared_on: dt.date = TODAY - dt.timedelta(days=30),
                           **overrides) -> Volunteer:
    """A volunteer with every default-required check cleared: police vetting on `cleared_on`, references."""
    volunteer = make_volunteer(session, **overrides)
    actor = make_coordinator(session)
    record(session, volunteer, CheckKind.NPPV, actor=actor, cleared_on=cleared_on)
    record(session, volunteer, CheckKind.REFERENCES, actor=actor, cleared_on=cleared_on, reference_last4=None)
    return volunteer


def add_check(session: Session, volunteer: Volunteer, kind: CheckKind, status: CheckStatus, *,
              cleared_on: dt.date | None = None, expires_on: dt.date | None = None,
              decided_on: dt.date | None = None, submitted_on: dt.date | None = None,
              created_at: dt.datetime = NOW) -> VettingCheck:
    """A check row exactly as given, past the service's rules: for the dashboard's edge cases and for
    checking its SQL against its Python on any data."""
    check = VettingCheck(volunteer_id=volunteer.id, kind=kind, status=status, level=LEVEL[kind],
                         cleared_on=cleared_on, expires_on=expires_on, decided_on=decided_on,
                         submitted_on=submitted_on, created_at=created_at, updated_at=created_at)
    session.add(check)
    session.flush()
    return check

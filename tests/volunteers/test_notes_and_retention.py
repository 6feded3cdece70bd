"""Coordinators' notes on applications, and erasing closed applications after the retention period."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from portal.core import settings
from portal.core.audit import AuditEntry
from portal.core.errors import NotFound, PermissionDenied, ValidationFailed
from portal.volunteers import queries, services, signals
from portal.volunteers.interviews import queries as interview_queries
from portal.volunteers.interviews import services as interview_services
from portal.volunteers.interviews.models import Criterion, InterviewScore
from portal.volunteers.models import (
    Application,
    ApplicationNote,
    ApplicationStatus,
    EqualityMonitoring,
    InterviewOutcome,
    Referee,
)
from portal.volunteers.references import queries as reference_queries
from portal.volunteers.references import services as reference_services
from tests.volunteers.builders import NOW, make_applicant, make_application, make_coordinator

S = ApplicationStatus


def test_a_coordinator_adds_notes_which_list_newest_first(session):
    coordinator = make_coordinator(session)
    application = make_application(session, status=S.SUBMITTED)
    services.add_application_note(session, application.id, "Rang: prefers evenings.", actor=coordinator, now=NOW)
    later = NOW + dt.timedelta(hours=1)
    services.add_application_note(session, application.id, "Siobhán's referee is O'Neill.", actor=coordinator,
                                  now=later)
    notes = queries.list_application_notes(session, application.id)
    assert [note.text for note in notes] == ["Siobhán's referee is O'Neill.", "Rang: prefers evenings."]
    assert notes[0].author_id == coordinator.id
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action == "application.note_added")).all()
    assert len(actions) == 2


def test_the_same_note_twice_in_a_moment_is_one_note_but_later_it_is_a_second(session):
    coordinator = make_coordinator(session)
    application = make_application(session, status=S.SUBMITTED)
    first = services.add_application_note(session, application.id, "Called back", actor=coordinator, now=NOW)
    again = services.add_application_note(session, application.id, "Called back", actor=coordinator,
                                          now=NOW + dt.timedelta(seconds=5))
    assert again.id == first.id
    services.add_application_note(session, application.id, "Called back", actor=coordinator,
                                  now=NOW + dt.timedelta(hours=3))
    assert session.scalar(select(func.count(ApplicationNote.id))) == 2


@pytest.mark.parametrize(("text", "message"), [("   ", "Enter the note"), ("x" * 5001, "5,000 characters or fewer")])
def test_an_empty_or_too_long_note_is_refused_and_nothing_is_saved(session, text, message):
    coordinator = make_coordinator(session)
    application = make_application(session, status=S.SUBMITTED)
    with pytest.raises(ValidationFailed) as refused:
        services.add_application_note(session, application.id, text, actor=coordinator, now=NOW)
    assert message in refused.value.reasons[0]
    assert session.scalar(select(func.count(ApplicationNote.id))) == 0


def test_only_coordinators_write_notes_and_never_on_drafts(session):
    applicant = make_applicant(session)
    application = make_application(session, status=S.SUBMITTED, user=applicant)
    with pytest.raises(PermissionDenied):
        services.add_application_note(session, application.id, "Mine", actor=applicant, now=NOW)
    draft = make_application(session)
    with pytest.raises(NotFound):
        services.add_application_note(session, draft.id, "Hi", actor=make_coordinator(session), now=NOW)


def _close(session, status, *, days_ago: int) -> Application:
    application = make_application(session, status=status, equality={"sex": "female", "religion": "none"})
    application.status_changed_at = NOW - dt.timedelta(days=days_ago)
    services.add_application_note(session, application.id, "A note", actor=make_coordinator(session), now=NOW)
    session.flush()
    return application


def test_closed_applications_are_erased_after_the_retention_period_and_not_before(session):
    heard = []

    def hear(application, **_kwargs):
        heard.append(application)

    signals.application_anonymised.connect(hear)
    try:
        old = _close(session, S.WITHDRAWN, days_ago=366)
        recent = _close(session, S.REJECTED, days_ago=364)
        live = make_application(session, status=S.SUBMITTED)
        live.status_changed_at = NOW - dt.timedelta(days=800)
        assert services.anonymise_closed_applications(session, now=NOW) == 1
    finally:
        signals.application_anonymised.disconnect(hear)
    assert heard == [old]
    assert old.anonymised_at == NOW and old.full_name is None and old.email is None
    assert old.date_of_birth is None and old.has_unspent_convictions is None and old.equality_link is None
    assert old.reference.startswith("APP-") and old.status == S.WITHDRAWN and old.districts
    assert session.scalars(select(Referee).where(Referee.application_id == old.id)).all() == []
    assert queries.list_application_notes(session, old.id) == []
    assert session.scalar(select(func.count(EqualityMonitoring.id))) == 1  # the recent one's answers stay
    assert recent.full_name and live.full_name
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "application.anonymised")) is not None
    # Run again: nothing more to do.
    assert services.anonymise_closed_applications(session, now=NOW) == 0


def test_the_retention_period_is_a_setting_and_the_erasure_date_follows_it(session):
    application = _close(session, S.REJECTED, days_ago=40)
    assert services.erasure_date(session, application) == (NOW + dt.timedelta(days=325)).date()
    settings.set_setting(session, services.CLOSED_RETENTION_SETTING, 30)
    assert services.erasure_date(session, application) == (NOW - dt.timedelta(days=10)).date()
    assert services.anonymise_closed_applications(session, now=NOW) == 1
    assert services.erasure_date(session, make_application(session, status=S.SUBMITTED)) is None


def test_erasing_an_application_also_erases_its_references(session):
    coordinator = make_coordinator(session)
    application = make_application(session, status=S.INTERVIEWED)
    for position in (1, 2):
        reference_services.record_reference(
            session, application.id, position, received_by="phone", summary="Spoke to Jean-Luc: no concerns.",
            is_satisfactory="yes", note="", actor=coordinator, now=NOW,
        )
    services.withdraw_application(session, application.id, actor=application.user, now=NOW)
    assert services.anonymise_closed_applications(session, now=NOW + dt.timedelta(days=366)) == 1
    assert reference_queries.list_references(session, application.id) == []


def test_erasing_an_application_also_erases_its_interview_record(session):
    coordinator = make_coordinator(session)
    application = make_application(session, status=S.INTERVIEW_BOOKED)
    interview_services.save_interview_record(
        session, application.id,
        interview_services.RecordDetails(
            scores={criterion.value: 3 for criterion in Criterion},
            notes={criterion.value: "Talked about her brother's case." for criterion in Criterion},
            outcome=InterviewOutcome.REJECT, reason="Not yet ready.", panel_ids=[coordinator.id],
        ),
        actor=coordinator, now=NOW,
    )
    services.reject_application(session, application.id, "Not yet ready.", actor=coordinator, now=NOW)
    assert services.anonymise_closed_applications(session, now=NOW + dt.timedelta(days=366)) == 1
    assert interview_queries.find_record(session, application.id) is None
    assert session.scalar(select(func.count()).select_from(InterviewScore)) == 0

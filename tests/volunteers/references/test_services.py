"""Reference services on a plain Session: requesting, the single-use link, answers, decisions, recording."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.core.accounts import Role
from portal.core.audit import AuditEntry
from portal.core.errors import NotFound, PermissionDenied, RuleViolation
from portal.volunteers.models import ApplicationStatus
from portal.volunteers.references import queries, services
from portal.volunteers.references.errors import LinkState, ReferenceInvalid, ReferenceLinkUnusable
from portal.volunteers.references.models import ReceivedBy, Reference, ReferenceLink, ReferenceStatus, WouldRecommend
from tests.builders import make_user
from tests.volunteers.builders import NOW, make_applicant, make_application, make_coordinator
from tests.volunteers.references.helpers import GOOD_ANSWERS, LINK_PREFIX, messages, requested, tokens_sent_to

S = ApplicationStatus


def _actions(session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# ---------------------------------------------------------------------------------------------
# Requesting


def test_requesting_emails_both_referees_a_link_and_stores_only_its_digest(session):
    application, references, _ = requested(session, status=S.SHORTLISTED)
    assert [(r.position, r.email, r.status) for r in references] == [
        (1, "jl@example.org", ReferenceStatus.REQUESTED), (2, "zoe@example.org", ReferenceStatus.REQUESTED),
    ]
    sent = messages(session, "volunteers/reference_request")
    assert [m.recipients for m in sent] == [["jl@example.org"], ["zoe@example.org"]]
    assert "Siobhán O'Brien" in sent[0].subject and "Dear Jean-Luc Picard" in sent[0].text_body
    assert "Dear Zoë Ní Bhriain" in sent[1].text_body
    token = tokens_sent_to(session, "zoe@example.org")[0]
    digests = list(session.scalars(select(ReferenceLink.token_digest)))
    assert len(digests) == 2 and token not in digests and all(len(d) == 64 for d in digests)
    link = session.scalar(select(ReferenceLink).where(ReferenceLink.reference_id == references[1].id))
    assert link.expires_at == NOW + dt.timedelta(days=28)
    assert len(_actions(session, "reference.requested")) == 2


def test_requesting_again_does_not_duplicate_references_or_emails(session):
    application, first, coordinator = requested(session)
    again = services.request_references(session, application.id, link_prefix=LINK_PREFIX, actor=coordinator,
                                        now=NOW + dt.timedelta(hours=1))
    assert [r.id for r in again] == [r.id for r in first]
    assert len(session.scalars(select(Reference)).all()) == 2
    assert len(messages(session, "volunteers/reference_request")) == 2


@pytest.mark.parametrize("status", [S.DRAFT, S.SUBMITTED, S.REJECTED, S.WITHDRAWN])
def test_references_cannot_be_requested_before_the_shortlist_or_once_closed(session, status):
    coordinator = make_coordinator(session)
    application = make_application(session, status=status)
    with pytest.raises((RuleViolation, NotFound)) as raised:
        services.request_references(session, application.id, link_prefix=LINK_PREFIX, actor=coordinator, now=NOW)
    if status != S.DRAFT:
        assert "shortlisted" in str(raised.value) and status.label in str(raised.value)
    assert session.scalars(select(Reference)).all() == []


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.VOLUNTEER, Role.TRAINER, Role.ADMIN])
def test_only_coordinators_request_references(session, role):
    application = make_application(session, status=S.SHORTLISTED)
    with pytest.raises(PermissionDenied):
        services.request_references(session, application.id, link_prefix=LINK_PREFIX,
                                    actor=make_user(session, roles=(role,)), now=NOW)


def test_resending_to_a_corrected_address_revokes_the_old_link(session):
    application, references, coordinator = requested(session)
    old_token = tokens_sent_to(session, "jl@example.org")[0]
    services.resend_reference_request(session, application.id, references[0].id, "  JL.Picard@Example.org ",
                                      link_prefix=LINK_PREFIX, actor=coordinator, now=NOW + dt.timedelta(days=2))
    assert references[0].email == "jl.picard@example.org" and references[0].generation == 1
    new_token = tokens_sent_to(session, "jl.picard@example.org")[0]
    assert queries.find_link(session, old_token, now=NOW + dt.timedelta(days=2)).state is LinkState.EXPIRED
    assert queries.find_link(session, new_token, now=NOW + dt.timedelta(days=2)).state is LinkState.VALID
    audit = _actions(session, "reference.resent")[0]
    assert audit.details["previous_email"] == "jl@example.org"


def test_resending_needs_a_valid_address(session):
    application, references, coordinator = requested(session)
    with pytest.raises(ReferenceInvalid) as raised:
        services.resend_reference_request(session, application.id, references[0].id, "not-an-address",
                                          link_prefix=LINK_PREFIX, actor=coordinator, now=NOW)
    assert raised.value.errors == {"email": ["Enter an email address in the correct format, like name@example.com"]}


def test_a_reference_of_another_application_is_not_found(session):
    application, references, coordinator = requested(session)
    other = make_application(session, status=S.SHORTLISTED)
    with pytest.raises(NotFound):
        services.resend_reference_request(session, other.id, references[0].id, "a@example.org",
                                          link_prefix=LINK_PREFIX, actor=coordinator, now=NOW)


# ---------------------------------------------------------------------------------------------
# The referee's link and answers


def test_submitting_stores_the_answers_as_typed_and_spends_the_link(session):
    application, references, coordinator = requested(session)
    token = tokens_sent_to(session, "zoe@example.org")[0]
    later = NOW + dt.timedelta(days=3)
    reference = services.submit_reference(session, token, GOOD_ANSWERS, now=later)
    assert reference.status == ReferenceStatus.RECEIVED and reference.received_by == ReceivedBy.FORM
    assert reference.received_at == later
    assert reference.referee_name == "Zoë Ní Bhriain"
    assert reference.capacity == "Fellow governor at St Helena's school"
    assert reference.would_recommend == WouldRecommend.YES and reference.has_concerns is False
    assert queries.find_link(session, token, now=later).state is LinkState.USED
    notice = messages(session, "volunteers/reference_received")
    assert [m.recipients for m in notice] == [[coordinator.email]]
    assert _actions(session, "reference.received")[0].actor_id is None


def test_submitting_twice_keeps_one_reference_and_says_it_was_used(session):
    requested(session)
    token = tokens_sent_to(session, "zoe@example.org")[0]
    services.submit_reference(session, token, GOOD_ANSWERS, now=NOW)
    with pytest.raises(ReferenceLinkUnusable) as raised:
        services.submit_reference(session, token, {**GOOD_ANSWERS, "reliability": "Changed"}, now=NOW)
    assert raised.value.state is LinkState.USED
    reference = session.scalar(select(Reference).where(Reference.position == 2))
    assert reference.reliability == GOOD_ANSWERS["reliability"]
    assert len(_actions(session, "reference.received")) == 1


def test_an_expired_link_cannot_be_used(session):
    requested(session)
    token = tokens_sent_to(session, "zoe@example.org")[0]
    assert queries.find_link(session, token, now=NOW + dt.timedelta(days=27, hours=23)).state is LinkState.VALID
    with pytest.raises(ReferenceLinkUnusable) as raised:
        services.submit_reference(session, token, GOOD_ANSWERS, now=NOW + dt.timedelta(days=28))
    assert raised.value.state is LinkState.EXPIRED
    assert session.scalar(select(Reference).where(Reference.position == 2)).status == ReferenceStatus.REQUESTED


def test_a_wrong_token_is_unknown(session):
    requested(session)
    with pytest.raises(ReferenceLinkUnusable) as raised:
        services.check_link(session, "not-a-token", now=NOW)
    assert raised.value.state is LinkState.UNKNOWN


def test_a_link_stops_working_when_the_application_is_withdrawn(session):
    application, _, _ = requested(session)
    token = tokens_sent_to(session, "zoe@example.org")[0]
    application.status = S.WITHDRAWN
    session.flush()
    assert queries.find_link(session, token, now=NOW).state is LinkState.EXPIRED


def test_missing_and_too_long_answers_are_all_reported(session):
    requested(session)
    token = tokens_sent_to(session, "zoe@example.org")[0]
    answers = {**GOOD_ANSWERS, "known_for": "", "suitability": "x" * 2001, "has_concerns": "yes", "concerns": "",
               "would_recommend": "maybe", "confirmed": False}
    with pytest.raises(ReferenceInvalid) as raised:
        services.submit_reference(session, token, answers, now=NOW)
    assert raised.value.errors == {
        "known_for": ["Enter how long you have known the applicant"],
        "suitability": ["Your answer about suitability must be 2,000 characters or fewer (you have entered 2,001)"],
        "concerns": ["Describe your concerns"],
        "would_recommend": ["Select whether you would recommend the applicant as a volunteer"],
        "confirmed": ["Confirm that what you have written is true to the best of your knowledge"],
    }
    assert queries.find_link(session, token, now=NOW).state is LinkState.VALID


# ---------------------------------------------------------------------------------------------
# Decisions and references by post or phone


def test_a_received_reference_is_recorded_satisfactory_or_not_with_a_note(session):
    application, references, coordinator = requested(session)
    services.submit_reference(session, tokens_sent_to(session, "zoe@example.org")[0], GOOD_ANSWERS, now=NOW)
    with pytest.raises(ReferenceInvalid) as raised:
        services.decide_reference(session, application.id, references[1].id, is_satisfactory="no", note="",
                                  actor=coordinator, now=NOW)
    assert raised.value.errors == {"note": ["Enter a note saying why the reference is not satisfactory"]}
    services.decide_reference(session, application.id, references[1].id, is_satisfactory="yes",
                              note="Warm and specific.", actor=coordinator, now=NOW)
    assert references[1].is_satisfactory is True and references[1].decision_note == "Warm and specific."
    assert references[1].decided_by_id == coordinator.id
    assert _actions(session, "reference.decided")[0].details["satisfactory"] is True
    assert queries.list_satisfactory_positions(session, application.id) == {2}


def test_a_reference_not_yet_received_cannot_be_decided(session):
    application, references, coordinator = requested(session)
    with pytest.raises(RuleViolation, match="has not been received"):
        services.decide_reference(session, application.id, references[0].id, is_satisfactory="yes", note=None,
                                  actor=coordinator, now=NOW)


def test_a_reference_by_phone_is_recorded_without_a_request_and_old_links_stop(session):
    coordinator = make_coordinator(session)
    application = make_application(session, status=S.INTERVIEWED)
    reference = services.record_reference(
        session, application.id, 1, received_by="phone", summary="Spoke to Jean-Luc: très fiable, O'Neill's mentor.",
        is_satisfactory="yes", note="", actor=coordinator, now=NOW,
    )
    assert reference.status == ReferenceStatus.RECEIVED and reference.received_by == ReceivedBy.PHONE
    assert reference.summary == "Spoke to Jean-Luc: très fiable, O'Neill's mentor."
    assert reference.is_satisfactory is True and reference.referee_name == "Jean-Luc Picard"
    with pytest.raises(RuleViolation, match="already been received"):
        services.record_reference(session, application.id, 1, received_by="post", summary="Again",
                                  is_satisfactory="yes", note="", actor=coordinator, now=NOW)
    assert len(_actions(session, "reference.recorded")) == 1


def test_recording_by_post_checks_every_answer(session):
    coordinator = make_coordinator(session)
    application = make_application(session, status=S.INTERVIEWED)
    with pytest.raises(ReferenceInvalid) as raised:
        services.record_reference(session, application.id, 2, received_by="form", summary="",
                                  is_satisfactory=None, note="", actor=coordinator, now=NOW)
    assert set(raised.value.errors) == {"received_by", "summary", "is_satisfactory"}


def test_recording_a_requested_reference_by_post_spends_its_link(session):
    application, references, coordinator = requested(session)
    token = tokens_sent_to(session, "jl@example.org")[0]
    services.record_reference(session, application.id, 1, received_by="post", summary="Letter received.",
                              is_satisfactory="no", note="Describes two missed commitments.", actor=coordinator,
                              now=NOW)
    assert queries.find_link(session, token, now=NOW).state is LinkState.USED
    assert references[0].is_satisfactory is False


def test_applicants_cannot_record_or_decide(session):
    application, references, _ = requested(session)
    applicant = make_applicant(session)
    with pytest.raises(PermissionDenied):
        services.record_reference(session, application.id, 1, received_by="post", summary="Mine",
                                  is_satisfactory="yes", note="", actor=applicant, now=NOW)
    with pytest.raises(PermissionDenied):
        services.decide_reference(session, application.id, references[0].id, is_satisfactory="yes", note="",
                                  actor=application.user, now=NOW)

"""Applying to volunteer: drafts, section validation, the task list, submission and its e-mail,
withdrawal, rejection, duplicates, the coordinator's queue, draft reminders and expiry."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import event, func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.core import settings
from portal.core.accounts import User
from portal.core.audit import AuditEntry
from portal.core.errors import NotFound, PermissionDenied, RuleViolation
from portal.core.outbox import OutboxMessage
from portal.volunteers import permissions, queries, services
from portal.volunteers.errors import ApplicationIncomplete, SectionInvalid
from portal.volunteers.models import (
    Application,
    ApplicationSection,
    ApplicationStatus,
    EqualityMonitoring,
    Referee,
)
from portal.volunteers.queries import ApplicationFilter
from tests.conftest import POSTGRES_URL
from tests.volunteers.builders import (
    NOW,
    make_applicant,
    make_application,
    make_coordinator,
    valid_sections,
)

S = ApplicationStatus
Section = ApplicationSection


def _errors(session, application, section, **fields) -> dict[str, list[str]]:
    data = {**valid_sections().get(Section(section), {}), **fields}
    with pytest.raises(SectionInvalid) as invalid:
        services.save_section(session, application.id, section, data, actor=application.user, now=NOW)
    assert invalid.value.reasons == [m for messages in invalid.value.errors.values() for m in messages]
    return invalid.value.errors


def _save(session, application, section, **fields) -> Application:
    data = {**valid_sections().get(Section(section), {}), **fields}
    return services.save_section(session, application.id, section, data, actor=application.user, now=NOW)


# ---------------------------------------------------------------------------------------------
# Starting


def test_starting_twice_returns_the_same_draft_with_a_readable_reference(session):
    applicant = make_applicant(session, name="Ama Mensah")
    first = services.start_application(session, applicant, now=NOW)
    second = services.start_application(session, applicant, now=NOW)

    assert second.id == first.id
    assert first.reference == "APP-2026-00001"
    assert first.status == S.DRAFT
    assert first.full_name == "Ama Mensah" and first.email == applicant.email
    assert session.scalar(select(func.count(Application.id))) == 1
    assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "application.started")) == 1
    other = services.start_application(session, make_applicant(session), now=NOW)
    assert other.reference == "APP-2026-00002"


def test_only_applicants_start_applications(session):
    with pytest.raises(PermissionDenied, match="Only applicants"):
        services.start_application(session, make_coordinator(session), now=NOW)


def test_a_second_application_is_refused_while_one_is_in_progress_but_allowed_after_withdrawal(session):
    application = make_application(session, status=S.SUBMITTED)
    with pytest.raises(RuleViolation, match=f"already have an application in progress \\({application.reference}"):
        services.start_application(session, application.user, now=NOW)

    services.withdraw_application(session, application.id, actor=application.user, now=NOW)
    again = services.start_application(session, application.user, now=NOW)
    assert again.id != application.id and again.status == S.DRAFT


# ---------------------------------------------------------------------------------------------
# Personal details


@pytest.mark.parametrize("name", ["O'Brien Kelly", "Zoë Ní Bhriain", "Jean-Luc Picard", "Siobhán O’Neill",
                                  "Dr. Ngozi Okonjo-Iweala", "José María Ñúñez"])
def test_names_with_apostrophes_accents_and_hyphens_are_kept_as_typed(session, name):
    application = make_application(session, complete=False)
    saved = _save(session, application, "personal_details", full_name=f"  {name} ", preferred_name=name)
    assert saved.full_name == name
    assert saved.preferred_name == name


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"full_name": ""}, "full_name", "Enter your full name"),
        ({"full_name": "R2D2"}, "full_name",
         "Your full name must only include letters, spaces, hyphens, apostrophes and full stops"),
        ({"full_name": "A" * 101}, "full_name",
         "Your full name must be 100 characters or fewer (you have entered 101)"),
        ({"date_of_birth": ""}, "date_of_birth", "Enter your date of birth"),
        ({"date_of_birth": "1990-02-30"}, "date_of_birth", "Date of birth must be a real date"),
        ({"date_of_birth": {"day": "31", "month": "4", "year": "1990"}}, "date_of_birth",
         "Date of birth must be a real date"),
        ({"date_of_birth": "2027-01-01"}, "date_of_birth", "Date of birth must be in the past"),
        ({"date_of_birth": "2008-11-24"}, "date_of_birth", "You must be 18 or over to volunteer with us"),
        ({"date_of_birth": "1850-01-01"}, "date_of_birth", "Date of birth must be after 1900"),
    ],
)
def test_personal_details_refused_with_a_clear_message(session, fields, field, message):
    application = make_application(session, complete=False)
    assert _errors(session, application, "personal_details", **fields) == {field: [message]}
    assert application.date_of_birth is None


def test_an_applicant_who_turns_18_today_may_apply_and_a_date_may_come_as_day_month_year(session):
    application = make_application(session, complete=False)
    saved = _save(session, application, "personal_details",
                  date_of_birth={"day": "23", "month": "11", "year": "2008"})
    assert saved.date_of_birth == dt.date(2008, 11, 23)


def test_every_problem_of_a_section_is_reported_at_once(session):
    application = make_application(session, complete=False)
    errors = _errors(session, application, "personal_details", full_name="", preferred_name="X1",
                     date_of_birth="2030-01-01")
    assert list(errors) == ["full_name", "preferred_name", "date_of_birth"]


# ---------------------------------------------------------------------------------------------
# Contact details and postcodes


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("sw1a1aa", "SW1A 1AA"), (" SW1A  1AA ", "SW1A 1AA"), ("co1 2ab", "CO1 2AB"), ("m11ae", "M1 1AE"),
     ("b338th", "B33 8TH"), ("cr26xh", "CR2 6XH"), ("dn551pt", "DN55 1PT"), ("gir0aa", "GIR 0AA"),
     ("W1A0AX", "W1A 0AX"), ("EC1A 1BB", "EC1A 1BB")],
)
def test_uk_postcodes_are_normalised(raw, normalised):
    assert services.normalise_postcode(raw) == normalised


@pytest.mark.parametrize("raw", ["", "SW1A", "12345", "SW1A 1AAA", "Q1 1AA", "SW1A 1CA", "not a postcode"])
def test_things_that_are_not_uk_postcodes_are_refused(raw):
    assert services.normalise_postcode(raw) is None


def test_contact_details_are_stored_normalised(session):
    application = make_application(session, complete=False)
    saved = _save(session, application, "contact_details", email=" Siobhan@Example.ORG ", postcode="co1 2ab")
    assert saved.email == "siobhan@example.org"
    assert saved.postcode == "CO1 2AB"
    assert saved.phone == "07700 900982"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": ""}, "email", "Enter your email address"),
        ({"email": "siobhan.example.org"}, "email",
         "Enter your email address in the correct format, like name@example.com"),
        ({"phone": "12345"}, "phone",
         "Enter a UK telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"),
        ({"postcode": ""}, "postcode", "Enter your postcode"),
        ({"postcode": "ZZ99"}, "postcode", "Enter a full UK postcode, like AA1 1AA"),
        ({"address_line_1": ""}, "address_line_1", "Enter your building and street"),
        ({"town": "T" * 61}, "town", "Your town or city must be 60 characters or fewer (you have entered 61)"),
    ],
)
def test_contact_details_refused_with_a_clear_message(session, fields, field, message):
    application = make_application(session, complete=False)
    assert _errors(session, application, "contact_details", **fields) == {field: [message]}


def test_an_international_format_uk_phone_number_is_accepted(session):
    application = make_application(session, complete=False)
    assert _save(session, application, "contact_details", phone="+44 808 157 0192").phone == "+44 808 157 0192"


# ---------------------------------------------------------------------------------------------
# Districts, availability, languages, free text


def test_districts_come_from_the_configured_list_and_keep_its_order(session):
    application = make_application(session, complete=False)
    assert _save(session, application, "districts", districts=["Tendring", "Basildon"]).districts == [
        "Basildon", "Tendring"]
    assert _errors(session, application, "districts", districts=[]) == {
        "districts": ["Select at least one district you can volunteer in"]}
    assert _errors(session, application, "districts", districts=["Atlantis"]) == {
        "districts": ["Select districts from the list (not Atlantis)"]}

    settings.set_setting(session, services.DISTRICTS_SETTING, ["Canterbury", "Dover"])
    assert _save(session, application, "districts", districts=["Dover"]).districts == ["Dover"]


def test_availability_is_stored_per_weekday_in_order(session):
    application = make_application(session, complete=False)
    saved = _save(session, application, "availability",
                  availability={"friday": ["evening", "morning"], "monday": ["afternoon"], "sunday": []})
    assert saved.availability == {"monday": ["afternoon"], "friday": ["morning", "evening"]}
    assert saved.is_available("friday", "evening") and not saved.is_available("sunday", "morning")
    assert _errors(session, application, "availability", availability={}) == {
        "availability": ["Select at least one time when you are usually available"]}
    assert _errors(session, application, "availability", availability={"monday": ["night"]}) == {
        "monday": ["Choose morning, afternoon or evening for Monday"]}


def test_languages_are_deduplicated_and_limited(session):
    application = make_application(session, complete=False)
    assert _save(session, application, "languages", languages="English, Polish, english").languages == [
        "English", "Polish"]
    assert _errors(session, application, "languages", languages="") == {
        "languages": ["Enter at least one language you speak"]}


def test_long_text_is_refused_not_cut_and_says_how_long_it_is(session):
    application = make_application(session, complete=False)
    errors = _errors(session, application, "motivation", motivation="x" * 2105)
    assert errors == {"motivation": [
        "Why you want to volunteer must be 2,000 characters or fewer (you have entered 2,105)"]}
    assert application.motivation is None
    assert _save(session, application, "motivation", motivation="y" * 2000).motivation == "y" * 2000


# ---------------------------------------------------------------------------------------------
# Referees, convictions, agreements


def test_two_referees_are_kept_and_updated_in_place(session):
    application = make_application(session)
    assert [(r.position, r.name) for r in application.referees] == [(1, "Jean-Luc Picard"), (2, "Zoë Ní Bhriain")]
    _save(session, application, "referees", referee_2_name="Mary O'Hara", referee_2_email="mary@example.org")
    assert session.scalar(select(func.count(Referee.id))) == 2
    assert application.referees[1].name == "Mary O'Hara"


def test_referees_must_be_two_different_people_other_than_the_applicant(session):
    application = make_application(session)
    errors = _errors(session, application, "referees", referee_1_email="zoe@example.org",
                     referee_2_email="zoe@example.org", referee_1_relationship="")
    assert errors == {
        "referee_1_relationship": ["Enter how you know the first referee"],
        "referee_2_email": ["Your two referees must have different email addresses"],
    }
    errors = _errors(session, application, "referees", referee_1_email="SIOBHAN@example.org")
    assert errors == {"referee_1_email": ["A referee cannot be you: enter someone else’s email address"]}


def test_a_declared_conviction_needs_details_and_a_no_clears_them(session):
    application = make_application(session, complete=False)
    assert _errors(session, application, "convictions", has_unspent_convictions="") == {
        "has_unspent_convictions": ["Select yes if you have any unspent convictions"]}
    assert _errors(session, application, "convictions", has_unspent_convictions="yes") == {
        "convictions_details": ["Give details of your unspent convictions"]}
    saved = _save(session, application, "convictions", has_unspent_convictions="yes",
                  convictions_details="Driving offence, 2023")
    assert saved.has_unspent_convictions is True and saved.convictions_details == "Driving offence, 2023"
    saved = _save(session, application, "convictions", has_unspent_convictions="no", convictions_details="x")
    assert saved.has_unspent_convictions is False and saved.convictions_details is None


def test_the_convictions_declaration_is_restricted_to_coordinators_once_submitted(session):
    application = make_application(session, status=S.SUBMITTED)
    assert permissions.can_view_convictions(make_coordinator(session), application)
    assert not permissions.can_view_convictions(application.user, application)
    assert not permissions.can_view_application(make_applicant(session), application)


def test_both_agreements_are_required(session):
    application = make_application(session, complete=False)
    assert _errors(session, application, "agreements", privacy_notice_agreed=False, commitment_agreed="") == {
        "privacy_notice_agreed": ["Confirm that you have read and agree to the privacy notice"],
        "commitment_agreed": ["Confirm that you can volunteer with us for at least 12 months"],
    }
    saved = _save(session, application, "agreements")
    assert saved.privacy_notice_agreed_at == NOW and saved.commitment_agreed_at == NOW


# ---------------------------------------------------------------------------------------------
# Equality monitoring


def test_equality_answers_are_held_apart_linked_only_by_an_opaque_token(session):
    application = make_application(session)
    _save(session, application, "equality", age_band="35_44", sex="prefer_not_to_say", ethnic_group="")

    record = session.scalar(select(EqualityMonitoring))
    assert record.link == application.equality_link and len(record.link) == 32
    assert record.answers()["age_band"] == "35_44"
    assert record.sex == "prefer_not_to_say" and record.ethnic_group is None
    assert record.recorded_on == dt.date(2026, 11, 1)
    # No foreign key and no personal details in the equality table.
    table = inspect(session.get_bind())
    assert table.get_foreign_keys("volunteer_equality_monitoring") == []
    columns = {column["name"] for column in table.get_columns("volunteer_equality_monitoring")}
    assert not columns & {"application_id", "user_id", "email", "full_name", "date_of_birth"}
    # Answering again updates the same row.
    _save(session, application, "equality", age_band="prefer_not_to_say")
    assert session.scalar(select(func.count(EqualityMonitoring.id))) == 1


def test_equality_answers_must_be_one_of_the_options(session):
    application = make_application(session)
    assert _errors(session, application, "equality", religion="jedi") == {
        "religion": ["Select one of the options, or “Prefer not to say”"]}
    assert session.scalar(select(func.count(EqualityMonitoring.id))) == 0


# ---------------------------------------------------------------------------------------------
# Task list and submission


def test_the_task_list_shows_what_is_done_and_equality_as_optional(session):
    application = make_application(session, complete=False)
    _save(session, application, "districts")
    tasks = {task.section: task.status for task in services.task_list(application)}
    assert list(tasks) == list(Section)
    assert tasks[Section.DISTRICTS] == "completed"
    assert tasks[Section.EQUALITY] == "optional"
    assert tasks[Section.REFEREES] == "not started"
    # The name and e-mail of the account count for nothing until the applicant saves the sections.
    assert tasks[Section.PERSONAL_DETAILS] == "not started"


def test_an_incomplete_application_is_refused_listing_the_sections_to_do(session):
    application = make_application(session, complete=False)
    _save(session, application, "personal_details")
    with pytest.raises(ApplicationIncomplete) as refused:
        services.submit_application(session, application.id, actor=application.user, now=NOW)
    assert refused.value.reasons[0] == "Complete the section “Contact details” before you submit"
    assert "Relevant experience" in refused.value.missing
    assert "Personal details" not in refused.value.missing
    assert "Equality monitoring (optional)" not in refused.value.missing
    assert application.status == S.DRAFT


def test_submitting_sends_one_confirmation_with_the_reference_however_often_it_is_clicked(session):
    application = make_application(session)
    later = NOW + dt.timedelta(minutes=5)
    services.submit_application(session, application.id, actor=application.user, now=NOW)
    again = services.submit_application(session, application.id, actor=application.user, now=later)

    assert again.status == S.SUBMITTED and again.submitted_at == NOW
    messages = session.scalars(select(OutboxMessage)).all()
    assert len(messages) == 1
    assert messages[0].recipients == ["siobhan@example.org"]
    assert application.reference in messages[0].subject
    assert application.reference in messages[0].text_body
    assert "Dear Shiv," in messages[0].text_body
    assert session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "application.submitted")) == 1


def test_a_submitted_application_can_no_longer_be_changed(session):
    application = make_application(session, status=S.SUBMITTED)
    with pytest.raises(RuleViolation, match=f"{application.reference} is submitted and can no longer be changed"):
        _save(session, application, "motivation", motivation="Changed my mind")


def test_nobody_else_can_see_save_or_submit_an_applicants_draft(session):
    application = make_application(session)
    for someone in (make_applicant(session), make_coordinator(session)):
        with pytest.raises(NotFound):
            _save_as(session, application, someone)
        with pytest.raises(NotFound):
            services.submit_application(session, application.id, actor=someone, now=NOW)
    with pytest.raises(NotFound):
        services.withdraw_application(session, application.id, actor=make_applicant(session), now=NOW)
    assert application.status == S.DRAFT


def _save_as(session, application, someone):
    services.save_section(session, application.id, "motivation", {"motivation": "Mine now"}, actor=someone, now=NOW)


# ---------------------------------------------------------------------------------------------
# Withdrawal and rejection


def test_withdrawing_keeps_the_reason_and_is_harmless_twice(session):
    application = make_application(session, status=S.SHORTLISTED)
    services.withdraw_application(session, application.id, actor=application.user, now=NOW, reason="Moved away")
    services.withdraw_application(session, application.id, actor=application.user, now=NOW)
    assert application.status == S.WITHDRAWN and application.withdrawal_reason == "Moved away"
    assert session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "application.withdrawn")) == 1


def test_a_coordinator_may_withdraw_on_the_applicants_behalf(session):
    application = make_application(session, status=S.SUBMITTED)
    services.withdraw_application(session, application.id, actor=make_coordinator(session), now=NOW)
    assert application.status == S.WITHDRAWN


def test_rejection_needs_a_reason_and_sends_one_kind_email_without_it(session):
    coordinator = make_coordinator(session)
    application = make_application(session, status=S.SUBMITTED)
    with pytest.raises(RuleViolation, match="Enter the reason for rejecting the application"):
        services.reject_application(session, application.id, "  ", actor=coordinator, now=NOW)
    with pytest.raises(RuleViolation, match="1,000 characters or fewer"):
        services.reject_application(session, application.id, "x" * 1001, actor=coordinator, now=NOW)

    services.reject_application(session, application.id, "Only Sunday availability", actor=coordinator, now=NOW)

    assert application.status == S.REJECTED and application.rejection_reason == "Only Sunday availability"
    with pytest.raises(RuleViolation, match="cannot move from rejected to rejected"):
        services.reject_application(session, application.id, "Again", actor=coordinator, now=NOW)
    message = session.scalar(select(OutboxMessage))
    assert message.template == "volunteers/application_rejected"
    assert "Thank you for the time and thought" in message.text_body
    assert "Sunday" not in message.text_body
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "application.rejected"))
    assert entry.actor_id == coordinator.id and entry.details["reason"] == "Only Sunday availability"


def test_the_rejection_message_is_an_editable_setting(session):
    settings.set_setting(session, services.REJECTION_MESSAGE_SETTING, "We are full until spring; please reapply.")
    application = make_application(session, status=S.SUBMITTED)
    services.reject_application(session, application.id, "Full", actor=make_coordinator(session), now=NOW)
    assert "We are full until spring; please reapply." in session.scalar(select(OutboxMessage)).text_body


# ---------------------------------------------------------------------------------------------
# Duplicates


def test_possible_duplicates_share_an_email_or_a_name_and_date_of_birth(session):
    first = make_application(session, status=S.SUBMITTED)
    same_email = make_application(session, status=S.SUBMITTED, personal_details={"full_name": "Someone Else"})
    same_person = make_application(
        session, status=S.SUBMITTED, personal_details={"full_name": "SIOBHÁN O'BRIEN"},
        contact_details={"email": "shiv.obrien@example.org"},
    )
    different = make_application(
        session, status=S.SUBMITTED, personal_details={"full_name": "Siobhán O'Brien", "date_of_birth": "1990-01-01"},
        contact_details={"email": "another@example.org"},
    )
    make_application(session, contact_details={"email": "x@example.org"})  # a draft: not counted

    assert [a.id for a in queries.list_possible_duplicates(session, first)] == [same_email.id, same_person.id]
    assert queries.list_possible_duplicates(session, different) == []
    assert queries.list_duplicate_flags(session, [first, same_email, same_person, different]) == {
        first.id, same_email.id, same_person.id}


# ---------------------------------------------------------------------------------------------
# The coordinator's queue


def _count_queries(session):
    statements: list[str] = []
    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def test_the_queue_filters_by_status_district_date_and_availability(session):
    monday_evening = make_application(session, status=S.SUBMITTED, now=NOW - dt.timedelta(days=3))
    shortlisted = make_application(
        session, status=S.SHORTLISTED, now=NOW - dt.timedelta(days=1),
        districts={"districts": ["Harlow"]}, availability={"availability": {"tuesday": ["morning", "evening"]}},
    )
    make_application(session)  # a draft is not in the queue

    def ids(**filters):
        return [a.id for a in queries.list_applications(session, ApplicationFilter(**filters)).applications]

    assert ids() == [shortlisted.id, monday_evening.id]
    assert ids(statuses=(S.SHORTLISTED,)) == [shortlisted.id]
    assert ids(district="Harlow") == [shortlisted.id]
    assert ids(district="Tendring") == [monday_evening.id]
    assert ids(submitted_from=(NOW - dt.timedelta(days=2)).date()) == [shortlisted.id]
    assert ids(submitted_to=(NOW - dt.timedelta(days=2)).date()) == [monday_evening.id]
    assert ids(weekday="monday", period="evening") == [monday_evening.id]
    assert ids(weekday="tuesday", period="evening") == [shortlisted.id]
    assert ids(weekday="monday", period="morning") == []
    assert ids(period="morning") == [shortlisted.id, monday_evening.id]
    assert len(ids(include_drafts=True)) == 3


def test_the_queue_sorts_and_pages_in_a_fixed_number_of_queries(session):
    for number, name in enumerate(["Cara Byrne", "Ade Okafor", "Bea Lund", "Dai Jones", "Eve Pike"]):
        make_application(session, status=S.SUBMITTED, now=NOW + dt.timedelta(hours=number),
                         personal_details={"full_name": name})
    session.expunge_all()

    statements = _count_queries(session)
    page = queries.list_applications(session, sort="name", descending=False, page=2, per_page=2)
    names = [application.full_name for application in page.applications]

    assert names == ["Cara Byrne", "Dai Jones"]
    assert (page.page, page.pages, page.total) == (2, 3, 5)
    assert len(statements) == 2
    newest = queries.list_applications(session, per_page=1).applications[0]
    assert newest.full_name == "Eve Pike"
    assert queries.list_applications(session, page=99, per_page=2).page == 3


# ---------------------------------------------------------------------------------------------
# Reminders and expiry of drafts


def test_a_draft_left_for_30_days_gets_one_reminder_however_often_the_job_runs(session):
    stale = make_application(session, now=NOW - dt.timedelta(days=31))
    make_application(session, now=NOW - dt.timedelta(days=29))  # not yet
    make_application(session, status=S.SUBMITTED, now=NOW - dt.timedelta(days=60))  # not a draft

    assert services.remind_stale_drafts(session, now=NOW) == 1
    assert services.remind_stale_drafts(session, now=NOW + dt.timedelta(hours=1)) == 0
    assert services.remind_stale_drafts(session, now=NOW + dt.timedelta(days=5)) == 1  # the second draft, now 34 days

    messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert len(messages) == 2
    assert messages[0].dedupe_key == f"volunteers.draft_reminder:{stale.id}"
    assert stale.reference in messages[0].text_body
    # Deleted 90 days (the default) after it was last changed.
    assert "21 January 2027" in messages[0].text_body
    assert stale.last_reminded_at == NOW


def test_expired_drafts_are_deleted_with_their_referees_and_equality_answers(session):
    settings.set_setting(session, services.DRAFT_RETENTION_SETTING, 60)
    expired = make_application(session, now=NOW - dt.timedelta(days=61))
    _save_equality(session, expired, NOW - dt.timedelta(days=61))
    kept_draft = make_application(session, now=NOW - dt.timedelta(days=59))
    submitted = make_application(session, status=S.SUBMITTED, now=NOW - dt.timedelta(days=200))
    expired_id, expired_reference = expired.id, expired.reference

    assert services.delete_expired_drafts(session, now=NOW) == 1
    assert services.delete_expired_drafts(session, now=NOW) == 0

    remaining = set(session.scalars(select(Application.id)))
    assert remaining == {kept_draft.id, submitted.id}
    assert session.scalar(select(func.count(Referee.id))) == 4
    assert session.scalar(select(func.count(EqualityMonitoring.id))) == 0
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "application.draft_deleted"))
    assert (entry.subject_id, entry.details["reference"]) == (expired_id, expired_reference)
    assert services.delete_expired_drafts(session, now=NOW + dt.timedelta(days=2), after_days=1) == 1


def _save_equality(session, application, now):
    services.save_section(session, application.id, "equality", {"age_band": "25_34"},
                          actor=application.user, now=now)


# ---------------------------------------------------------------------------------------------
# Concurrency (PostgreSQL)


def test_the_database_holds_one_draft_per_person(session):
    application = make_application(session, complete=False)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Application(reference="APP-2026-09999", user_id=application.user_id, status=S.DRAFT))
    submitted_too = Application(reference="APP-2026-09998", user_id=application.user_id, status=S.WITHDRAWN)
    session.add(submitted_too)
    session.flush()
    assert submitted_too.id is not None


@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (PORTAL_TEST_DATABASE_URL) to prove the race")
def test_two_clicks_on_start_at_the_same_moment_make_one_draft(engine):
    with Session(engine) as setup:
        user_id = make_applicant(setup).id
        setup.commit()
    result: dict[str, object] = {}

    def start_in_another_transaction():
        try:
            with Session(engine) as second:
                result["id"] = services.start_application(second, second.get(User, user_id), now=NOW).id
                second.commit()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            result["error"] = error

    with Session(engine) as first:
        first_id = services.start_application(first, first.get(User, user_id), now=NOW).id
        other = threading.Thread(target=start_in_another_transaction)
        other.start()
        other.join(timeout=1)
        waited = other.is_alive()
        first.commit()
    other.join(timeout=30)

    assert "error" not in result, result.get("error")
    assert waited
    assert result["id"] == first_id
    with Session(engine) as check:
        assert check.scalar(select(func.count(Application.id))) == 1

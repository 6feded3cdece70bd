"""What a volunteer keeps current, on a plain Session: preferences (with the mask in step), dates away,
conflicts of interest (the coordinators' e-mail through the real SMTP server), pause, the experience
level, every message, and the audit rows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.core import settings
from portal.core.accounts import Role, User, UserRole
from portal.core.audit import AuditEntry
from portal.core.errors import NotFound, PermissionDenied
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.volunteers import services as application_services
from portal.volunteers.profiles import availability, queries, services
from portal.volunteers.profiles.models import ConflictKind, ExperienceLevel, VolunteerStatus
from portal.volunteers.profiles.services import PreferenceDetails, PreferencesInvalid
from tests.smtp import deliver_outbox
from tests.volunteers.profiles.test_offer import ready_for_offer
from tests.volunteers.vetting.builders import NOW, TODAY, make_coordinator, make_volunteer

MONDAY_EVENING_SATURDAY_MORNING = {"monday": ["evening"], "saturday": ["morning"]}


def details(**overrides) -> PreferenceDetails:
    values = {"availability": MONDAY_EVENING_SATURDAY_MORNING, "districts": ["Tendring", "Colchester"],
              "max_cases": 3, "languages": "English, Polish", "drives": True}
    values.update(overrides)
    return PreferenceDetails(**values)


def update(session, volunteer, **overrides):
    return services.update_preferences(session, volunteer.user_id, details(**overrides), actor=volunteer.user,
                                       now=NOW)


def problems(session, volunteer, **overrides) -> dict[str, list[str]]:
    with pytest.raises(PreferencesInvalid) as raised:
        update(session, volunteer, **overrides)
    return raised.value.errors


def actions(session) -> list[str]:
    """The audit actions this module wrote, oldest first."""
    return list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.startswith("volunteers."))
                                .order_by(AuditEntry.id)))


# ---------------------------------------------------------------------------------------------
# Preferences


def test_preferences_are_saved_with_the_mask_in_step_and_audited(session):
    volunteer = make_volunteer(session)
    update(session, volunteer, availability={"saturday": ["morning"], "monday": ["evening", "evening"]},
           languages=[" English ", "polish", "ENGLISH", "Polish"])
    assert volunteer.availability == MONDAY_EVENING_SATURDAY_MORNING
    assert volunteer.availability_mask == availability.to_mask(MONDAY_EVENING_SATURDAY_MORNING)
    assert availability.from_mask(volunteer.availability_mask) == volunteer.availability
    assert volunteer.districts == ["Colchester", "Tendring"]  # the configured list's order
    assert volunteer.max_cases == 3 and volunteer.drives is True
    assert volunteer.languages == ["English", "polish"]
    assert volunteer.preferences_updated_at == NOW
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "volunteers.preferences_updated"))
    assert entry.subject_id == volunteer.id and entry.actor_id == volunteer.user_id
    assert entry.details["changed"]["max_cases"] == 3
    assert entry.details["changed"]["availability"] == volunteer.availability_mask


def test_changing_availability_moves_the_mask_with_it(session):
    volunteer = make_volunteer(session)
    update(session, volunteer)
    update(session, volunteer, availability={"sunday": ["afternoon"]})
    assert volunteer.availability == {"sunday": ["afternoon"]}
    assert volunteer.availability_mask == availability.bit("sunday", "afternoon")


def test_no_available_times_is_refused_with_the_pause_suggested(session):
    volunteer = make_volunteer(session)
    assert problems(session, volunteer, availability={}) == {
        "availability": ["Choose at least one time you are available, or pause your volunteering instead"]}
    assert problems(session, volunteer, availability={"monday": []}) == {
        "availability": ["Choose at least one time you are available, or pause your volunteering instead"]}


def test_unknown_days_and_periods_are_named(session):
    volunteer = make_volunteer(session)
    errors = problems(session, volunteer, availability={"funday": ["morning"], "monday": ["midnight"]})
    assert errors == {"availability": ["Choose days of the week (not funday)"],
                      "monday": ["Choose morning, afternoon or evening for Monday"]}


def test_districts_come_only_from_the_configured_list(session):
    volunteer = make_volunteer(session)
    assert problems(session, volunteer, districts=[]) == {"districts": ["Choose at least one district you work in"]}
    assert problems(session, volunteer, districts=["Colchester", "Atlantis"]) == {
        "districts": ["Choose districts from the list (not Atlantis)"]}
    settings.set_setting(session, application_services.DISTRICTS_SETTING, ["Canterbury", "Dover"])
    assert problems(session, volunteer, districts=["Colchester"]) == {
        "districts": ["Choose districts from the list (not Colchester)"]}
    update(session, volunteer, districts=["Dover"])
    assert volunteer.districts == ["Dover"]


@pytest.mark.parametrize(("max_cases", "message"), [
    (None, "Enter the most cases you will hold at once"),
    (0, "The most cases at once must be between 1 and 10"),
    (-1, "The most cases at once must be between 1 and 10"),
    (11, "The most cases at once must be between 1 and 10"),
])
def test_the_case_limit_must_be_between_one_and_ten(session, max_cases, message):
    volunteer = make_volunteer(session)
    assert problems(session, volunteer, max_cases=max_cases) == {"max_cases": [message]}
    assert volunteer.max_cases == 2


@pytest.mark.parametrize(("languages", "message"), [
    (" , ,", "Enter at least one language you speak"),
    ([f"Language {number}" for number in range(11)], "Enter 10 languages or fewer"),
    (["English", "W" * 61], f"Each language must be 60 characters or fewer (not “{'W' * 61}”)"),
])
def test_languages_are_checked(session, languages, message):
    assert problems(session, make_volunteer(session), languages=languages) == {"languages": [message]}


def test_ten_languages_of_sixty_characters_are_accepted(session):
    volunteer = make_volunteer(session)
    update(session, volunteer, languages=[f"{number:02d}" + "x" * 58 for number in range(10)])
    assert len(volunteer.languages) == 10


def test_driving_must_be_answered_and_every_problem_comes_back_at_once(session):
    volunteer = make_volunteer(session)
    errors = problems(session, volunteer, availability={}, districts=[], max_cases=0, languages="", drives=None)
    assert list(errors) == ["availability", "districts", "max_cases", "languages", "drives"]
    assert errors["drives"] == ["Select yes if you can drive to meetings"]
    assert actions(session) == []


def test_another_person_cannot_change_a_volunteers_preferences(session):
    volunteer, other = make_volunteer(session), make_volunteer(session)
    with pytest.raises(PermissionDenied):
        services.update_preferences(session, volunteer.user_id, details(), actor=other.user, now=NOW)
    coordinator = make_coordinator(session)
    services.update_preferences(session, volunteer.user_id, details(), actor=coordinator, now=NOW)
    assert volunteer.max_cases == 3


def test_a_person_without_a_volunteer_record_is_not_found(session):
    coordinator = make_coordinator(session)
    with pytest.raises(NotFound):
        services.update_preferences(session, coordinator.id, details(), actor=coordinator, now=NOW)
    with pytest.raises(NotFound):
        queries.get_volunteer_for_user(session, coordinator.id)


def test_an_offer_sets_the_mask_from_the_applications_availability(session):
    application, coordinator = ready_for_offer(session)
    volunteer = services.make_offer(session, application.id, actor=coordinator, now=NOW)
    assert volunteer.status is VolunteerStatus.VETTING
    assert volunteer.availability == MONDAY_EVENING_SATURDAY_MORNING
    assert volunteer.availability_mask == availability.bit("monday", "evening") | availability.bit("saturday",
                                                                                                   "morning")


# ---------------------------------------------------------------------------------------------
# Dates away


def away(session, volunteer, starts_on, ends_on, note=None):
    return services.add_absence(session, volunteer.user_id, starts_on, ends_on, note, actor=volunteer.user, now=NOW)


def absence_problems(session, volunteer, starts_on, ends_on, note=None) -> dict[str, list[str]]:
    with pytest.raises(PreferencesInvalid) as raised:
        away(session, volunteer, starts_on, ends_on, note)
    return raised.value.errors


def test_dates_away_are_listed_while_current_and_audited(session):
    volunteer = make_volunteer(session)
    later = away(session, volunteer, TODAY + dt.timedelta(days=40), TODAY + dt.timedelta(days=50), "  Holiday ")
    today_only = away(session, volunteer, TODAY, TODAY)
    assert later.note == "Holiday"
    assert queries.list_absences(session, volunteer.id, today=TODAY) == [today_only, later]
    assert queries.list_absences(session, volunteer.id, today=TODAY + dt.timedelta(days=1)) == [later]
    assert actions(session).count("volunteers.absence_added") == 2


def test_the_same_dates_twice_give_one_record(session):
    volunteer = make_volunteer(session)
    first = away(session, volunteer, TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=5))
    again = away(session, volunteer, TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=5))
    assert again is first
    assert len(queries.list_absences(session, volunteer.id, today=TODAY)) == 1


def test_overlapping_dates_away_are_refused_and_say_which(session):
    volunteer = make_volunteer(session)
    away(session, volunteer, dt.date(2027, 5, 12), dt.date(2027, 5, 26))
    for starts_on, ends_on in (
        (dt.date(2027, 5, 1), dt.date(2027, 5, 12)), (dt.date(2027, 5, 26), dt.date(2027, 6, 1)),
        (dt.date(2027, 5, 14), dt.date(2027, 5, 15)), (dt.date(2027, 5, 1), dt.date(2027, 6, 1)),
    ):
        assert absence_problems(session, volunteer, starts_on, ends_on) == {
            "starts_on": ["These dates overlap your time away from 12 May 2027 to 26 May 2027"]}
    away(session, volunteer, dt.date(2027, 5, 27), dt.date(2027, 5, 30))  # the next day is fine
    other = make_volunteer(session)
    away(session, other, dt.date(2027, 5, 12), dt.date(2027, 5, 26))  # another volunteer's dates are theirs


def test_impossible_dates_away_are_refused(session):
    volunteer = make_volunteer(session)
    assert absence_problems(session, volunteer, None, None) == {
        "starts_on": ["Enter the first day you are away"], "ends_on": ["Enter the last day you are away"]}
    assert absence_problems(session, volunteer, TODAY - dt.timedelta(days=1), TODAY) == {
        "starts_on": ["The first day you are away must be today or in the future"]}
    assert absence_problems(session, volunteer, TODAY + dt.timedelta(days=5), TODAY + dt.timedelta(days=4)) == {
        "ends_on": ["The last day you are away must be the same as or after the first day"]}
    assert absence_problems(session, volunteer, dt.date(2027, 1, 1), dt.date(2028, 1, 1)) == {
        "ends_on": ["Dates away must be a year or shorter. To stop for longer, pause your volunteering"]}
    assert absence_problems(session, volunteer, TODAY, TODAY, "n" * 201) == {
        "note": ["The note must be 200 characters or fewer (you have entered 201)"]}
    away(session, volunteer, dt.date(2027, 1, 1), dt.date(2027, 12, 31))  # a whole year is allowed


def test_only_your_own_dates_away_can_be_removed(session):
    volunteer, other = make_volunteer(session), make_volunteer(session)
    mine = away(session, volunteer, TODAY, TODAY + dt.timedelta(days=2))
    theirs = away(session, other, TODAY, TODAY + dt.timedelta(days=2))
    with pytest.raises(NotFound):
        services.remove_absence(session, volunteer.user_id, theirs.id, actor=volunteer.user, now=NOW)
    services.remove_absence(session, volunteer.user_id, mine.id, actor=volunteer.user, now=NOW)
    assert queries.list_absences(session, volunteer.id, today=TODAY) == []
    assert queries.list_absences(session, other.id, today=TODAY) == [theirs]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "volunteers.absence_removed"))
    assert entry.subject_id == mine.id and entry.details["volunteer_id"] == volunteer.id


# ---------------------------------------------------------------------------------------------
# Conflicts of interest


def declare(session, volunteer, name="Dafydd Jenkins", kind=ConflictKind.PERSON, about=None, now=NOW):
    return services.declare_conflict(session, volunteer.user_id, kind, name, about, actor=volunteer.user, now=now)


def test_a_declared_conflict_is_kept_and_coordinators_are_told_without_the_name(app, smtp):
    with app.app_context():
        coordinator = make_coordinator(db.session, email="siobhan@example.org")
        volunteer = make_volunteer(db.session, name="Zoë Ní Bhriain")
        conflict = declare(db.session, volunteer, "Dafydd Jenkins", about="My neighbour")
        again = declare(db.session, volunteer, " dafydd jenkins ", about="My neighbour")  # a second click
        assert again is conflict
        assert conflict.is_current and conflict.declared_at == NOW and conflict.details == "My neighbour"
        assert queries.list_conflicts(db.session, volunteer.id) == [conflict]
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "volunteers.conflict_declared"))
        assert entry.subject_id == conflict.id and "Dafydd" not in str(entry.details)
        assert len(db.session.scalars(select(OutboxMessage)).all()) == 1
        db.session.commit()
        address = coordinator.email
    deliver_outbox(app)
    [message] = smtp.inbox.to(address)
    assert message["Subject"] == "Zoë Ní Bhriain has declared a conflict of interest"
    body = message.get_body(("plain",)).get_content()
    assert "declared a conflict of interest (person) on 23 November 2026" in body
    assert "Dafydd" not in body and "neighbour" not in body


@pytest.mark.parametrize("name", ["", "   ", "-", "…?!", None])
def test_a_conflict_must_name_someone_or_somewhere(session, name):
    with pytest.raises(PreferencesInvalid) as raised:
        declare(session, make_volunteer(session), name)
    assert raised.value.errors == {"name": ["Enter the name of the person or place"]}
    assert session.scalar(select(OutboxMessage.id)) is None


def test_a_conflict_needs_a_kind_and_text_within_its_limits(session):
    volunteer = make_volunteer(session)
    with pytest.raises(PreferencesInvalid) as raised:
        declare(session, volunteer, "N" * 201, kind=None, about="d" * 1001)
    assert raised.value.errors == {
        "kind": ["Select whether it is a person or a place"],
        "name": ["The name must be 200 characters or fewer (you have entered 201)"],
        "details": ["The details must be 1,000 characters or fewer (you have entered 1,001)"],
    }


def test_withdrawing_keeps_the_record_and_lists_current_ones_first(session):
    volunteer, other = make_volunteer(session), make_volunteer(session)
    old = declare(session, volunteer, "St Osyth Primary School", kind=ConflictKind.PLACE)
    newer = declare(session, volunteer, "Dafydd Jenkins", now=NOW + dt.timedelta(days=1))
    theirs = declare(session, other, "Someone else")
    services.withdraw_conflict(session, volunteer.user_id, newer.id, actor=volunteer.user, now=NOW)
    services.withdraw_conflict(session, volunteer.user_id, newer.id, actor=volunteer.user, now=NOW)  # harmless
    assert newer.withdrawn_at == NOW and not newer.is_current
    assert queries.list_conflicts(session, volunteer.id) == [old, newer]
    with pytest.raises(NotFound):
        services.withdraw_conflict(session, volunteer.user_id, theirs.id, actor=volunteer.user, now=NOW)
    assert theirs.is_current
    assert actions(session).count("volunteers.conflict_withdrawn") == 1


# ---------------------------------------------------------------------------------------------
# Pause


def pause(session, volunteer, until, reason=None):
    return services.pause_volunteering(session, volunteer.user_id, until, reason, actor=volunteer.user, now=NOW)


def test_pausing_sets_the_date_and_reason_but_not_the_status(session):
    volunteer = make_volunteer(session, status=VolunteerStatus.ACTIVE)
    pause(session, volunteer, TODAY + dt.timedelta(days=30), " Moving house ")
    assert volunteer.paused_until == TODAY + dt.timedelta(days=30) and volunteer.pause_reason == "Moving house"
    assert volunteer.status is VolunteerStatus.ACTIVE
    assert queries.is_paused(volunteer, today=TODAY + dt.timedelta(days=30))
    assert not queries.is_paused(volunteer, today=TODAY + dt.timedelta(days=31))
    services.resume_volunteering(session, volunteer.user_id, actor=volunteer.user, now=NOW)
    services.resume_volunteering(session, volunteer.user_id, actor=volunteer.user, now=NOW)  # harmless
    assert volunteer.paused_until is None and volunteer.pause_reason is None
    assert not queries.is_paused(volunteer, today=TODAY)
    assert actions(session) == ["volunteers.paused", "volunteers.resumed"]


def test_a_pause_must_end_between_today_and_a_year_from_now(session):
    volunteer = make_volunteer(session)
    cases = [
        (None, None, {"until": ["Enter the last day of your pause"]}),
        (TODAY - dt.timedelta(days=1), None, {"until": ["The last day of your pause must be today or in the future"]}),
        (dt.date(2027, 11, 24), None, {"until": ["The last day of your pause must be on or before 23 November 2027"]}),
        (TODAY, "r" * 301, {"reason": ["The reason must be 300 characters or fewer (you have entered 301)"]}),
    ]
    for until, reason, expected in cases:
        with pytest.raises(PreferencesInvalid) as raised:
            pause(session, volunteer, until, reason)
        assert raised.value.errors == expected
    pause(session, volunteer, dt.date(2027, 11, 23))
    pause(session, volunteer, TODAY)
    assert volunteer.paused_until == TODAY


# ---------------------------------------------------------------------------------------------
# Experience


def test_only_a_coordinator_sets_the_experience_level(session):
    volunteer = make_volunteer(session)
    coordinator = make_coordinator(session)
    with pytest.raises(PermissionDenied):
        services.set_experience(session, volunteer.id, ExperienceLevel.SPECIALIST, actor=volunteer.user, now=NOW)
    assert volunteer.experience is ExperienceLevel.NEW
    services.set_experience(session, volunteer.id, "specialist", actor=coordinator, now=NOW)
    services.set_experience(session, volunteer.id, ExperienceLevel.SPECIALIST, actor=coordinator, now=NOW)
    assert volunteer.experience is ExperienceLevel.SPECIALIST
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "volunteers.experience_changed"))
    assert entry.details == {"before": "new", "after": "specialist"} and entry.actor_id == coordinator.id
    with pytest.raises(PreferencesInvalid) as raised:
        services.set_experience(session, volunteer.id, "expert", actor=coordinator, now=NOW)
    assert raised.value.errors == {"experience": ["Select an experience level"]}
    with pytest.raises(NotFound):
        services.set_experience(session, volunteer.id + 1000, "new", actor=coordinator, now=NOW)


def test_a_coordinator_who_volunteers_cannot_set_their_own_level(session):
    volunteer = make_volunteer(session)
    coordinator_self = session.get(User, volunteer.user_id)
    coordinator_self.role_links.append(UserRole(role=Role.COORDINATOR, granted_at=NOW))
    session.flush()
    with pytest.raises(PermissionDenied):
        services.set_experience(session, volunteer.id, "specialist", actor=coordinator_self, now=NOW)

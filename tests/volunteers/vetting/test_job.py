"""The daily vetting job: each reminder once, lapses on the expiry day (in London), cases flagged,
allocation refused with the reason."""

import datetime as dt

import pytest
from sqlalchemy import select

from portal.cases import services as case_services
from portal.cases.errors import AllocationBlocked
from portal.cases.models import AllocationRole, CaseStatus
from portal.core import jobs
from portal.core.audit import AuditEntry
from portal.core.outbox import OutboxMessage
from portal.volunteers.profiles.models import VolunteerStatus
from portal.volunteers.vetting import services
from portal.volunteers.vetting.models import CheckKind, CheckStatus, VettingCheck
from tests.cases.builders import make_case
from tests.volunteers.vetting.builders import details, make_cleared_volunteer, make_coordinator, record

CLEARED_ON = dt.date(2025, 12, 1)
EXPIRES_ON = dt.date(2026, 12, 1)  # police vetting cleared on CLEARED_ON, valid 12 months


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def _messages(session, template: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)
                                .order_by(OutboxMessage.id)))


def _nppv(session, volunteer) -> VettingCheck:
    return session.scalar(select(VettingCheck).where(VettingCheck.volunteer_id == volunteer.id,
                                                     VettingCheck.kind == CheckKind.NPPV))


def test_the_60_day_reminder_goes_once_to_the_volunteer_and_the_coordinators(session):
    coordinator = make_coordinator(session)
    volunteer = make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    sixty_days_before = EXPIRES_ON - dt.timedelta(days=60)

    assert services.send_vetting_reminders(session, now=at(sixty_days_before - dt.timedelta(days=1))).reminded == 0
    first = services.send_vetting_reminders(session, now=at(sixty_days_before))
    second = services.send_vetting_reminders(session, now=at(sixty_days_before, hour=15))
    third = services.send_vetting_reminders(session, now=at(sixty_days_before + dt.timedelta(days=1)))

    assert (first.reminded, second.reminded, third.reminded) == (1, 0, 0)
    [to_volunteer] = _messages(session, "volunteers/vetting_reminder")
    [to_coordinators] = _messages(session, "volunteers/vetting_reminder_coordinator")
    assert to_volunteer.recipients == [volunteer.user.email]
    assert to_volunteer.subject == "Your police vetting (NPPV2) expires on 1 December 2026"
    assert "in 60 days" in to_volunteer.text_body
    assert coordinator.email in to_coordinators.recipients


def test_60_30_and_7_day_reminders_each_go_exactly_once(session):
    make_coordinator(session)
    make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    day = EXPIRES_ON - dt.timedelta(days=70)
    while day < EXPIRES_ON:
        services.send_vetting_reminders(session, now=at(day))
        services.send_vetting_reminders(session, now=at(day, hour=18))
        day += dt.timedelta(days=1)
    subjects = [message.dedupe_key for message in _messages(session, "volunteers/vetting_reminder")]
    assert [key.split(":")[2] for key in subjects] == ["60", "30", "7"]
    assert len(_messages(session, "volunteers/vetting_reminder_coordinator")) == 3


def test_a_renewed_check_gets_no_reminder(session):
    volunteer = make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    record(session, volunteer, cleared_on=dt.date(2026, 9, 1), renews_id=_nppv(session, volunteer).id)
    run = services.send_vetting_reminders(session, now=at(EXPIRES_ON - dt.timedelta(days=30)))
    assert run.reminded == 0


def test_on_the_expiry_day_the_check_lapses_the_volunteer_is_told_what_to_do_and_cases_are_flagged(session):
    coordinator = make_coordinator(session)
    volunteer = make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION, actor=coordinator)
    allocation = case_services.allocate_case(session, case.id, volunteer.user_id, AllocationRole.LEAD,
                                             actor=coordinator, now=at(dt.date(2026, 11, 23)))

    day_before = services.send_vetting_reminders(session, now=at(EXPIRES_ON - dt.timedelta(days=1)))
    on_the_day = services.send_vetting_reminders(session, now=at(EXPIRES_ON))
    again = services.send_vetting_reminders(session, now=at(EXPIRES_ON + dt.timedelta(days=1)))

    assert (day_before.lapsed, on_the_day.lapsed, again.lapsed) == (0, 1, 0)
    assert on_the_day.flagged == 1
    assert _nppv(session, volunteer).status is CheckStatus.LAPSED
    assert allocation.review_reason == "Police vetting (NPPV2) lapsed on 1 December 2026"
    [notice] = _messages(session, "volunteers/vetting_lapsed")
    assert notice.recipients == [volunteer.user.email]
    assert "Please contact your coordinator today" in notice.text_body
    assert len(_messages(session, "volunteers/vetting_lapsed_coordinator")) == 1
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "vetting.check_lapsed")) is not None


def test_the_expiry_day_starts_at_midnight_in_london_during_british_summer_time(session):
    volunteer = make_cleared_volunteer(session, cleared_on=dt.date(2025, 7, 15))
    expires_on = dt.date(2026, 7, 15)
    # 22:59 UTC on 14 July is 23:59 BST: still the day before expiry in London.
    assert services.send_vetting_reminders(session, now=dt.datetime(2026, 7, 14, 22, 59, tzinfo=dt.UTC)).lapsed == 0
    # 23:30 UTC on 14 July is 00:30 BST on 15 July: the expiry day has begun in London.
    assert services.send_vetting_reminders(session, now=dt.datetime(2026, 7, 14, 23, 30, tzinfo=dt.UTC)).lapsed == 1
    assert _nppv(session, volunteer).expires_on == expires_on


def test_the_clocks_going_forward_do_not_move_a_reminder(session):
    # British Summer Time began at 01:00 UTC on 29 March 2026; 7 days before 5 April is 29 March.
    make_cleared_volunteer(session, cleared_on=dt.date(2025, 4, 5))
    saturday_night = dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.UTC)  # 23:30 GMT, 28 March
    sunday_early = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)      # 00:30 GMT, 29 March
    assert services.send_vetting_reminders(session, now=saturday_night).reminded == 1  # the 30-day mark has passed
    assert services.send_vetting_reminders(session, now=sunday_early).reminded == 1    # 7 days: now due
    keys = [message.dedupe_key for message in _messages(session, "volunteers/vetting_reminder")]
    assert [key.split(":")[2] for key in keys] == ["30", "7"]


def test_lapsed_vetting_blocks_allocation_and_says_when(session):
    coordinator = make_coordinator(session)
    volunteer = make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION, actor=coordinator)
    with pytest.raises(AllocationBlocked) as blocked:
        case_services.allocate_case(session, case.id, volunteer.user_id, AllocationRole.LEAD,
                                    actor=coordinator, now=at(EXPIRES_ON + dt.timedelta(days=3)))
    assert blocked.value.reasons == ["Police vetting (NPPV2) lapsed on 1 December 2026"]


def test_refused_vetting_blocks_allocation(session):
    coordinator = make_coordinator(session)
    volunteer = make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    record(session, volunteer, CheckKind.NPPV, CheckStatus.REFUSED, renews_id=_nppv(session, volunteer).id,
           decided_on=dt.date(2026, 11, 20), submitted_on=dt.date(2026, 10, 1))
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION, actor=coordinator)
    with pytest.raises(AllocationBlocked) as blocked:
        case_services.allocate_case(session, case.id, volunteer.user_id, AllocationRole.LEAD,
                                    actor=coordinator, now=at(EXPIRES_ON + dt.timedelta(days=3)))
    assert blocked.value.reasons == ["Police vetting (NPPV2) was refused on 20 November 2026"]


def test_the_job_is_registered_and_runs_through_the_job_runner(session):
    make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    session.commit()
    results = jobs.run_all(session, now=at(EXPIRES_ON), only="volunteers.vetting-reminders")
    assert results == {"volunteers.vetting-reminders": "reminded 0, lapsed 1, allocations flagged 0"}


def test_a_volunteer_who_has_left_gets_no_reminders_or_lapse_notices(session):
    volunteer = make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    volunteer.status = VolunteerStatus.LEFT
    assert services.send_vetting_reminders(session, now=at(EXPIRES_ON - dt.timedelta(days=7))).reminded == 0
    run = services.send_vetting_reminders(session, now=at(EXPIRES_ON))
    assert run.lapsed == 1 and not run.details
    assert _messages(session, "volunteers/vetting_lapsed") == []


def test_a_refused_renewal_flags_the_volunteers_current_cases_at_once(session):
    coordinator = make_coordinator(session)
    volunteer = make_cleared_volunteer(session, cleared_on=CLEARED_ON)
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION, actor=coordinator)
    allocation = case_services.allocate_case(session, case.id, volunteer.user_id, AllocationRole.LEAD,
                                             actor=coordinator, now=at(dt.date(2026, 11, 2)))
    renewal = record(session, volunteer, CheckKind.NPPV, CheckStatus.SUBMITTED, actor=coordinator,
                     submitted_on=dt.date(2026, 11, 1))
    services.update_check(session, renewal.id, details(CheckKind.NPPV, CheckStatus.REFUSED,
                                                       submitted_on=dt.date(2026, 11, 1),
                                                       decided_on=dt.date(2026, 11, 20)),
                          actor=coordinator, now=at(dt.date(2026, 11, 23)))
    assert allocation.review_reason == "Police vetting (NPPV2) was refused on 20 November 2026"

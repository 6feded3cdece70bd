"""Links in the supervision e-mails the jobs send outside a request: the 48- and 2-hour reminders link
to the volunteer's supervision page, the due-soon and overdue notices to the booking page; every link is
absolute (PORTAL_BASE_URL) and reaches the page it names."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.config import Config
from portal.core import jobs
from portal.core.accounts import Role
from portal.core.outbox import OutboxMessage
from portal.supervision import services
from tests.supervision.builders import NOW, make_slot, make_volunteer

BASE = Config.BASE_URL.rstrip("/")
STARTS = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)  # the default slot: next Monday 10:00 GMT


def messages(session, template: str) -> list[OutboxMessage]:
    return list(session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id)))


def test_both_session_reminders_link_to_the_volunteers_supervision_page(session):
    slot = make_slot(session, online_link="https://meet.example.org/rj-supervision", mode="online", venue=None)
    volunteer = make_volunteer(session)
    services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=NOW)

    results = jobs.run_all(session, now=STARTS - dt.timedelta(hours=48), only="supervision.reminders")
    assert results == {"supervision.reminders": "reminded 1 sessions, 0 due or overdue"}
    jobs.run_all(session, now=STARTS - dt.timedelta(hours=2), only="supervision.reminders")

    sent = messages(session, "supervision/reminder")
    assert len(sent) == 2
    for message in sent:
        assert f"Your supervision: {BASE}/supervision/" in message.text_body
        assert f'<a href="{BASE}/supervision/">Your supervision</a>' in message.html_body
        assert "Join the video call at https://meet.example.org/rj-supervision" in message.text_body


def test_the_due_soon_and_overdue_notices_from_the_job_link_to_the_booking_page(session):
    soon = make_volunteer(session, active_since=NOW - dt.timedelta(weeks=11))
    late = make_volunteer(session, active_since=NOW - dt.timedelta(weeks=13))

    results = jobs.run_all(session, now=NOW, only="supervision.reminders")
    assert results == {"supervision.reminders": "reminded 0 sessions, 2 due or overdue"}

    [due_soon] = messages(session, "supervision/due_soon")
    [overdue] = messages(session, "supervision/overdue")
    assert (due_soon.recipients, overdue.recipients) == ([soon.email], [late.email])
    for message in (due_soon, overdue):
        assert f"Book a session: {BASE}/supervision/slots" in message.text_body
        assert f'<a href="{BASE}/supervision/slots">Book a session</a>' in message.html_body


def test_a_link_given_by_the_caller_is_used_instead(session):
    make_volunteer(session, active_since=NOW - dt.timedelta(weeks=13))
    assert services.send_due_reminders(session, now=NOW, booking_url="https://rj.example.org/supervision/slots") == 1
    [overdue] = messages(session, "supervision/overdue")
    assert "Book a session: https://rj.example.org/supervision/slots" in overdue.text_body


def test_portal_links_are_built_on_the_configured_base_url(monkeypatch):
    monkeypatch.setattr(Config, "BASE_URL", "https://rj.example.org/")
    assert services.portal_link(services.MINE_PATH) == "https://rj.example.org/supervision/"


@pytest.mark.parametrize(("path", "endpoint", "query"), [
    (services.MINE_PATH, "supervision.mine", ""),
    (services.SLOTS_PATH, "supervision.slots", ""),
    (services.DEBRIEF_PATH, "supervision.slots", "purpose=debrief"),
])
def test_each_e_mailed_path_reaches_its_page(app, client, login_as, path, endpoint, query):
    adapter = app.url_map.bind("localhost")
    route, _, found_query = path.partition("?")
    assert adapter.match(route)[0] == endpoint
    assert found_query == query
    login_as(Role.VOLUNTEER)
    assert client.get(path).status_code == 200

"""The reference-chasers job: each reminder once, two at most, then one notice to the coordinator."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from portal.core import jobs, settings
from portal.core.audit import AuditEntry
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.volunteers.models import ApplicationStatus
from portal.volunteers.references import queries, services
from portal.volunteers.references.errors import LinkState
from tests.smtp import deliver_outbox
from tests.volunteers.builders import NOW
from tests.volunteers.references.helpers import GOOD_ANSWERS, messages, requested, tokens_sent_to

DAY = dt.timedelta(days=1)


def _run(session, now):
    result = jobs.run_all(session, now=now, only="volunteers.reference-chasers")
    return result["volunteers.reference-chasers"]


def test_the_job_is_registered():
    assert "volunteers.reference-chasers" in {job.name for job in jobs.registered()}


def test_each_chase_is_sent_once_however_often_the_job_runs_and_at_most_twice(session):
    application, _, coordinator = requested(session)
    session.commit()
    assert _run(session, NOW + 6 * DAY) == "chased 0, reported missing 0"
    assert _run(session, NOW + 7 * DAY) == "chased 2, reported missing 0"
    assert _run(session, NOW + 7 * DAY) == "chased 0, reported missing 0"
    assert _run(session, NOW + 10 * DAY) == "chased 0, reported missing 0"
    assert _run(session, NOW + 14 * DAY) == "chased 2, reported missing 0"
    assert _run(session, NOW + 14 * DAY + dt.timedelta(hours=1)) == "chased 0, reported missing 0"
    assert _run(session, NOW + 21 * DAY) == "chased 0, reported missing 2"
    assert _run(session, NOW + 22 * DAY) == "chased 0, reported missing 0"
    assert _run(session, NOW + 60 * DAY) == "chased 0, reported missing 0"
    chases = messages(session, "volunteers/reference_chase")
    assert sorted(m.recipients[0] for m in chases) == ["jl@example.org"] * 2 + ["zoe@example.org"] * 2
    assert "Reminder" in chases[0].subject and "23 November 2026" in chases[0].text_body
    missing = messages(session, "volunteers/reference_missing")
    assert len(missing) == 2 and all(m.recipients == [coordinator.email] for m in missing)
    assert "Jean-Luc Picard" in missing[0].text_body and "2 reminders" in missing[0].text_body
    assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "reference.chased")).all()) == 4


def test_every_chase_carries_a_new_link_and_the_earlier_one_still_works(session):
    requested(session)
    session.commit()
    _run(session, NOW + 7 * DAY)
    first, second = tokens_sent_to(session, "zoe@example.org")
    assert first != second
    assert queries.find_link(session, first, now=NOW + 8 * DAY).state is LinkState.VALID
    services.submit_reference(session, second, GOOD_ANSWERS, now=NOW + 8 * DAY)
    assert queries.find_link(session, first, now=NOW + 8 * DAY).state is LinkState.USED


def test_the_wait_is_a_setting(session):
    requested(session)
    settings.set_setting(session, services.CHASE_DAYS_SETTING, 3)
    session.commit()
    assert _run(session, NOW + 3 * DAY) == "chased 2, reported missing 0"


def test_received_references_and_closed_applications_are_not_chased(session):
    application, references, _ = requested(session)
    services.submit_reference(session, tokens_sent_to(session, "zoe@example.org")[0], GOOD_ANSWERS, now=NOW)
    other, _, _ = requested(session)
    other.status = ApplicationStatus.WITHDRAWN
    session.commit()
    assert _run(session, NOW + 7 * DAY) == "chased 1, reported missing 0"
    assert [m.recipients for m in messages(session, "volunteers/reference_chase")] == [["jl@example.org"]]


def test_a_resend_to_a_corrected_address_starts_the_chasing_again(session):
    application, references, coordinator = requested(session)
    session.commit()
    for day in (7, 14, 21):
        _run(session, NOW + day * DAY)
    services.resend_reference_request(session, application.id, references[0].id, "picard@example.org",
                                      link_prefix="http://localhost/volunteering/reference/", actor=coordinator,
                                      now=NOW + 22 * DAY)
    session.commit()
    assert _run(session, NOW + 29 * DAY) == "chased 1, reported missing 0"
    assert messages(session, "volunteers/reference_chase")[-1].recipients == ["picard@example.org"]


def test_chase_emails_arrive_at_the_smtp_server(app, smtp):
    # Delivery sends what is due by the real clock, so the request is made 7 days before it.
    today = dt.datetime.now(dt.UTC)
    with app.app_context():
        requested(db.session, now=today - 7 * DAY)
        db.session.commit()
        _run(db.session, today)
    deliver_outbox(app)
    received = smtp.inbox.to("zoe@example.org")
    subjects = sorted(message["Subject"] for message in received)
    assert subjects == ["Please give a reference for Siobhán O'Brien", "Reminder: a reference for Siobhán O'Brien"]
    with app.app_context():
        assert all(m.status == "sent" for m in db.session.scalars(select(OutboxMessage)))


def test_flask_jobs_run_chases_once(app):
    today = dt.datetime.now(dt.UTC)
    with app.app_context():
        requested(db.session, now=today - 8 * DAY)
        db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["jobs", "run", "--only", "volunteers.reference-chasers"])
    second = runner.invoke(args=["jobs", "run", "--only", "volunteers.reference-chasers"])
    assert "volunteers.reference-chasers: chased 2, reported missing 0" in first.output
    assert "volunteers.reference-chasers: chased 0, reported missing 0" in second.output
    with app.app_context():
        assert len(messages(db.session, "volunteers/reference_chase")) == 2

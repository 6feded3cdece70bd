"""Command-line entry points: the first admin, the jobs command and demo data."""

import pytest
from sqlalchemy import func, select

from portal import demo
from portal.core import jobs, outbox
from portal.core.accounts import Role, User, find_user_by_email
from portal.core.errors import RuleViolation
from portal.core.settings import DEMO_DATABASE, get_setting
from portal.extensions import db
from tests.builders import FIXED_NOW, make_user


def test_create_admin_makes_an_admin_and_refuses_a_weak_password(app):
    runner = app.test_cli_runner()
    weak = runner.invoke(
        args=["users", "create-admin", "--email", "a@example.org", "--name", "A", "--password", "password1234"]
    )
    assert weak.exit_code != 0 and "harder to guess" in weak.output
    ok = runner.invoke(
        args=["users", "create-admin", "--email", "First.Admin@Example.org", "--name", "Nia Okafor",
              "--password", "quiet-harbour-lamp-31"],
    )
    assert ok.exit_code == 0, ok.output
    with app.app_context():
        user = find_user_by_email(db.session, "first.admin@example.org")
        assert user.roles == {Role.ADMIN} and user.name == "Nia Okafor"


def test_jobs_run_delivers_mail_runs_registered_jobs_and_sends_nothing_twice(app, smtp):
    calls = []

    @jobs.register("test-reminders")
    def reminders(session, *, now):
        """Queue one reminder (deduplicated), as a module's reminder job would."""
        calls.append(now)
        outbox.queue(
            session, to="zoe@example.org", subject="Reminder", template="core/password_reset",
            context={"name": "Zoë", "link": "x", "hours": 1, "service_name": "Portal"},
            dedupe_key="test-reminder-1", now=now,
        )
        return "queued 1"

    try:
        runner = app.test_cli_runner()
        first = runner.invoke(args=["jobs", "run"])
        second = runner.invoke(args=["jobs", "run"])
        listed = runner.invoke(args=["jobs", "list"])
    finally:
        jobs._registry.pop("test-reminders")
    assert first.exit_code == 0, first.output
    assert "test-reminders: queued 1" in first.output and "mail: sent 1" in first.output
    assert len(calls) == 2 and second.exit_code == 0
    assert [m["Subject"] for m in smtp.inbox.messages] == ["Reminder"]
    assert "test-reminders: Queue one reminder" in listed.output


def test_a_failing_job_is_rolled_back_and_the_others_still_run(session):
    @jobs.register("broken")
    def broken(session, *, now):
        make_user(session, email="half-saved@example.org")
        raise RuntimeError("boom")

    @jobs.register("fine")
    def fine(session, *, now):
        return "ok"

    try:
        results = jobs.run_all(session, now=FIXED_NOW)
    finally:
        jobs._registry.pop("broken")
        jobs._registry.pop("fine")
    assert results["broken"].startswith("failed: RuntimeError") and results["fine"] == "ok"
    assert find_user_by_email(session, "half-saved@example.org") is None


def test_demo_load_creates_every_role_once_and_flags_the_database(session):
    demo.load(session, environment="development", now=FIXED_NOW, case_count=20)
    session.commit()
    count = session.scalar(select(func.count(User.id)))
    demo.load(session, environment="development", now=FIXED_NOW, case_count=20)
    assert session.scalar(select(func.count(User.id))) == count
    assert get_setting(session, DEMO_DATABASE) is True
    roles = set().union(*(u.roles for u in session.scalars(select(User))))
    assert roles == set(Role)
    assert find_user_by_email(session, "coordinator@example.org").name == "Siobhán O'Neill"


def test_demo_load_refuses_production_and_a_database_with_real_accounts(session):
    with pytest.raises(RuleViolation, match="production"):
        demo.load(session, environment="production", now=FIXED_NOW)
    make_user(session, email="real.person@example.org")
    with pytest.raises(RuleViolation, match="not flagged as a demo database"):
        demo.load(session, environment="development", now=FIXED_NOW)


def test_demo_command_prints_the_sign_ins(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    for account in demo.DEMO_ACCOUNTS:
        assert account.email in result.output
    assert demo.DEMO_PASSWORD in result.output



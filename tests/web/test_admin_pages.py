"""Admin pages: the audit log with filters and pagination, and the people list."""

import re
from html import unescape

from portal.core import audit
from portal.core.accounts import Role
from portal.extensions import db
from tests.builders import FIXED_NOW, PASSWORD, make_user


def test_audit_log_lists_filters_and_pages_entries(make_app):
    app = make_app(AUDIT_PAGE_SIZE=5)
    client = app.test_client()
    with app.app_context():
        admin = make_user(db.session, roles=[Role.ADMIN], email="admin@example.org")
        for number in range(12):
            audit.record(db.session, admin, "case.viewed", ("cases", number + 1), at=FIXED_NOW)
        db.session.commit()
    client.post("/sign-in", data={"email": "admin@example.org", "password": PASSWORD})
    page = client.get("/admin/audit")
    assert page.status_code == 200
    assert page.text.count('<tr class="govuk-table__row">') == 1 + 5  # signing in was audited too
    assert 'rel="next"' in page.text and 'rel="prev"' not in page.text  # Older only; the log is not counted
    filtered = client.get("/admin/audit?action=case.viewed")
    assert filtered.text.count("<code>case.viewed</code>") == 5
    older = re.search(r'href="(/admin/audit\?[^"]*before=\d+[^"]*)"', filtered.text).group(1)
    assert "action=case.viewed" in older  # paging keeps the filter
    second = client.get(unescape(older))
    assert second.text.count("<code>case.viewed</code>") == 5 and 'rel="prev"' in second.text
    one = client.get("/admin/audit?subject_type=cases&subject_id=4")
    assert one.text.count("<code>case.viewed</code>") == 1 and 'rel="next"' not in one.text
    wrong_order = client.get(
        "/admin/audit?from_date=5&from_date=11&from_date=2026&to_date=1&to_date=11&to_date=2026"
    )
    assert "There is a problem" in wrong_order.text
    assert "must be the same as or after" in wrong_order.text
    not_a_date = client.get("/admin/audit?from_date=31&from_date=2&from_date=2026")
    assert "From must be a real date" in not_a_date.text


def test_people_list_shows_status_and_roles(app, client, login_as):
    login_as(Role.ADMIN, name="Priya Shah")
    with app.app_context():
        make_user(db.session, roles=[Role.TRAINER, Role.VOLUNTEER], name="Gareth Llewellyn-Jones")
        make_user(db.session, roles=[Role.VOLUNTEER], name="Invited Person", password_hash=None)
        db.session.commit()
    page = client.get("/admin/people").text
    assert "Gareth Llewellyn-Jones" in page and "Trainer, Volunteer" in page
    assert "Invited" in page and "3 accounts" in page

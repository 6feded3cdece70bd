"""In development, mail is written to files and listed on a development-only page."""

from email import policy
from email.parser import BytesParser

from portal.core import clock, outbox
from portal.core.accounts import Role
from portal.extensions import db
from portal.web import mailer
from tests.builders import PASSWORD, make_user


def test_development_mail_is_written_to_files_and_listed(make_app, tmp_path):
    app = make_app(DEVELOPMENT=True, MAIL_TRANSPORT="files", MAIL_FILE_DIR=str(tmp_path))
    with app.app_context():
        make_user(db.session, roles=[Role.ADMIN], email="admin@example.org")
        outbox.queue(
            db.session, to="zoe@example.org", subject="Welcome, Zoë", template="core/invitation",
            context={"name": "Zoë", "inviter": "Priya", "link": "http://x/y", "days": 7, "roles": ["Volunteer"],
                     "service_name": "Portal"},
        )
        db.session.commit()
        outbox.deliver_queued(db.session, mailer.connect, now=clock.now())
    (written,) = tmp_path.glob("*.eml")
    parsed = BytesParser(policy=policy.default).parsebytes(written.read_bytes())
    assert parsed["Subject"] == "Welcome, Zoë" and parsed["To"] == "zoe@example.org"
    client = app.test_client()
    client.post("/sign-in", data={"email": "admin@example.org", "password": PASSWORD})
    listing = client.get("/dev/mail")
    assert "Welcome, Zoë" in listing.text and "zoe@example.org" in listing.text
    detail = client.get(f"/dev/mail/{written.stem}")
    assert "Priya has invited you" in detail.text
    assert client.get("/dev/mail/..%2Fsecrets").status_code == 404


def test_the_development_mail_page_does_not_exist_outside_development(app, client):
    assert client.get("/dev/mail").status_code == 404

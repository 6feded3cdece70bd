"""Development only, and only for admins: the mail the portal has written to instance/mail instead of
sending. The mail holds password-reset and invitation links, so nobody else may read it, even on a
developer's machine."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user

from portal.core.accounts import Role, is_signed_in

bp = Blueprint("dev", __name__, url_prefix="/dev")


def _mail_dir() -> Path:
    return Path(current_app.config["MAIL_FILE_DIR"])


@bp.before_request
def _development_only():
    if not current_app.config.get("DEVELOPMENT"):
        abort(404)
    if not is_signed_in(current_user):
        return current_app.login_manager.unauthorized()
    if not current_user.has_role(Role.ADMIN):
        abort(404)


@bp.route("/mail")
def mail_index():
    files = sorted(_mail_dir().glob("*.eml"), reverse=True)[:200]
    messages = []
    for path in files:
        with path.open("rb") as handle:
            message = BytesParser(policy=policy.default).parse(handle, headersonly=True)
        messages.append(
            {"name": path.stem, "to": message["To"], "subject": message["Subject"], "date": message["Date"]}
        )
    return render_template("dev/mail_index.html", messages=messages, title="Mail written in development")


@bp.route("/mail/<name>")
def mail_detail(name: str):
    path = _mail_dir() / f"{name}.eml"
    if "/" in name or ".." in name or not path.is_file():
        abort(404)
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    body = message.get_body(preferencelist=("plain",))
    attachments = [part.get_filename() for part in message.iter_attachments()]
    return render_template(
        "dev/mail_detail.html", message=message, body=body.get_content() if body else "",
        attachments=attachments, title=message["Subject"],
    )

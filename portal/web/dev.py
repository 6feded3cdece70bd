"""Development only: the mail the portal has written to instance/mail instead of sending."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template

bp = Blueprint("dev", __name__, url_prefix="/dev")


def _mail_dir() -> Path:
    return Path(current_app.config["MAIL_FILE_DIR"])


@bp.before_request
def _development_only():
    if not current_app.config.get("DEVELOPMENT"):
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

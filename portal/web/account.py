"""A signed-in person's own account: password change and their secret calendar feed."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.core import account_services, calendar, clock
from portal.core.errors import ValidationFailed
from portal.extensions import db
from portal.web.auth import sign_in, sign_out
from portal.web.forms import ChangePasswordForm, ConfirmForm
from portal.web.links import external_url

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/")
@login_required
def index():
    return render_template(
        "account/index.html",
        title="Your account",
        has_feed=calendar.has_feed_token(db.session, current_user),
        feed_form=ConfirmForm(),
    )


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            account_services.change_password(
                db.session, current_user, form.current.data, form.password.data, now=clock.now()
            )
        except ValidationFailed as failed:
            form[failed.field or "password"].errors.extend(failed.reasons)
        else:
            # Other browsers are signed out; this one carries on in a new session with the new token.
            user = current_user._get_current_object()
            sign_out()
            sign_in(user)
            db.session.commit()
            flash("Your password has been changed.", "success")
            return redirect(url_for("account.index"))
    return render_template("account/password.html", form=form, title="Change your password")


@bp.route("/calendar-feed", methods=["POST"])
@login_required
def reset_feed():
    """Issue a new secret feed address; any earlier address stops working."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    token = calendar.issue_feed_token(db.session, current_user, now=clock.now())
    db.session.commit()
    return render_template(
        "account/feed_issued.html",
        title="Your calendar feed address",
        feed_url=external_url("account.feed", token=token),
    )


@bp.route("/calendar/<token>.ics")
def feed(token: str):
    """The subscription feed itself: no sign-in, the secret URL is the credential."""
    user = calendar.find_user_by_feed_token(db.session, token)
    if user is None:
        abort(404)
    now = clock.now()
    body = calendar.build_feed(
        calendar.collect_feed_events(db.session, user, now=now),
        name=f"{user.name}: RJ portal",
        now=now,
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="portal.ics"'
    response.headers["Cache-Control"] = "no-store"
    return response

"""Signing in and out, forgotten passwords, accepting an invitation and confirming a sign-up.

A signed-in browser holds two things in its (signed) cookie: Flask-Login's user id, which carries the
person's session token (changed by a password change or deactivation, which signs them out
everywhere), and the key of its own server-side `SignInSession`, which signing out ends, so a copied
cookie stops working at once. A session also ends `ABSOLUTE_SESSION_LIFETIME` after signing in.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from portal.core import account_services, clock
from portal.core.accounts import TokenPurpose, User, find_signed_in_user
from portal.core.errors import RuleViolation, ValidationFailed
from portal.extensions import db, limiter, login_manager
from portal.web.forms import ForgottenPasswordForm, NewPasswordForm, SignInForm
from portal.web.links import external_url

bp = Blueprint("auth", __name__)

SIGN_IN_FAILED = "Enter a correct email address and password"
SESSION_KEY = "sign_in_session"


def init_app(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


@login_manager.user_loader
def _load_user(login_id: str):
    return find_signed_in_user(
        db.session, login_id, session.get(SESSION_KEY),
        now=clock.now(), lifetime=current_app.config["ABSOLUTE_SESSION_LIFETIME"],
    )


def sign_in(user: User) -> None:
    """Start a new signed-in session for `user` in this browser (a fresh cookie: no session fixation).

    The caller commits.
    """
    session.clear()
    key = account_services.start_sign_in_session(db.session, user, now=clock.now())
    login_user(user)
    session[SESSION_KEY] = key
    session.permanent = True


def sign_out() -> None:
    """End this browser's signed-in session on the server and clear its cookie. The caller commits."""
    account_services.end_sign_in_session(db.session, session.get(SESSION_KEY), now=clock.now())
    logout_user()
    session.clear()


def _email_key() -> str:
    return request.form.get("email", "").strip().lower()


def _account_key() -> str:
    return "account:" + _email_key()


def _account_and_address_key() -> str:
    return f"account-address:{_email_key()}:{request.remote_addr}"


def _failed_sign_in(response) -> bool:
    # Only failed attempts count towards the limits; a successful sign-in redirects.
    return response.status_code != 302


def _per_account_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def _per_account_and_address_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS"]


def _per_address_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after sign-in (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    _per_account_and_address_limit, key_func=_account_and_address_key, methods=["POST"], deduct_when=_failed_sign_in
)
@limiter.limit(_per_address_limit, methods=["POST"], deduct_when=_failed_sign_in)
@limiter.limit(_per_account_limit, key_func=_account_key, methods=["POST"], deduct_when=_failed_sign_in)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    if form.validate_on_submit():
        user = account_services.authenticate(
            db.session, form.email.data, form.password.data, now=clock.now()
        )
        if user is not None:
            sign_in(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
        db.session.commit()
        form.email.errors.append(SIGN_IN_FAILED)
    return render_template("auth/login.html", form=form, title="Sign in")


@bp.route("/sign-out", methods=["POST"])
def logout():
    sign_out()
    db.session.commit()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/forgotten-password", methods=["GET", "POST"])
@limiter.limit(_per_address_limit, methods=["POST"])
def forgotten_password():
    form = ForgottenPasswordForm()
    if form.validate_on_submit():
        account_services.request_password_reset(
            db.session,
            form.email.data,
            link=lambda token: external_url("auth.reset_password", token=token),
            service_name=current_app.config["SERVICE_NAME"],
            lifetime=timedelta(hours=current_app.config["PASSWORD_RESET_HOURS"]),
            now=clock.now(),
        )
        db.session.commit()
        return render_template("auth/reset_sent.html", email=form.email.data, title="Check your email")
    return render_template("auth/forgotten_password.html", form=form, title="Reset your password")


def _password_page(token: str, purpose: TokenPurpose, template: str, title: str, done: str, *,
                   then_sign_in: bool = False):
    form = NewPasswordForm()
    if account_services.find_valid_token(db.session, token, purpose, now=clock.now()) is None:
        return render_template("auth/link_expired.html", title="This link has expired", purpose=purpose), 410
    if form.validate_on_submit():
        try:
            user = account_services.complete_password_token(
                db.session, token, purpose, form.password.data, now=clock.now()
            )
        except ValidationFailed as failed:
            form.password.errors.extend(failed.reasons)
        except RuleViolation:
            db.session.rollback()
            return render_template("auth/link_expired.html", title="This link has expired", purpose=purpose), 410
        else:
            if current_user.is_authenticated:
                sign_out()
            if then_sign_in:
                sign_in(user)
            db.session.commit()
            if not then_sign_in:
                session.clear()
            flash(done, "success")
            return redirect(url_for("home.index" if then_sign_in else "auth.login"))
    return render_template(template, form=form, title=title)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _password_page(
        token, TokenPurpose.PASSWORD_RESET, "auth/reset_password.html", "Choose a new password",
        "Your password has been changed. Sign in with your new password.",
    )


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return _password_page(
        token, TokenPurpose.INVITATION, "auth/accept_invitation.html", "Choose your password",
        "Your password is set. Sign in to get started.",
    )



@bp.route("/confirm-email/<token>", methods=["GET", "POST"])
def confirm_sign_up(token: str):
    return _password_page(
        token, TokenPurpose.SIGN_UP, "auth/confirm_sign_up.html", "Choose your password",
        "Your email address is confirmed and your password is set. You can start your application.",
        then_sign_in=True,
    )

"""Security headers on every response, and the idle timeout for signed-in sessions."""

from __future__ import annotations

import time

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import current_user

from portal.extensions import db
from portal.web.auth import sign_out

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


def init_app(app: Flask) -> None:
    app.after_request(_headers)
    app.before_request(_idle_timeout)


def _headers(response):
    # Uploaded files carry their own, stricter policy (portal.web.files): keep it.
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if current_user.is_authenticated and not request.path.startswith("/static/"):
        # Pages for signed-in people can hold case data: never keep them in a shared cache.
        response.headers["Cache-Control"] = "no-store"
    return response


def _idle_timeout():
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    limit = current_app.config["IDLE_TIMEOUT"].total_seconds()
    now = time.time()
    last_seen = session.get("last_seen")
    if last_seen is not None and now - float(last_seen) > limit:
        sign_out()
        db.session.commit()
        minutes = int(limit // 60)
        flash(f"You were signed out because you had not done anything for {minutes} minutes.", "info")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    session.permanent = True
    session["last_seen"] = now
    return None

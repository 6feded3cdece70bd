"""Domain errors and HTTP errors mapped to friendly pages, in one place. No stack trace is ever shown."""

from __future__ import annotations

from flask import Flask, Response, current_app, make_response, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, SecurityError

from portal.core.errors import NotFound, PermissionDenied, RuleViolation
from portal.extensions import db

PAGES = {
    400: ("Sorry, there is a problem with that request", "errors/400.html"),
    403: ("You do not have permission to see this page", "errors/403.html"),
    404: ("Page not found", "errors/404.html"),
    405: ("Sorry, there is a problem with that request", "errors/400.html"),
    409: ("This change cannot be made", "errors/409.html"),
    413: ("The file is too large", "errors/413.html"),
    429: ("Too many attempts", "errors/429.html"),
    500: ("Sorry, there is a problem with the service", "errors/500.html"),
}


def init_app(app: Flask) -> None:
    app.register_error_handler(NotFound, lambda error: _page(404))
    app.register_error_handler(PermissionDenied, lambda error: _page(403, error.reasons))
    app.register_error_handler(RuleViolation, lambda error: _page(409, error.reasons))
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)


def _page(status: int, reasons: list[str] | None = None):
    title, template = PAGES.get(status, PAGES[500])
    return render_template(template, title=title, reasons=reasons or []), status


def _csrf(error: CSRFError):
    title = "Your form could not be sent"
    return render_template("errors/csrf.html", title=title), 400


def _http(error: HTTPException):
    if isinstance(error, SecurityError):
        # A Host header outside TRUSTED_HOSTS: no URL can be built for it, so no page template either.
        return Response("Bad request: this address is not served here.\n", 400, mimetype="text/plain")
    status = error.code or 500
    if status not in PAGES:
        return error
    response = make_response(_page(status))
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        # RFC 9110 15.5.6: a 405 names the methods the resource does accept.
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


def _unexpected(error: Exception):
    db.session.rollback()
    current_app.logger.exception("Unhandled error")
    return _page(500)

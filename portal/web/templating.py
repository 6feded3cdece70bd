"""Template set-up: GOV.UK Frontend macros, WTForms widgets, and the portal's own helpers."""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, url_for
from flask_login import current_user
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from portal.core.accounts import Role
from portal.core.clock import to_london


def init_app(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(app.template_folder),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    WTFormsHelpers(app)
    app.jinja_env.filters["london"] = format_london
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.globals["Role"] = Role
    app.context_processor(_navigation)


def format_london(moment: dt.datetime | None, pattern: str = "%-d %B %Y at %H:%M") -> str:
    """An aware UTC datetime shown in UK local time, e.g. '3 March 2026 at 14:05'."""
    return "" if moment is None else to_london(moment).strftime(pattern)


def format_day(day: dt.date | None) -> str:
    return "" if day is None else day.strftime("%-d %B %Y")


def _navigation() -> dict:
    """Role-aware navigation links: (label, url, endpoint prefix) for the service navigation."""
    items: list[tuple[str, str]] = []
    if current_user.is_authenticated:
        items.append(("Home", url_for("home.index")))
        if current_user.has_role(Role.COORDINATOR):
            items.append(("Cases", url_for("cases.index")))
            items.append(("Referrer reports", url_for("cases.reports")))
            items.append(("Volunteer applications", url_for("volunteers.queue")))
        if current_user.has_role(Role.APPLICANT):
            items.append(("Your application", url_for("volunteers.application")))
        if current_user.has_role(Role.VOLUNTEER):
            items.append(("My cases", url_for("cases.my_cases")))
        if current_user.has_role(Role.ADMIN):
            items.append(("People", url_for("admin.users")))
            items.append(("Audit log", url_for("admin.audit_log")))
        items.append(("Your account", url_for("account.index")))
        if current_app.config.get("DEVELOPMENT"):
            items.append(("Mail (development)", url_for("dev.mail_index")))
    return {"navigation": items, "service_name": current_app.config["SERVICE_NAME"]}

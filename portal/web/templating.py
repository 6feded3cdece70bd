"""Template set-up: GOV.UK Frontend macros, WTForms widgets, and the portal's own helpers."""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, url_for
from flask_login import current_user
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from portal.core.accounts import ROLE_ORDER, Role
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


# What each role sees in the service navigation, in order: (label, endpoint). A person with several
# roles sees each link once, in the order of their most senior role's list.
NAVIGATION: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.ADMIN: (("People", "admin.users"), ("Audit log", "admin.audit_log"),
                 ("Expenses policy", "expenses.settings"), ("Allocation weights", "allocation.settings")),
    Role.COORDINATOR: (
        ("Cases", "cases.index"), ("Allocation", "allocation.index"), ("Referrer reports", "cases.reports"),
        ("Applications", "volunteers.queue"), ("Interviews", "volunteers.slot_list"),
        ("Volunteers", "volunteers.volunteer_list"), ("Vetting", "volunteers.vetting_dashboard"),
        ("Training", "training.index"), ("Supervision", "supervision.manage"),
        ("Expense claims", "expenses.review"), ("Payment batches", "expenses.batches"),
    ),
    Role.TRAINER: (("Training", "training.index"), ("Expenses", "expenses.index")),
    Role.VOLUNTEER: (
        ("My cases", "cases.my_cases"), ("Case offers", "allocation.my_offers"),
        ("My availability", "volunteers.preferences"), ("Training", "training.index"),
        ("Supervision", "supervision.mine"), ("Vetting", "volunteers.vetting_mine"), ("Expenses", "expenses.index"),
    ),
    Role.APPLICANT: (("Your application", "volunteers.application"),),
}


def _navigation() -> dict:
    """Role-aware navigation links: (label, url) for the service navigation."""
    items: list[tuple[str, str]] = []
    if current_user.is_authenticated:
        items.append(("Home", url_for("home.index")))
        seen: set[str] = set()
        for role in ROLE_ORDER:
            if not current_user.has_role(role):
                continue
            for label, endpoint in NAVIGATION[role]:
                # Links appear once their module's pages exist (a module may be switched off).
                if endpoint not in seen and endpoint in current_app.view_functions:
                    seen.add(endpoint)
                    items.append((label, url_for(endpoint)))
        items.append(("Your account", url_for("account.index")))
        if current_app.config.get("DEVELOPMENT"):
            items.append(("Mail (development)", url_for("dev.mail_index")))
    return {"navigation": items, "service_name": current_app.config["SERVICE_NAME"]}

"""Referrer reports for coordinators: a period (month, quarter or year) and optionally one referring
organisation, on screen as GOV.UK tables and as a CSV download (each export audited).

Both routes read the same GET query string, so the page's "Download CSV" link is the page's own
query with `.csv`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from flask import Response, render_template, request, url_for
from flask_login import current_user
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import ValidationError

from portal.cases import queries
from portal.cases.web.blueprint import bp
from portal.core import audit, clock
from portal.core.accounts import Role
from portal.extensions import db
from portal.web.baseform import PortalForm
from portal.web.decorators import role_required

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
EARLIEST_YEAR = 2000
ALL_REFERRERS = ""


class ReportForm(PortalForm):
    """Which report: shape only (the route supplies the referrer choices)."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    kind = SelectField(
        "Period",
        widget=GovRadioInput(),
        choices=[SelectChoice("month", "Month"), SelectChoice("quarter", "Quarter"),
                 SelectChoice("year", "Year")],
        validate_choice=False,
    )
    year = StringField("Year", widget=GovTextInput())
    month = SelectField(
        "Month", widget=GovSelect(), validate_choice=False,
        choices=[SelectChoice("", "Choose a month")]
        + [SelectChoice(str(number), name) for number, name in enumerate(MONTHS, start=1)],
    )
    quarter = SelectField(
        "Quarter", widget=GovSelect(), validate_choice=False,
        choices=[SelectChoice("", "Choose a quarter"), SelectChoice("1", "Q1: January to March"),
                 SelectChoice("2", "Q2: April to June"), SelectChoice("3", "Q3: July to September"),
                 SelectChoice("4", "Q4: October to December")],
    )
    referrer = SelectField("Referrer", widget=GovSelect(), choices=[], validate_choice=False)
    submit = SubmitField("Show report", widget=GovSubmitInput())

    def __init__(self, *args, referrers: list[str], today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.referrer.choices = [SelectChoice(ALL_REFERRERS, "All referrers")] + [
            SelectChoice(name) for name in referrers
        ]
        self.period: queries.ReportPeriod | None = None

    def validate_kind(self, field):
        if field.data not in ("month", "quarter", "year"):
            raise ValidationError("Choose a month, quarter or year")

    def validate_year(self, field):
        value = (field.data or "").strip()
        if not value:
            raise ValidationError("Enter the year")
        if not re.fullmatch(r"\d{4}", value):
            raise ValidationError("Year must be 4 digits, like 2026")
        if not EARLIEST_YEAR <= int(value) <= self.today.year:
            raise ValidationError(f"Year must be between {EARLIEST_YEAR} and {self.today.year}")

    def validate_month(self, field):
        if self.kind.data == "month" and field.data not in {str(number) for number in range(1, 13)}:
            raise ValidationError("Choose the month")

    def validate_quarter(self, field):
        if self.kind.data == "quarter" and field.data not in ("1", "2", "3", "4"):
            raise ValidationError("Choose the quarter")

    def validate_referrer(self, field):
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose a referrer from the list")

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        year = int(self.year.data.strip())
        if self.kind.data == "month":
            period = queries.ReportPeriod.month(year, int(self.month.data))
            field = self.month
        elif self.kind.data == "quarter":
            period = queries.ReportPeriod.quarter(year, int(self.quarter.data))
            field = self.quarter
        else:
            period = queries.ReportPeriod.year(year)
            field = self.year
        if period.starts_on > self.today:
            field.errors.append(f"{period.label} has not started yet: choose a period up to today")
            return False
        self.period = period
        return True


@dataclass(frozen=True)
class Section:
    caption: str
    rows: list[tuple[str, str]]


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else ""


def report_rows(report: queries.ReferrerReport) -> list[tuple[str, str]]:
    """The report's rows with the two rates after the counts they come from (screen and CSV)."""
    rows = []
    for measure, value in report.rows():
        rows.append((measure, value))
        if measure == "First contact within the Victims' Code time":
            rows.append(("First contact within time (% of referrals)",
                         _percent(report.first_contact_in_time, report.received)))
        elif measure == "Consented to take part (any party)":
            rows.append(("Consented to take part (% of referrals)",
                         _percent(report.consented_any, report.received)))
    return rows


_SECTIONS = (
    ("Consented", "Consent"),
    ("Interventions: ", "Interventions started, by type"),
    ("Outcome agreements", "Outcome agreements"),
    ("Closed: ", "Cases closed, by reason"),
    ("Feedback", "Feedback"),
    ("Average satisfaction", "Feedback"),
)


def _sections(rows: list[tuple[str, str]]) -> list[Section]:
    """Group the rows under captions for the screen; prefixes that repeat the caption are dropped."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for measure, value in rows:
        if measure in ("Period", "Referrer"):
            continue
        caption = "Referrals and first contact"
        shown = measure
        for prefix, section in _SECTIONS:
            if measure.startswith(prefix):
                caption = section
                if prefix.endswith(": "):
                    shown = measure.removeprefix(prefix).capitalize()
                break
        grouped.setdefault(caption, []).append((shown, value))
    return [Section(caption, items) for caption, items in grouped.items()]


def _form() -> ReportForm:
    today = clock.today()
    args = request.args
    if not args:
        # First visit: last full month, for every referrer.
        year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        args = {"kind": "month", "year": str(year), "month": str(month), "referrer": ALL_REFERRERS}
    return ReportForm(formdata=_Args(args), referrers=queries.list_referrers(db.session), today=today)


class _Args(dict):
    """Query-string arguments as WTForms formdata (it needs `getlist`)."""

    def getlist(self, key):
        value = self.get(key)
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value)


def _referrer(form: ReportForm) -> str | None:
    return form.referrer.data or None


@bp.route("/reports")
@role_required(Role.COORDINATOR)
def reports():
    form = _form()
    report = None
    status = 200
    if form.validate():
        report = queries.referrer_report(db.session, form.period, referrer=_referrer(form))
    elif request.args:
        status = 400
    csv_url = url_for("cases.reports_csv", **_query(form)) if report else None
    sections = _sections(report_rows(report)) if report else []
    return render_template(
        "cases/reports/report.html", form=form, report=report, sections=sections, csv_url=csv_url,
        title="Referrer reports",
    ), status


def _query(form: ReportForm) -> dict[str, str]:
    """The form's choices as a query string (the CSV link carries the same report)."""
    return {name: form[name].data for name in ("kind", "year", "month", "quarter", "referrer")
            if form[name].data}


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(value: str) -> str:
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if value.startswith(_FORMULA_START) and not re.fullmatch(r"-?\d+(\.\d+)?", value):
        return "'" + value
    return value


def _filename(report: queries.ReferrerReport) -> str:
    who = re.sub(r"[^a-z0-9]+", "-", (report.referrer or "all-referrers").lower()).strip("-")
    return f"referrer-report-{report.period.starts_on:%Y-%m-%d}-to-{report.period.ends_on:%Y-%m-%d}-{who}.csv"


@bp.route("/reports.csv")
@role_required(Role.COORDINATOR)
def reports_csv():
    form = _form()
    if not form.validate():
        return render_template(
            "cases/reports/report.html", form=form, report=None, sections=[], csv_url=None,
            title="Referrer reports",
        ), 400
    report = queries.referrer_report(db.session, form.period, referrer=_referrer(form))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Measure", "Value"])
    for measure, value in report_rows(report):
        writer.writerow([_safe_cell(measure), _safe_cell(value)])
    audit.record(
        db.session, current_user, "cases.report_exported", None, at=clock.now(),
        report="referrer", period=report.period.label, starts_on=report.period.starts_on,
        ends_on=report.period.ends_on, referrer=report.referrer,
    )
    db.session.commit()
    return Response(
        # A byte-order mark so Excel reads the accents and curly quotes as UTF-8.
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(report)}"',
            "Cache-Control": "no-store",
        },
    )

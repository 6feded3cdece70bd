"""Forms for the coordinator's application pages: the queue filter, shortlisting and rejecting. Shape only."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSelect, GovSubmitInput
from wtforms import SelectChoice, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.validation import too_long
from portal.volunteers.models import DAY_PERIODS, WEEKDAYS, ApplicationStatus
from portal.volunteers.services import NOTE_MAX, REASON_MAX
from portal.web.baseform import PortalForm
from portal.web.fields import GovDateField

SORT_CHOICES = [
    SelectChoice("submitted-desc", "Submitted, newest first"),
    SelectChoice("submitted-asc", "Submitted, oldest first"),
    SelectChoice("name-asc", "Name, A to Z"),
    SelectChoice("name-desc", "Name, Z to A"),
]
SORTS = {choice.value: (choice.value.split("-")[0], choice.value.endswith("-desc")) for choice in SORT_CHOICES}


def _select(label: str, items) -> SelectField:
    return SelectField(label, choices=items, widget=GovSelect(), validators=[Optional()], coerce=str)


def status_choices() -> list[SelectChoice]:
    return [SelectChoice("", "Any status")] + [
        SelectChoice(status.value, status.label[:1].upper() + status.label[1:])
        for status in ApplicationStatus
        if status != ApplicationStatus.DRAFT
    ]


class ApplicationFilterForm(PortalForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    status = _select("Status", status_choices())
    district = _select("District", [])
    submitted_from = GovDateField("Submitted from", validators=[Optional()])
    submitted_to = GovDateField("Submitted to", validators=[Optional()])
    weekday = _select(
        "Available on", [SelectChoice("", "Any day")] + [SelectChoice(day, day.capitalize()) for day in WEEKDAYS]
    )
    period = _select(
        "Time of day",
        [SelectChoice("", "Any time")] + [SelectChoice(period, period.capitalize()) for period in DAY_PERIODS],
    )
    sort = _select("Sort by", SORT_CHOICES)
    submit = SubmitField("Apply filters", widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        start, end = self.submitted_from.data, self.submitted_to.data
        if valid and start and end and end < start:
            message = "Submitted to must be the same as or after submitted from"
            self.submitted_to.errors = [*self.submitted_to.errors, message]
            valid = False
        return valid


class ShortlistForm(PortalForm):
    submit = SubmitField("Shortlist for interview", widget=GovSubmitInput())


class RejectForm(PortalForm):
    reason = TextAreaField(
        "Why are you rejecting this application?",
        description="This is kept on the application record for coordinators. The applicant gets a kind e-mail "
                    "telling them the outcome; it does not include this reason.",
        widget=GovCharacterCount(),
        validators=[
            DataRequired("Enter the reason for rejecting the application"),
            Length(max=REASON_MAX, message=too_long("The reason", REASON_MAX)),
        ],
    )
    submit = SubmitField("Reject application", widget=GovSubmitInput())


class NoteForm(PortalForm):
    text = TextAreaField(
        "Add a note",
        description="Notes are for coordinators only; the applicant never sees them.",
        widget=GovCharacterCount(),
        validators=[
            DataRequired("Enter the note"),
            Length(max=NOTE_MAX, message=too_long("The note", NOTE_MAX)),
        ],
    )
    submit = SubmitField("Save note", widget=GovSubmitInput())

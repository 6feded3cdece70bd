"""Forms for the training pages: courses, cohorts, enrolment, needs, registers, make-up days. Shape only."""

from __future__ import annotations

import datetime as dt
import re

from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    IntegerField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from portal.core.accounts import User
from portal.training.models import COURSE_DAYS, AttendanceMark
from portal.training.services import MAX_NEEDS, REASON_MAX
from portal.web.baseform import PortalForm
from portal.web.fields import GovDateField

TIME_PATTERN = re.compile(r"^\s*([01]?\d|2[0-3])[:.]([0-5]\d)\s*$")
MARK_CHOICES = [SelectChoice(mark.value, mark.label.capitalize()) for mark in AttendanceMark]


def optional_int(value) -> int | None:
    """Coerce a select's value to an int, keeping the blank "Choose ..." option as None."""
    if value in (None, ""):
        return None
    return int(value)


def parse_time(text: str | None) -> dt.time | None:
    match = TIME_PATTERN.match(text or "")
    return dt.time(int(match.group(1)), int(match.group(2))) if match else None


class TimeField(StringField):
    """A 24-hour time typed as 09:30; `.time` holds the parsed value."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("description", "Use the 24-hour clock, for example 09:30")
        super().__init__(label, validators, **kwargs)

    @property
    def time(self) -> dt.time | None:
        return parse_time(self.data)

    def pre_validate(self, form):
        if self.data and self.time is None:
            raise ValidationError(f"{self.label.text} must be a time like 09:30")


class CourseForm(PortalForm):
    title = StringField("Course title", widget=GovTextInput(),
                        validators=[DataRequired("Enter the course title"), Length(max=200)])
    description = TextAreaField("Description", widget=GovTextArea(), validators=[Optional(), Length(max=5000)])
    hours = IntegerField("Hours of training", widget=GovTextInput(),
                         validators=[InputRequired("Enter the hours of training"),
                                     NumberRange(min=1, max=200, message="Hours must be between 1 and 200")])
    competencies = TextAreaField(
        "Competencies covered", widget=GovTextArea(), validators=[Optional(), Length(max=5000)],
        description="One a line. The practical assessment observes each one.",
    )
    submit = SubmitField("Save course", widget=GovSubmitInput())

    @property
    def competency_list(self) -> list[str]:
        return [line.strip() for line in (self.competencies.data or "").splitlines() if line.strip()]


def _day_fields(number: int) -> dict:
    return {
        f"day{number}_date": GovDateField(f"Day {number} date",
                                          validators=[DataRequired(f"Enter the date of day {number}")]),
        f"day{number}_starts": TimeField(f"Day {number} starts",
                                         validators=[DataRequired(f"Enter the start time of day {number}")]),
        f"day{number}_ends": TimeField(f"Day {number} ends",
                                       validators=[DataRequired(f"Enter the end time of day {number}")]),
    }


class _CohortFields(PortalForm):
    name = StringField("Cohort name", widget=GovTextInput(), description="For example: Maidstone, March 2027",
                       validators=[DataRequired("Enter a name for the cohort"), Length(max=120)])
    capacity = IntegerField("Places", widget=GovTextInput(),
                            validators=[InputRequired("Enter the number of places"),
                                        NumberRange(min=1, max=200, message="Places must be between 1 and 200")])
    trainer_ids = SelectMultipleField("Trainers", widget=GovCheckboxesInput(), coerce=int, choices=[],
                                      validators=[DataRequired("Choose at least one trainer")])
    venue_name = StringField("Venue name", widget=GovTextInput(), validators=[Optional(), Length(max=200)])
    venue_address = TextAreaField("Venue address", widget=GovTextArea(), validators=[Optional(), Length(max=2000)])
    access_notes = TextAreaField("Access notes", widget=GovTextArea(), validators=[Optional(), Length(max=2000)],
                                 description="Step-free access, parking, hearing loop, nearest station")
    online_link = StringField("Online link", widget=GovTextInput(), validators=[Optional(), Length(max=500)],
                              description="For a cohort that meets online: the video call link")


CohortForm = type("CohortForm", (_CohortFields,), {
    **{name: field for number in range(1, COURSE_DAYS + 1) for name, field in _day_fields(number).items()},
    "submit": SubmitField("Save cohort", widget=GovSubmitInput()),
})


def day_field_names(number: int) -> tuple[str, str, str]:
    return f"day{number}_date", f"day{number}_starts", f"day{number}_ends"


def trainer_choices(trainers: list[User]) -> list[SelectChoice]:
    return [SelectChoice(user.id, user.name) for user in trainers]


class EnrolForm(PortalForm):
    """A coordinator enrols a volunteer with an offer, chosen from the people a search found (the service
    checks that they may be enrolled, so any id is safe here)."""

    user_id = RadioField("Volunteer to enrol", widget=GovRadioInput(), coerce=optional_int, choices=[],
                         validate_choice=False, validators=[DataRequired("Choose a volunteer to enrol")])
    q = StringField(validators=[Optional()])  # the search that listed them, to list them again on an error
    submit = SubmitField("Enrol", widget=GovSubmitInput())


SEARCH_MAX = 100


class VolunteerSearchForm(PortalForm):
    """Find a volunteer to enrol by name or e-mail address (a GET form: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField("Name or e-mail address", widget=GovTextInput(),
                    description="Volunteers who have an offer and are in vetting or training",
                    validators=[Optional(), Length(max=SEARCH_MAX, message=f"The search must be {SEARCH_MAX} "
                                                                          "characters or fewer")])
    submit = SubmitField("Search", widget=GovSubmitInput())


def _needs_fields() -> dict:
    hint = "Only the trainers and coordinators of your course see this. Leave it blank to share nothing."
    return {
        "dietary_needs": TextAreaField("Dietary needs (optional)", widget=GovCharacterCount(), description=hint,
                                       validators=[Optional(), Length(max=MAX_NEEDS)]),
        "access_needs": TextAreaField("Access needs (optional)", widget=GovCharacterCount(), description=hint,
                                      validators=[Optional(), Length(max=MAX_NEEDS)]),
    }


JoinForm = type("JoinForm", (PortalForm,), {**_needs_fields(), "submit": SubmitField("Join", widget=GovSubmitInput())})
NeedsForm = type("NeedsForm", (PortalForm,), {**_needs_fields(),
                                              "submit": SubmitField("Save what I share", widget=GovSubmitInput())})


class WithdrawForm(PortalForm):
    reason = TextAreaField("Why are you withdrawing? (optional)", widget=GovCharacterCount(),
                           validators=[Optional(), Length(max=REASON_MAX)])
    submit = SubmitField("Withdraw", widget=GovSubmitInput())


class CancelCohortForm(PortalForm):
    reason = TextAreaField("Why is the cohort cancelled?", widget=GovCharacterCount(),
                           description="Sent to everyone enrolled and on the waiting list.",
                           validators=[DataRequired("Give a reason: it is sent to everyone enrolled"),
                                       Length(max=REASON_MAX)])
    submit = SubmitField("Cancel the cohort", widget=GovSubmitInput())


class MakeUpForm(PortalForm):
    cohort_day_id = RadioField("Make-up day", widget=GovRadioInput(), coerce=int, choices=[],
                               validators=[InputRequired("Choose a make-up day")])
    submit = SubmitField("Book make-up day", widget=GovSubmitInput())


class ConfirmForm(PortalForm):
    submit = SubmitField("Confirm", widget=GovSubmitInput())


def register_form_class(enrolment_ids: list[int]) -> type[PortalForm]:
    """A register: for each person a mark (blank leaves it as it was) and a reason."""
    fields: dict = {}
    for enrolment_id in enrolment_ids:
        fields[f"mark_{enrolment_id}"] = RadioField(
            "Attendance", widget=GovRadioInput(), choices=MARK_CHOICES, validators=[Optional()],
            validate_choice=False,  # blank leaves a mark as it was; the service checks the value
        )
        fields[f"reason_{enrolment_id}"] = StringField(
            "Reason (needed for an absence)", widget=GovTextInput(), validators=[Optional(), Length(max=REASON_MAX)],
        )
    fields["submit"] = SubmitField("Save register", widget=GovSubmitInput())
    return type("RegisterForm", (PortalForm,), fields)

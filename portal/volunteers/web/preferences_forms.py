"""Forms for the availability and preferences pages: shape only (fields, widgets, choices). The
profiles services decide every rule and return the messages, so a form only refuses what it cannot read."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectChoice, SelectMultipleField, StringField, SubmitField, TextAreaField

from portal.volunteers.models import WEEKDAYS
from portal.volunteers.profiles.models import ConflictKind, ExperienceLevel
from portal.volunteers.web.pattern_fields import WeeklyPatternMixin, day_field
from portal.web.baseform import PortalForm
from portal.web.fields import GovDateField, WholeNumberField

YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]
# Made before the form's other fields so that the days come first in the error summary, as on the page.
_DAY_FIELDS = {day: day_field(day) for day in WEEKDAYS}


class PreferencesForm(WeeklyPatternMixin, PortalForm):
    """One page for everything allocation reads: a fieldset of checkboxes per weekday, districts (the
    route sets the choices from the configured list), case limit, languages and driving."""

    districts = SelectMultipleField(
        "Which districts do you work in?", widget=GovCheckboxesInput(), choices=[],
        description="Select all that apply.",
        validate_choice=False,  # the service names any unknown district
    )
    max_cases = WholeNumberField(
        "The most cases you will hold at once", description="Between 1 and 10. Most volunteers hold 2.",
        invalid_message="The most cases at once must be a whole number, like 2",
    )
    languages = StringField(
        "Which languages do you speak?", widget=GovTextInput(),
        description="Separate languages with commas, for example English, Polish",
    )
    drives = RadioField("Can you drive to meetings?", widget=GovRadioInput(), choices=YES_NO,
                        validate_choice=False)
    submit = SubmitField("Save changes", widget=GovSubmitInput())


for _day, _field in _DAY_FIELDS.items():
    setattr(PreferencesForm, _day, _field)


class AbsenceForm(PortalForm):
    starts_on = GovDateField("First day away", description="For example, 27 3 2027",
                             invalid_message="The first day away must be a real date")
    ends_on = GovDateField("Last day away", description="For example, 10 4 2027",
                           invalid_message="The last day away must be a real date")
    note = StringField("Note (optional)", widget=GovTextInput(),
                       description="For example, “Holiday”. Coordinators can see this.")
    submit = SubmitField("Add these dates", widget=GovSubmitInput())


class ConflictForm(PortalForm):
    kind = RadioField(
        "Is it a person or a place?", widget=GovRadioInput(), validate_choice=False,
        choices=[SelectChoice(ConflictKind.PERSON.value, "A person"), SelectChoice(ConflictKind.PLACE.value,
                                                                                  "A place")],
    )
    name = StringField("Name of the person or place", widget=GovTextInput(),
                       description="For example, a neighbour's full name, or a school or estate.")
    details = TextAreaField("How do you know them? (optional)", widget=GovTextArea(),
                            description="Enough for a coordinator to recognise a case that involves them.")
    submit = SubmitField("Declare this conflict", widget=GovSubmitInput())


class PauseForm(PortalForm):
    until = GovDateField("Last day of your pause", description="You can pause for up to a year. For example, "
                         "31 1 2027", invalid_message="The last day of your pause must be a real date")
    reason = StringField("Reason (optional)", widget=GovTextInput(),
                         description="For example, “Moving house”. Coordinators can see this.")
    submit = SubmitField("Pause my volunteering", widget=GovSubmitInput())


class ExperienceForm(PortalForm):
    experience = RadioField(
        "Experience level", widget=GovRadioInput(), validate_choice=False,
        choices=[SelectChoice(level.value, level.label) for level in ExperienceLevel],
    )
    submit = SubmitField("Save experience level", widget=GovSubmitInput())


class ButtonForm(PortalForm):
    """A button-only form (remove dates, withdraw a conflict, resume): it carries the CSRF token."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())

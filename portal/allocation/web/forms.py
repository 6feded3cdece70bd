"""Forms for the allocation pages: shape only (required, lengths, choices); services check policy."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.allocation.scoring import PARTS
from portal.core.validation import too_long
from portal.volunteers.web.pattern_fields import WeeklyPatternMixin, day_field
from portal.web.baseform import PortalForm
from portal.web.fields import GovDateField, WholeNumberField

REASON_MAX = 500
WITHDRAW_REASON_MAX = 300
LANGUAGES_MAX = 300
FACILITATOR_CHOICES = [SelectChoice("2", "Two: a lead and a co-facilitator"), SelectChoice("1", "One: a lead only")]


def optional_int(value) -> int | None:
    """Coerce a hidden or chosen id to int, leaving an empty value as None."""
    return None if value in ("", None) else int(value)


def _day_field(day: str) -> SelectMultipleField:
    return day_field(day, validate_choice=True)


class NeedsForm(WeeklyPatternMixin, PortalForm):
    """What a case asks of its facilitators. The meeting pattern is one checkbox group per weekday
    (a fieldset each), so every checkbox has a label a screen reader reads with its day."""

    monday = _day_field("monday")
    tuesday = _day_field("tuesday")
    wednesday = _day_field("wednesday")
    thursday = _day_field("thursday")
    friday = _day_field("friday")
    saturday = _day_field("saturday")
    sunday = _day_field("sunday")
    languages = StringField(
        "Languages the meetings need, other than English", widget=GovTextInput(),
        description="Separate languages with commas, for example Polish, British Sign Language. "
                    "Leave empty if English is enough.",
        validators=[Optional(), Length(max=LANGUAGES_MAX, message=too_long("Languages", LANGUAGES_MAX))],
    )
    is_complex = BooleanField(
        "Sensitive or complex case: only facilitators trained for sensitive and complex cases",
        widget=GovCheckboxInput(),
    )
    expected_hours = WholeNumberField(
        "Expected hours of work for each facilitator", validators=[InputRequired("Enter the expected hours")],
        invalid_message="Expected hours must be a whole number, like 20",
    )
    facilitators_needed = RadioField(
        "How many facilitators?", widget=GovRadioInput(), choices=FACILITATOR_CHOICES, coerce=optional_int,
        validators=[DataRequired("Select how many facilitators the case needs")],
    )
    expected_start_on = GovDateField(
        "Expected start", validators=[DataRequired("Enter the expected start date")],
        description="For example, 30 11 2026", invalid_message="The expected start must be a real date",
    )
    expected_end_on = GovDateField(
        "Expected end", validators=[DataRequired("Enter the expected end date")],
        description="For example, 11 1 2027", invalid_message="The expected end must be a real date",
    )
    submit = SubmitField("Save needs", widget=GovSubmitInput())

    def language_list(self) -> list[str]:
        return [part.strip() for part in (self.languages.data or "").split(",") if part.strip()]


class OfferForm(PortalForm):
    """Offer the case: a pair (lead and co-facilitator), or one person in one role."""

    lead_id = HiddenField(filters=[optional_int])
    co_id = HiddenField(filters=[optional_int])
    submit = SubmitField("Offer", widget=GovSubmitInput())


WAITED_DAYS_MAX = 3650


def _any_yes_no(label: str, yes: str, no: str) -> SelectField:
    return SelectField(label, choices=[SelectChoice("", "Any"), SelectChoice("yes", yes), SelectChoice("no", no)],
                       widget=GovSelect(), validators=[Optional()])


class WaitingFilterForm(PortalForm):
    """The waiting list's filters, read from the query string. The district's choices are set by the
    route (the districts with waiting cases); an unknown choice or an absurd number of days is an
    error shown above the list, which is then shown unfiltered."""

    class Meta:
        csrf = False  # a GET filter changes nothing

    district = SelectField("District", choices=[], widget=GovSelect(), validators=[Optional()])
    waited = WholeNumberField(
        "Waiting more than (days)", validators=[Optional(), NumberRange(
            min=0, max=WAITED_DAYS_MAX, message=f"Days waiting must be between 0 and {WAITED_DAYS_MAX:,}")],
        invalid_message="Days waiting must be a whole number, like 28",
    )
    needs = _any_yes_no("Needs", "Recorded", "Not recorded yet")
    sensitive = _any_yes_no("Sensitive or complex", "Sensitive or complex only", "Not sensitive")
    offered = _any_yes_no("Offers", "A live offer out", "Nobody offered yet")
    overdue = BooleanField("Only cases overdue for first contact", widget=GovCheckboxInput())
    submit = SubmitField("Apply filters", widget=GovSubmitInput())

    @staticmethod
    def yes_no(value: str | None) -> bool | None:
        return {"yes": True, "no": False}.get(value or "")


class SearchForm(PortalForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("Why is someone not suggested?", widget=GovTextInput(),
                    description="Search by a volunteer's name or e-mail address",
                    validators=[Optional(), Length(max=254)])
    submit = SubmitField("Search", widget=GovSubmitInput())


class WithdrawForm(PortalForm):
    reason = TextAreaField(
        "Reason (optional)", widget=GovCharacterCount(),
        description="The facilitator is told that the offer is withdrawn, with this reason.",
        validators=[Optional(), Length(max=WITHDRAW_REASON_MAX, message=too_long("The reason", WITHDRAW_REASON_MAX))],
    )
    submit = SubmitField("Withdraw the offer", widget=GovSubmitInput())


class AcceptForm(PortalForm):
    submit = SubmitField("Accept the case", widget=GovSubmitInput())


class DeclineForm(PortalForm):
    reason = TextAreaField(
        "Reason (optional)", widget=GovCharacterCount(),
        description="This helps the coordinator offer the right cases. Only coordinators see it.",
        validators=[Optional(), Length(max=REASON_MAX, message=too_long("The reason", REASON_MAX))],
    )
    submit = SubmitField("Decline the case", widget=GovSubmitInput())


class ButtonForm(PortalForm):
    """A button-only form (confirm, discard, make a proposal): it carries the CSRF token."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


class SettingsForm(PortalForm):
    """The ranking weights (one whole number per part) and how long facilitators have to reply."""

    offer_hours = WholeNumberField(
        "Hours a facilitator has to accept or decline an offer",
        validators=[InputRequired("Enter how many hours facilitators have to reply")],
        invalid_message="Hours must be a whole number, like 72",
    )
    submit = SubmitField("Save settings", widget=GovSubmitInput())

    def weight_fields(self) -> list:
        return [self._fields[f"weight_{name}"] for name, _label in PARTS]

    def weights(self) -> dict[str, int]:
        return {name: self._fields[f"weight_{name}"].data for name, _label in PARTS}


for _name, _label in PARTS:
    setattr(SettingsForm, f"weight_{_name}", WholeNumberField(
        _label, validators=[InputRequired(f"Enter a weight for “{_label}”")],
        invalid_message=f"The weight for “{_label}” must be a whole number from 0 to 100",
    ))

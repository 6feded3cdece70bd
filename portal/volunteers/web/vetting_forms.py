"""Forms for the vetting pages: shape only (required, lengths, choices); services check policy."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.validation import too_long
from portal.volunteers.profiles.models import VolunteerStatus
from portal.volunteers.vetting.models import (
    DBS_WORKFORCES,
    LEVELS,
    CheckKind,
    CheckStatus,
    CircumstanceKind,
)
from portal.volunteers.vetting.services import DECISION_MAKER_MAX, DETAILS_MAX, NOTES_MAX, RECORDABLE_STATUSES
from portal.web.baseform import PortalForm
from portal.web.fields import GovDateField

STATUS_HINTS = {
    CheckStatus.NOT_STARTED: "Forms sent or about to be sent",
    CheckStatus.SUBMITTED: "With the vetting unit, waiting for a decision",
    CheckStatus.CLEARED: "The vetting unit has cleared the volunteer",
    CheckStatus.REFUSED: "The vetting unit has refused clearance",
    CheckStatus.WITHDRAWN: "Stopped before a decision, or clearance withdrawn",
    CheckStatus.LAPSED: "No longer in date",
}


def status_choices(statuses) -> list[SelectChoice]:
    return [SelectChoice(status.value, status.label.capitalize()) for status in statuses]


class CheckForm(PortalForm):
    """A new check, a renewal, or a decision on / correction of an existing check. The route sets
    `status.choices` and `level.choices` for the kind; unused fields are left out of the page."""

    status = RadioField("What is the status of the check?", widget=GovRadioInput(), coerce=str,
                        choices=status_choices(RECORDABLE_STATUSES),
                        validators=[InputRequired("Choose the status of the check")])
    level = SelectField("Level", widget=GovSelect(), coerce=str, choices=[], validators=[Optional()])
    submitted_on = GovDateField("Date submitted", validators=[Optional()],
                                description="The day the forms went to the vetting unit. For example, 27 3 2026")
    cleared_on = GovDateField("Date cleared", validators=[Optional()],
                              description="Or, for a DBS check, the date the certificate was issued")
    decided_on = GovDateField("Date refused or withdrawn", validators=[Optional()])
    expires_on = GovDateField(
        "Expiry or review date (only to change the usual date)", validators=[Optional()],
        description="Leave blank to use the rule: we work it out from the date cleared.",
    )
    expiry_override_reason = StringField(
        "Reason for changing the expiry date", widget=GovTextInput(),
        validators=[Optional(), Length(max=500, message="The reason must be 500 characters or fewer")],
    )
    reference_last4 = StringField(
        "Last 4 characters of the certificate or reference number", widget=GovTextInput(),
        description="Only the last 4 characters: never the whole number.",
        validators=[Optional(), Length(max=30)],
    )
    decision_maker = StringField(
        "Who decided", widget=GovTextInput(), description="For example, Essex Police Force Vetting Unit",
        validators=[Optional(), Length(max=DECISION_MAKER_MAX,
                                       message=too_long("Who decided", DECISION_MAKER_MAX))],
    )
    dbs_workforce = SelectField(
        "Workforce", widget=GovSelect(), coerce=str, validators=[Optional()],
        choices=[SelectChoice("", "Choose a workforce")] + [SelectChoice(v, w) for v, w in DBS_WORKFORCES],
    )
    update_service = BooleanField("Subscribed to the DBS Update Service", widget=GovCheckboxInput())
    update_service_checked_on = GovDateField("Date of the last Update Service status check", validators=[Optional()])
    notes = TextAreaField(
        "Notes", widget=GovCharacterCount(),
        description="Coordinators only. Do not copy certificate contents here.",
        validators=[Optional(), Length(max=NOTES_MAX, message=too_long("Notes", NOTES_MAX))],
    )
    submit = SubmitField("Save check", widget=GovSubmitInput())

    def prepare(self, kind: CheckKind, statuses) -> CheckForm:
        self.status.choices = status_choices(statuses)
        self.level.choices = [SelectChoice("", "Choose a level")] + [
            SelectChoice(value, words) for value, words in LEVELS[kind]
        ]
        return self

    def fields_for(self, kind: CheckKind) -> list:
        """The fields shown for this kind of check, in page order."""
        names = ["status"]
        if LEVELS[kind]:
            names.append("level")
        names += ["submitted_on", "cleared_on", "decided_on", "expires_on", "expiry_override_reason",
                  "reference_last4", "decision_maker"]
        if kind is CheckKind.DBS:
            names += ["dbs_workforce", "update_service", "update_service_checked_on"]
        names.append("notes")
        return [self[name] for name in names]


def _months_field(label: str) -> IntegerField:
    return IntegerField(label, widget=GovTextInput(), validators=[
        Optional(), NumberRange(min=1, max=120, message=f"{label} must be between 1 and 120 months")])


class RulesForm(PortalForm):
    submit = SubmitField("Save rules", widget=GovSubmitInput())

    @classmethod
    def for_kinds(cls):
        """A form class with, for each kind, required / months / reminder days (and the Update Service period)."""
        attributes = {}
        for kind in CheckKind:
            attributes[f"{kind.value}-required"] = BooleanField(f"{kind.label} is required to practise",
                                                                widget=GovCheckboxInput())
            period = "Review after (months)" if kind is CheckKind.NSV else "Valid for (months)"
            attributes[f"{kind.value}-months"] = _months_field(f"{kind.label}: {period.lower()}")
            attributes[f"{kind.value}-reminder_days"] = StringField(
                f"{kind.label}: reminders (days before expiry)", widget=GovTextInput(),
                description="Whole numbers separated by commas, for example 60, 30, 7. Leave blank for none.",
                validators=[Optional(), Length(max=50)],
            )
            if kind is CheckKind.DBS:
                attributes[f"{kind.value}-update_service_months"] = IntegerField(
                    f"{kind.label}: an Update Service status check keeps it in date for (months)",
                    widget=GovTextInput(), validators=[
                        Optional(), NumberRange(min=1, max=60, message="The Update Service period must be between "
                                                                       "1 and 60 months")])
        return type("KindRulesForm", (cls,), attributes)


class VolunteerFilterForm(PortalForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    search = StringField("Name or e-mail contains", widget=GovTextInput(), validators=[Optional(), Length(max=100)])
    status = SelectField(
        "Status", widget=GovSelect(), coerce=str, validators=[Optional()],
        choices=[SelectChoice("", "Any status")]
        + [SelectChoice(status.value, status.label.capitalize()) for status in VolunteerStatus],
    )
    district = SelectField("District", widget=GovSelect(), coerce=str, validators=[Optional()],
                           choices=[SelectChoice("", "Any district")])  # the route adds the configured ones
    submit = SubmitField("Filter", widget=GovSubmitInput())


class CircumstancesForm(PortalForm):
    kind = RadioField(
        "What has changed?", widget=GovRadioInput(), coerce=str,
        choices=[SelectChoice(kind.value, kind.label) for kind in CircumstanceKind],
        validators=[InputRequired("Choose what has changed")],
    )
    changed_on = GovDateField("When did it change?", validators=[Optional()],
                              description="If you know. For example, 27 3 2026")
    details = TextAreaField(
        "Tell us about the change", widget=GovTextArea(),
        description="Only coordinators can read this. Give enough detail for them to decide whether your vetting "
                    "needs to be looked at again.",
        validators=[DataRequired("Tell us what has changed"),
                    Length(max=DETAILS_MAX, message=too_long("What has changed", DETAILS_MAX))],
    )
    submit = SubmitField("Send to the coordinators", widget=GovSubmitInput())

"""Coordinator case forms: shape only (required, lengths, choices). Services decide the rules.

Choices that depend on the database (parties, people, the statuses a case may move to) are set
by the route after building the form; a form never queries.
"""

from __future__ import annotations

import re

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.cases.models import (
    AllocationRole,
    ConsentMethod,
    ConsentPurpose,
    ContactMethod,
    ContactOutcome,
    InterventionType,
    JusticeStage,
    NoteVisibility,
    OffenceCategory,
    PartyRole,
    ReferralSource,
    RiskRating,
    RiskStage,
    SensitiveKind,
    SessionType,
)
from portal.web.baseform import PortalForm
from portal.web.fields import GovDateField


def to_choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


YES_NO = to_choices([("yes", "Yes"), ("no", "No")])
YES_NO_UNKNOWN = to_choices([("yes", "Yes"), ("no", "No"), ("", "Not asked")])


def choices(enum_class, *, blank: str | None = None) -> list[tuple[str, str]]:
    """(value, label) pairs for an enum, labels in sentence case; `blank` adds an empty first choice."""
    items = [(member.value, member.label[:1].upper() + member.label[1:]) for member in enum_class]
    return to_choices([("", blank), *items] if blank is not None else items)


def optional_int(value):
    if value in ("", None):
        return None
    return int(value)


def yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _text(label: str, message: str | None = None, *, max_length: int = 200, **kwargs) -> StringField:
    validators = [DataRequired(message), Length(max=max_length)] if message else [Optional(), Length(max=max_length)]
    return StringField(label, widget=GovTextInput(), validators=validators, **kwargs)


def _area(label: str, message: str | None = None, *, max_length: int = 10_000, **kwargs) -> TextAreaField:
    validators = [DataRequired(message), Length(max=max_length)] if message else [Optional(), Length(max=max_length)]
    return TextAreaField(label, widget=GovTextArea(), validators=validators, **kwargs)


def _email(label: str) -> EmailField:
    return EmailField(
        label, widget=GovTextInput(),
        validators=[Optional(), Email("Enter an email address in the correct format, like name@example.com"),
                    Length(max=254)],
    )


def _date(label: str, message: str | None = None, **kwargs) -> GovDateField:
    validators = [InputRequired(message)] if message else [Optional()]
    return GovDateField(label, validators=validators, **kwargs)


def _radios(label: str, items, message: str, **kwargs) -> RadioField:
    return RadioField(label, choices=items, widget=GovRadioInput(),
                      validators=[InputRequired(message)], **kwargs)


def _select(label: str, items, message: str | None = None, **kwargs) -> SelectField:
    validators = [InputRequired(message)] if message else [Optional()]
    return SelectField(label, choices=items, widget=GovSelect(), validators=validators, **kwargs)


def _submit(label: str) -> SubmitField:
    return SubmitField(label, widget=GovSubmitInput())


# ---------------------------------------------------------------------------------------------
# The case list


class CaseFilterForm(PortalForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    search = _text("Case reference, crime reference or a person's name", max_length=100,
                   description="Part of one is enough, for example “RJ-2026” or “smith”")
    status = _select("Status", [], coerce=str)
    district = _select("District", [], coerce=str)
    referrer = _select("Referrer", [], coerce=str)
    sensitive = _select(
        "Sensitive or complex",
        to_choices([("", "Any"), ("yes", "Sensitive or complex only"), ("no", "Not sensitive")]),
        coerce=str,
    )
    overdue = BooleanField("Only cases overdue for first contact", widget=GovCheckboxInput())
    submit = _submit("Apply filters")


# ---------------------------------------------------------------------------------------------
# Referral and parties


class ReferralForm(PortalForm):
    source = _select("Where the referral came from", choices(ReferralSource, blank="Choose a source"),
                     "Choose where the referral came from")
    referrer_organisation = _text("Referring organisation", description="For example, Kent Police. "
                                  "Leave blank for a self-referral.")
    referrer_name = _text("Referrer's name")
    referrer_email = _email("Referrer's email address")
    referrer_phone = _text("Referrer's phone number", max_length=40)
    crime_reference = _text("Crime reference", max_length=60)
    received_on = _date("Date the referral was received", "Enter the date the referral was received",
                        description="For example, 27 3 2026")
    incident_on = _date("Date of the incident (if known)")
    offence_category = _select("Offence or incident", choices(OffenceCategory, blank="Choose a category"),
                               "Choose the offence or incident")
    justice_stage = _select("Criminal justice stage", choices(JusticeStage, blank="Choose a stage"),
                            "Choose the criminal justice stage")
    district = _text("District", "Enter the district", max_length=100)
    victim_has_enhanced_rights = _radios(
        "Does the harmed person have enhanced rights under the Victims' Code?", YES_NO,
        "Say whether the harmed person has enhanced rights",
        description="First contact is then due within 1 working day instead of 5.",
    )
    sensitive_kinds = SelectMultipleField(
        "Sensitive or complex", choices=choices(SensitiveKind), widget=GovCheckboxesInput(),
        validators=[Optional()], description="Select all that apply. Leave empty if none.",
    )
    summary = _area("Summary of the referral", "Enter a summary of the referral")


def _party_fields(prefix: str, who: str) -> dict:
    return {
        f"{prefix}_name": _text(f"{who}: full name", max_length=200),
        f"{prefix}_phone": _text(f"{who}: phone number", max_length=40),
        f"{prefix}_email": _email(f"{who}: email address"),
        f"{prefix}_address": _area(f"{who}: address", max_length=1000),
        f"{prefix}_safe_contact_notes": _area(
            f"{who}: safe contact notes", max_length=2000,
            description="When and how it is safe to make contact"),
        f"{prefix}_under_18": BooleanField(f"{who} is under 18", widget=GovCheckboxInput()),
    }


HARMED_FIELDS = _party_fields("harmed", "Harmed person")
RESPONSIBLE_FIELDS = _party_fields("responsible", "Person responsible")

NewReferralForm = type(
    "NewReferralForm",
    (ReferralForm,),
    {**HARMED_FIELDS, **RESPONSIBLE_FIELDS, "submit": _submit("Record referral")},
)


class EditReferralForm(ReferralForm):
    submit = _submit("Save referral")


class PartyForm(PortalForm):
    role = _radios("Role on the case", choices(PartyRole), "Choose the person's role on the case")
    name = _text("Full name", "Enter the person's full name")
    phone = _text("Phone number", max_length=40)
    email = _email("Email address")
    address = _area("Address", max_length=1000)
    safe_contact_notes = _area("Safe contact notes", max_length=2000,
                               description="When and how it is safe to make contact")
    interpreter_language = _text("Interpreter needed (language)", max_length=100)
    access_needs = _area("Access needs", max_length=2000)
    is_under_18 = BooleanField("The person is under 18", widget=GovCheckboxInput())
    supports_party_id = _select("Supports (for a supporter or parent or guardian)", [], coerce=optional_int)
    submit = _submit("Save person")


class HomeVisitForm(PortalForm):
    approved = _radios("Is a home visit approved?", YES_NO, "Say whether a home visit is approved",
                       description="While approved, facilitators working with this person see the address.")
    submit = _submit("Save")


# ---------------------------------------------------------------------------------------------
# Records


_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


class ContactAttemptForm(PortalForm):
    party_id = _radios("Who was contacted", [], "Choose who was contacted", coerce=optional_int)
    attempted_on = _date("Date of the attempt", "Enter the date of the attempt")
    attempted_time = _text("Time of the attempt", "Enter the time of the attempt", max_length=5,
                           description="Use the 24-hour clock, for example 14:30")
    method = _radios("How", choices(ContactMethod), "Choose how contact was attempted")
    outcome = _radios("Outcome", choices(ContactOutcome), "Choose the outcome")
    notes = _area("Notes", max_length=5000)
    submit = _submit("Save contact attempt")

    def validate_attempted_time(self, field):
        if field.data and not _TIME.match(field.data.strip()):
            raise ValidationError("Enter the time of the attempt in the 24-hour clock, like 14:30")

    def time_parts(self) -> tuple[int, int]:
        hours, minutes = _TIME.match(self.attempted_time.data.strip()).groups()
        return int(hours), int(minutes)


class ConsentForm(PortalForm):
    party_id = _radios("Whose consent", [], "Choose whose consent this is", coerce=optional_int)
    purpose = _radios("What they consent to", choices(ConsentPurpose), "Choose what they consent to")
    intervention_type = _select(
        "Intervention (for consent to take part, if agreed)",
        choices(InterventionType, blank="Not a particular intervention"),
    )
    method = _radios("How consent was given", choices(ConsentMethod), "Choose how consent was given")
    given_on = _date("Date consent was given", "Enter the date consent was given")
    submit = _submit("Save consent")


class WithdrawConsentForm(PortalForm):
    withdrawn_on = _date("Date consent was withdrawn", "Enter the date consent was withdrawn")
    reason = _area("Reason (if given)", max_length=2000)
    submit = _submit("Record withdrawal")


class RiskAssessmentForm(PortalForm):
    stage = _radios("Stage", choices(RiskStage), "Choose the stage of the assessment")
    assessed_on = _date("Date of the assessment", "Enter the date of the assessment")
    factors = _area("Risk factors considered", "Describe the risk factors considered")
    rating = _radios("Risk rating", choices(RiskRating), "Choose the risk rating")
    mitigations = _area("Mitigations", max_length=5000)
    police_intelligence = _area("Police intelligence", max_length=5000,
                                description="Restricted: facilitators never see this")
    proceed = _radios("Should the case proceed?", YES_NO, "Say whether the case should proceed")
    approve = BooleanField("I approve this assessment as coordinator", widget=GovCheckboxInput())
    submit = _submit("Save risk assessment")


class NoteForm(PortalForm):
    text = _area("Note", "Enter the note")
    visibility = _radios(
        "Who can read it",
        to_choices([(NoteVisibility.GENERAL.value, "Everyone on the case"),
                    (NoteVisibility.RESTRICTED.value, "Restricted: coordinators, each view recorded"),
                    (NoteVisibility.COORDINATOR_ONLY.value, "Coordinators only")]),
        "Choose who can read the note",
    )
    submit = _submit("Save note")


class SessionForm(PortalForm):
    session_type = _radios("Type of session", choices(SessionType), "Choose the type of session")
    held_on = _date("Date held", "Enter the date the session was held")
    duration_minutes = IntegerField(
        "Duration in minutes", widget=GovTextInput(),
        validators=[InputRequired("Enter the duration in minutes"),
                    NumberRange(min=1, max=1440, message="The duration must be between 1 and 1440 minutes")],
    )
    attendees = _area("Who attended", "Say who attended", max_length=2000)
    notes = _area("Notes", max_length=5000)
    submit = _submit("Save session")


class InterventionTypeForm(PortalForm):
    intervention_type = _radios("Intervention", choices(InterventionType), "Choose the intervention")
    submit = _submit("Save intervention")


class AgreementForm(PortalForm):
    agreed_on = _date("Date agreed", "Enter the date the agreement was made")
    notes = _area("Notes", max_length=5000)
    action_description = _area("First action (optional)", max_length=2000)
    action_owner = _text("Who will do it", max_length=200)
    action_due_on = _date("When it is due")
    submit = _submit("Save agreement")

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if (self.action_description.data or "").strip():
            if not (self.action_owner.data or "").strip():
                self.action_owner.errors.append("Say who owns the action")
                valid = False
            if self.action_due_on.data is None and not self.action_due_on.errors:
                self.action_due_on.errors.append("Enter the date the action is due")
                valid = False
        return valid


class ActionForm(PortalForm):
    description = _area("Action", "Describe the action", max_length=2000)
    owner = _text("Who will do it", "Say who owns the action")
    due_on = _date("When it is due", "Enter the date the action is due")
    submit = _submit("Add action")


class ActionStatusForm(PortalForm):
    status = _select("Status", to_choices([("open", "Open"), ("done", "Done"), ("not_done", "Not done")]),
                     "Choose the status")


class FeedbackForm(PortalForm):
    party_id = _radios("Whose feedback", [], "Choose whose feedback this is", coerce=optional_int)
    given_on = _date("Date given", "Enter the date the feedback was given")
    satisfaction = _radios(
        "How satisfied were they with the service?",
        to_choices([("1", "1 – very dissatisfied"), ("2", "2"), ("3", "3"), ("4", "4"),
                    ("5", "5 – very satisfied")]),
        "Choose a satisfaction score from 1 to 5", coerce=optional_int,
    )
    felt_safe = RadioField("Did they feel safe?", choices=YES_NO_UNKNOWN, widget=GovRadioInput(),
                           validators=[Optional()])
    felt_prepared = RadioField("Did they feel prepared?", choices=YES_NO_UNKNOWN, widget=GovRadioInput(),
                               validators=[Optional()])
    would_recommend = RadioField("Would they recommend it?", choices=YES_NO_UNKNOWN,
                                 widget=GovRadioInput(), validators=[Optional()])
    comments = _area("Comments", max_length=5000)
    submit = _submit("Save feedback")


# ---------------------------------------------------------------------------------------------
# Status and allocation


class MoveForm(PortalForm):
    target = _radios("Move the case to", [], "Choose where the case moves to")
    reason = _area("Reason", max_length=2000,
                   description="Needed to put a case on hold or to reopen it")
    closure_reason = _select("Closure reason (when closing)", [], coerce=str)
    review_on = _date("Review date (when putting on hold)")
    submit = _submit("Move case")


class CloseForm(PortalForm):
    closure_reason = _radios("Why is the case closing?", [], "Choose the closure reason")
    notes = _area("Notes", max_length=5000)
    submit = _submit("Close case")


class AllocateForm(PortalForm):
    volunteer_id = _select("Facilitator", [], "Choose a facilitator", coerce=optional_int)
    role = _radios("Role", choices(AllocationRole), "Choose the role")
    party_ids = SelectMultipleField(
        "Parties they work with", choices=[], coerce=int, widget=GovCheckboxesInput(),
        validators=[Optional()], description="They see these people's contact details.",
    )
    submit = _submit("Allocate")


class AllocationPartiesForm(PortalForm):
    party_ids = SelectMultipleField(
        "Parties they work with", choices=[], coerce=int, widget=GovCheckboxesInput(),
        validators=[Optional()], description="They see these people's contact details. Select all that apply.",
    )
    submit = _submit("Save")


class EndAllocationForm(PortalForm):
    reason = _area("Why is the allocation ending?", "Give the reason the allocation ends", max_length=300)
    submit = _submit("End allocation")


class ConfirmForm(PortalForm):
    """A button-only form: it carries the CSRF token."""

    submit = _submit("Confirm")

"""Forms for the references pages: shape only (fields, widgets, choices). The services check every rule
and return the messages per field, so a form never repeats them; nothing typed is cut or changed."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, EmailField, RadioField, SelectChoice, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional

from portal.volunteers.references.models import ReceivedBy, WouldRecommend
from portal.web.baseform import PortalForm

YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


def _radio(label: str, choices: list[SelectChoice], description: str = "") -> RadioField:
    return RadioField(label, widget=GovRadioInput(), choices=choices, validators=[Optional()],
                      validate_choice=False, description=description)


def _long_text(label: str, description: str = "") -> TextAreaField:
    return TextAreaField(label, widget=GovCharacterCount(), description=description)


class ReferenceForm(PortalForm):
    """The referee's form, reached by their single-use link."""

    referee_name = StringField("Your full name", widget=GovTextInput())
    known_for = StringField("How long have you known the applicant?", widget=GovTextInput(),
                            description="For example, 6 years")
    capacity = StringField("How do you know the applicant?", widget=GovTextInput(),
                           description="For example, as their line manager, or through a community group")
    suitability = _long_text(
        "How suitable is the applicant to work with people harmed by crime and with people who have offended?",
        "Think about how they treat people, stay fair and calm, and keep things confidential.",
    )
    reliability = _long_text("How reliable is the applicant?",
                             "For example, do they keep commitments and do what they say they will?")
    has_concerns = _radio("Do you have any concerns about the applicant volunteering with us?", YES_NO)
    concerns = _long_text("If yes, tell us about your concerns")
    would_recommend = _radio(
        "Would you recommend the applicant as a volunteer restorative justice facilitator?",
        [SelectChoice(choice.value, choice.label) for choice in WouldRecommend],
    )
    confirmed = BooleanField("I confirm that what I have written is true to the best of my knowledge",
                             widget=GovCheckboxInput())
    submit = SubmitField("Send reference", widget=GovSubmitInput())


class RequestReferencesForm(PortalForm):
    submit = SubmitField("Send the requests", widget=GovSubmitInput())


class ResendForm(PortalForm):
    email = EmailField("Referee’s email address", widget=GovTextInput(),
                       description="Correct it if the first request did not reach the referee.")
    submit = SubmitField("Send the request again", widget=GovSubmitInput())


class DecisionForm(PortalForm):
    is_satisfactory = _radio("Is this reference satisfactory?", YES_NO)
    note = _long_text("Note", "Required when the reference is not satisfactory: say why.")
    submit = SubmitField("Save decision", widget=GovSubmitInput())


class RecordReferenceForm(PortalForm):
    """A reference that came by post or phone, summarised by the coordinator."""

    received_by = _radio("How did the reference arrive?",
                         [SelectChoice(ReceivedBy.POST.value, "By post"),
                          SelectChoice(ReceivedBy.PHONE.value, "By phone")])
    summary = _long_text("What did the referee say?",
                         "A summary of the letter or call: how long and how they know the applicant, suitability, "
                         "reliability and any concerns.")
    is_satisfactory = _radio("Is this reference satisfactory?", YES_NO)
    note = _long_text("Note", "Required when the reference is not satisfactory: say why.")
    submit = SubmitField("Record reference", widget=GovSubmitInput())

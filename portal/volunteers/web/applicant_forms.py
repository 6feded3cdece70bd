"""Applicant forms: shape only (fields, widgets, choices). The services decide every rule and
return the messages, so a form never repeats them; a form only refuses what it cannot even read."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.volunteers.models import EQUALITY_QUESTIONS, PREFER_NOT_TO_SAY, ApplicationSection
from portal.volunteers.web.pattern_fields import add_day_fields
from portal.web.baseform import PortalForm
from portal.web.fields import GovDateField

S = ApplicationSection


class AccountForm(PortalForm):
    name = StringField(
        "Full name", widget=GovTextInput(),
        validators=[
            DataRequired("Enter your full name"),
            Length(max=100, message="Full name must be 100 characters or fewer"),
        ],
    )
    email = EmailField(
        "Email address", widget=GovTextInput(),
        validators=[
            DataRequired("Enter your email address"),
            Email("Enter an email address in the correct format, like name@example.com"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
    )
    # Honeypot: hidden from people (and screen readers); only bots fill it in.
    website = StringField("Leave this empty", validators=[Optional()])
    submit = SubmitField("Continue", widget=GovSubmitInput())


class PersonalDetailsForm(PortalForm):
    full_name = StringField("Full name", widget=GovTextInput())
    preferred_name = StringField(
        "Preferred name (optional)", widget=GovTextInput(), description="What you would like us to call you"
    )
    date_of_birth = GovDateField(
        "Date of birth", validators=[Optional()], description="For example, 27 3 1985. You must be 18 or over.",
        invalid_message="Date of birth must be a real date",
    )
    submit = SubmitField("Save and continue", widget=GovSubmitInput())


class ContactDetailsForm(PortalForm):
    email = EmailField("Email address", widget=GovTextInput())
    phone = StringField("UK telephone number", widget=GovTextInput())
    address_line_1 = StringField("Address line 1", widget=GovTextInput())
    address_line_2 = StringField("Address line 2 (optional)", widget=GovTextInput())
    town = StringField("Town or city", widget=GovTextInput())
    postcode = StringField("Postcode", widget=GovTextInput())
    submit = SubmitField("Save and continue", widget=GovSubmitInput())


class DistrictsForm(PortalForm):
    districts = SelectMultipleField(
        "Which districts can you volunteer in?", widget=GovCheckboxesInput(), choices=[],
        description="Select all that apply. Meetings are arranged near the people taking part.",
        validate_choice=False,  # the service names any unknown district
    )
    submit = SubmitField("Save and continue", widget=GovSubmitInput())


class AvailabilityForm(PortalForm):
    submit = SubmitField("Save and continue", widget=GovSubmitInput())


add_day_fields(AvailabilityForm)


class LanguagesForm(PortalForm):
    languages = StringField(
        "Which languages do you speak?", widget=GovTextInput(),
        description="Separate languages with commas, for example English, Polish",
    )
    submit = SubmitField("Save and continue", widget=GovSubmitInput())


class ExperienceForm(PortalForm):
    experience = TextAreaField(
        "Tell us about your relevant experience", widget=GovTextArea(),
        description="Paid or unpaid: listening, supporting people, mediation, work with victims or offenders. "
        "Up to 2,000 characters.",
    )
    submit = SubmitField("Save and continue", widget=GovSubmitInput())


class MotivationForm(PortalForm):
    motivation = TextAreaField(
        "Why do you want to volunteer with us?", widget=GovTextArea(), description="Up to 2,000 characters."
    )
    submit = SubmitField("Save and continue", widget=GovSubmitInput())


class RefereesForm(PortalForm):
    referee_1_name = StringField("First referee’s full name", widget=GovTextInput())
    referee_1_email = EmailField("First referee’s email address", widget=GovTextInput())
    referee_1_relationship = StringField(
        "How do you know the first referee?", widget=GovTextInput(), description="For example, line manager"
    )
    referee_2_name = StringField("Second referee’s full name", widget=GovTextInput())
    referee_2_email = EmailField("Second referee’s email address", widget=GovTextInput())
    referee_2_relationship = StringField("How do you know the second referee?", widget=GovTextInput())
    submit = SubmitField("Save and continue", widget=GovSubmitInput())


class ConvictionsForm(PortalForm):
    has_unspent_convictions = RadioField(
        "Do you have any unspent convictions?", widget=GovRadioInput(),
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")], validators=[Optional()], validate_choice=False,
        description="We need to know for police vetting. Your answer is restricted: only the volunteer "
        "coordinators can see it. Having a conviction does not automatically stop you volunteering.",
    )
    convictions_details = TextAreaField(
        "If yes, give details", widget=GovTextArea(),
        description="The offence, the sentence and when. Up to 2,000 characters.",
    )
    submit = SubmitField("Save and continue", widget=GovSubmitInput())


def equality_label(value: str) -> str:
    special = {PREFER_NOT_TO_SAY: "Prefer not to say", "65_plus": "65 or over", "gay_or_lesbian": "Gay or lesbian"}
    if value in special:
        return special[value]
    return value.replace("_", " to ", 1).capitalize() if value[0].isdigit() else value.replace("_", " ").capitalize()


EQUALITY_LABELS = {
    "age_band": "Your age group",
    "sex": "Your sex",
    "gender_same_as_birth": "Is the gender you identify with the same as your sex registered at birth?",
    "ethnic_group": "Your ethnic group",
    "religion": "Your religion or belief",
    "sexual_orientation": "Your sexual orientation",
    "disability": "Do you consider yourself to have a disability?",
    "lived_experience_of_justice_system": "Do you have lived experience of the criminal justice system?",
}


class EqualityForm(PortalForm):
    submit = SubmitField("Save and continue", widget=GovSubmitInput())


for _question, _choices in EQUALITY_QUESTIONS.items():
    setattr(
        EqualityForm, _question,
        RadioField(EQUALITY_LABELS.get(_question, _question.replace("_", " ").capitalize()), widget=GovRadioInput(),
                   choices=[SelectChoice(choice, equality_label(choice)) for choice in _choices],
                   validators=[Optional()], validate_choice=False),
    )


class AgreementsForm(PortalForm):
    privacy_notice_agreed = BooleanField(
        "I have read and agree to the privacy notice", widget=GovCheckboxInput()
    )
    commitment_agreed = BooleanField(
        "I can volunteer for at least 12 months after training", widget=GovCheckboxInput()
    )
    submit = SubmitField("Save and continue", widget=GovSubmitInput())


SECTION_FORMS: dict[ApplicationSection, type[PortalForm]] = {
    S.PERSONAL_DETAILS: PersonalDetailsForm,
    S.CONTACT_DETAILS: ContactDetailsForm,
    S.DISTRICTS: DistrictsForm,
    S.AVAILABILITY: AvailabilityForm,
    S.LANGUAGES: LanguagesForm,
    S.EXPERIENCE: ExperienceForm,
    S.MOTIVATION: MotivationForm,
    S.REFEREES: RefereesForm,
    S.CONVICTIONS: ConvictionsForm,
    S.EQUALITY: EqualityForm,
    S.AGREEMENTS: AgreementsForm,
}


class SubmitApplicationForm(PortalForm):
    submit = SubmitField("Accept and send application", widget=GovSubmitInput())


class StartForm(PortalForm):
    submit = SubmitField("Start your application", widget=GovSubmitInput())


class WithdrawForm(PortalForm):
    reason = TextAreaField(
        "Why are you withdrawing? (optional)", widget=GovTextArea(),
        description="This helps us improve. Up to 1,000 characters.",
    )
    submit = SubmitField("Withdraw my application", widget=GovSubmitInput())

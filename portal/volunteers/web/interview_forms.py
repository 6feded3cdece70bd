"""Forms for the interviews pages: shape only (required, lengths, choices); services check policy."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectChoice, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.validation import LINK_MAX, too_long
from portal.volunteers.interviews.models import MAX_SCORE, MIN_SCORE, Criterion, SlotMode
from portal.volunteers.interviews.services import (
    ADDRESS_MAX,
    NOTES_MAX,
    REASON_MAX,
    VENUE_MAX,
)
from portal.volunteers.models import InterviewOutcome
from portal.web.baseform import PortalForm
from portal.web.fields import GovDateField, TimeField, WholeNumberField

MODE_CHOICES = [SelectChoice(SlotMode.IN_PERSON.value, "In person"), SelectChoice(SlotMode.ONLINE.value, "Online")]


class SlotForm(PortalForm):
    """One interview time (editing, or the first of a new series)."""

    day = GovDateField("Date", validators=[Optional()], description="For example, 27 3 2027",
                       invalid_message="The date must be a real date")
    start_time = TimeField("Start time", validators=[Optional()],
                           description="UK time (GMT or BST), 24-hour clock, like 10:00 or 14:30")
    length_minutes = WholeNumberField("Length in minutes", validators=[Optional()], default=60,
                                      invalid_message="The length must be a whole number of minutes, like 60")
    mode = RadioField("Where is the interview?", widget=GovRadioInput(), choices=MODE_CHOICES,
                      validators=[Optional()], validate_choice=False,
                      description="The applicant's invitation gives the venue and address, or the link")
    venue = StringField("Venue", widget=GovTextInput(), description="For an interview in person",
                        validators=[Optional(), Length(max=VENUE_MAX * 2, message=too_long("The venue", VENUE_MAX))])
    address = TextAreaField("Address", widget=GovTextArea(), description="For an interview in person",
                            validators=[Optional(),
                                        Length(max=ADDRESS_MAX * 2, message=too_long("The address", ADDRESS_MAX))])
    online_link = StringField("Video call link", widget=GovTextInput(),
                              description="For an online interview, starting with https://",
                              validators=[Optional(),
                                          Length(max=LINK_MAX * 2, message=too_long("The link", LINK_MAX))])
    interviewer_ids = SelectMultipleField("Interviewers", widget=GovCheckboxesInput(), choices=[], coerce=int,
                                          validators=[Optional()], validate_choice=False,
                                          description="Coordinators who will be on the panel")
    capacity = WholeNumberField("Places", validators=[Optional()], default=1,
                                description="How many applicants can book this time (usually 1)",
                                invalid_message="Places must be a whole number, like 1")
    submit = SubmitField("Save interview time", widget=GovSubmitInput())


class NewSlotsForm(SlotForm):
    """A new slot, optionally repeated as a series."""

    every_minutes = WholeNumberField(
        "Repeat every (minutes)", validators=[Optional()],
        description="Optional. To offer several times on the day, enter how many minutes apart they start",
        invalid_message="Repeat every must be a whole number of minutes, like 75",
    )
    until = TimeField("Last interview ends by", validators=[Optional()],
                      description="Needed when you repeat on the day, like 16:00",
                      invalid_message="Enter the end time as a 24-hour time, like 16:00")
    weeks = WholeNumberField("Number of weeks", validators=[Optional()], default=1,
                             description="Repeat on the same day each week for this many weeks (1 for this week only)",
                             invalid_message="Number of weeks must be a whole number, like 4")
    submit = SubmitField("Create interview times", widget=GovSubmitInput())


class CancelSlotForm(PortalForm):
    reason = TextAreaField(
        "Why are you cancelling this interview time?", widget=GovCharacterCount(),
        description="Kept on the record. Applicants who booked get a cancellation and are asked to book again.",
        validators=[DataRequired("Enter why you are cancelling this interview time"),
                    Length(max=REASON_MAX, message=too_long("The reason", REASON_MAX))],
    )
    submit = SubmitField("Cancel this interview time", widget=GovSubmitInput())


class ChooseSlotForm(PortalForm):
    slot_id = RadioField("Choose a time", widget=GovRadioInput(), choices=[], coerce=int,
                         validators=[DataRequired("Select an interview time")], validate_choice=False,
                         description="Times are UK time (GMT or BST)")
    submit = SubmitField("Book this time", widget=GovSubmitInput())


class CancelBookingForm(PortalForm):
    reason = TextAreaField(
        "Reason (optional)", widget=GovCharacterCount(),
        validators=[Optional(), Length(max=REASON_MAX, message=f"The reason must be {REASON_MAX:,} characters or "
                                                               "fewer")],
    )
    submit = SubmitField("Cancel the interview", widget=GovSubmitInput())


class InviteForm(PortalForm):
    """A button: invite the applicant to choose a time (it carries the CSRF token)."""

    submit = SubmitField("Invite to book an interview", widget=GovSubmitInput())


SCORE_CHOICES = [SelectChoice(str(score), str(score)) for score in range(MIN_SCORE, MAX_SCORE + 1)]
OUTCOME_CHOICES = [
    SelectChoice(InterviewOutcome.OFFER.value, "Offer a place"),
    SelectChoice(InterviewOutcome.REJECT.value, "Reject"),
    SelectChoice(InterviewOutcome.HOLD.value, "Hold (decide later)"),
]


def _record_fields() -> dict:
    fields: dict = {}
    for criterion in Criterion:
        fields[f"{criterion.value}_score"] = RadioField(
            f"{criterion.label}: score", widget=GovRadioInput(), choices=SCORE_CHOICES, validators=[Optional()],
            validate_choice=False, description="1 is weak, 5 is excellent",
        )
        fields[f"{criterion.value}_notes"] = TextAreaField(
            f"{criterion.label}: notes", widget=GovTextArea(),
            validators=[Optional(), Length(max=NOTES_MAX, message=too_long("Notes", NOTES_MAX))],
        )
    fields["outcome"] = RadioField("Outcome", widget=GovRadioInput(), choices=OUTCOME_CHOICES,
                                   validators=[Optional()], validate_choice=False,
                                   description="The panel’s decision")
    fields["reason"] = TextAreaField(
        "Reason for the outcome", widget=GovCharacterCount(),
        validators=[Optional(), Length(max=REASON_MAX, message=f"The reason must be {REASON_MAX:,} characters or "
                                                               "fewer")],
    )
    fields["panel_ids"] = SelectMultipleField("Who decided (the panel)", widget=GovCheckboxesInput(), choices=[],
                                              coerce=int, validators=[Optional()], validate_choice=False,
                                              description="Everyone who interviewed and took the decision")
    fields["submit"] = SubmitField("Save interview record", widget=GovSubmitInput())
    return fields


RecordForm = type("RecordForm", (PortalForm,), {
    "__doc__": "The interview record: a score and notes for each criterion, the outcome and reason, the panel.",
    **_record_fields(),
})

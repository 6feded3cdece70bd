"""Forms for the supervision pages: shape only (required, lengths, choices); services check policy."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
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
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from portal.core.validation import LINK_MAX, too_long
from portal.supervision.models import Attendance, BookingPurpose, SlotKind, SlotMode
from portal.supervision.services import REASON_MAX, TEXT_MAX, VENUE_MAX
from portal.web.baseform import PortalForm
from portal.web.fields import GovDateField, TimeField, WholeNumberField


def optional_int(value) -> int | None:
    """Coerce a choice to int, leaving the empty "Choose…" option as None."""
    return None if value in ("", None) else int(value)


KIND_CHOICES = [SelectChoice(SlotKind.INDIVIDUAL.value, "Individual (one volunteer)"),
                SelectChoice(SlotKind.GROUP.value, "Group")]
MODE_CHOICES = [SelectChoice(SlotMode.IN_PERSON.value, "In person"), SelectChoice(SlotMode.ONLINE.value, "Online")]
REPEAT_CHOICES = [SelectChoice("none", "Once only"), SelectChoice("weekly", "Every week"),
                  SelectChoice("fortnightly", "Every two weeks")]
PURPOSE_CHOICES = [SelectChoice(BookingPurpose.SUPERVISION.value, "Case supervision"),
                   SelectChoice(BookingPurpose.DEBRIEF.value, "A debrief after a difficult case meeting")]
ATTENDANCE_CHOICES = [SelectChoice(Attendance.ATTENDED.value, "Attended"),
                      SelectChoice(Attendance.DID_NOT_ATTEND.value, "Did not attend")]


class SlotForm(PortalForm):
    """One supervision slot (changing it, or the first of a new series)."""

    supervisor_id = SelectField("Supervisor", widget=GovSelect(), choices=[], coerce=int, validate_choice=False,
                                validators=[Optional()])
    day = GovDateField("Date", validators=[Optional()], description="For example, 30 11 2026",
                       invalid_message="The date must be a real date")
    start_time = TimeField("Start time", validators=[Optional()],
                           description="UK time (GMT or BST), 24-hour clock, like 10:00 or 18:30")
    length_minutes = WholeNumberField("Length in minutes", validators=[Optional()], default=60,
                                      invalid_message="The length must be a whole number of minutes, like 60")
    kind = RadioField("Individual or group?", widget=GovRadioInput(), choices=KIND_CHOICES, validators=[Optional()],
                      validate_choice=False)
    capacity = WholeNumberField("Places in the group", validators=[Optional()], default=6,
                                description="For group supervision only",
                                invalid_message="Places must be a whole number, like 6")
    mode = RadioField("Where is the session?", widget=GovRadioInput(), choices=MODE_CHOICES, validators=[Optional()],
                      validate_choice=False)
    venue = TextAreaField("Venue and address", widget=GovTextArea(), description="For a session in person",
                          validators=[Optional(), Length(max=VENUE_MAX * 2)])
    online_link = StringField("Video call link", widget=GovTextInput(),
                              description="For an online session, starting with https://",
                              validators=[Optional(), Length(max=LINK_MAX * 2)])
    minimum_notice_hours = WholeNumberField(
        "Minimum notice to book (hours)", validators=[Optional()], default=24,
        description="Volunteers cannot book later than this before the start",
        invalid_message="The minimum notice must be a whole number of hours, like 24")
    cutoff_hours = WholeNumberField(
        "Cancellation cut-off (hours)", validators=[Optional()], default=24,
        description="Volunteers cannot cancel or move their booking later than this before the start",
        invalid_message="The cut-off must be a whole number of hours, like 24")
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class NewSlotsForm(SlotForm):
    repeat = RadioField("Repeat", widget=GovRadioInput(), choices=REPEAT_CHOICES, default="none",
                        validators=[Optional()], validate_choice=False)
    occurrences = WholeNumberField("Number of sessions in the series", validators=[Optional()], default=6,
                                   description="For a weekly or fortnightly series",
                                   invalid_message="The number of sessions must be a whole number, like 6")
    submit = SubmitField("Publish", widget=GovSubmitInput())


class CancelSlotForm(PortalForm):
    reason = TextAreaField(
        "Why are you cancelling this session?", widget=GovCharacterCount(),
        description="Everyone booked is told, with this reason, and their calendar entry is cancelled.",
        validators=[DataRequired("Enter why you are cancelling this session"),
                    Length(max=REASON_MAX, message=too_long("The reason", REASON_MAX))],
    )
    submit = SubmitField("Cancel the session", widget=GovSubmitInput())


class BookForm(PortalForm):
    purpose = RadioField("What is the session for?", widget=GovRadioInput(), choices=PURPOSE_CHOICES,
                         default=BookingPurpose.SUPERVISION.value, validate_choice=False,
                         validators=[DataRequired("Select what the session is for")])
    ground_rules = BooleanField(
        "I will keep what others share in group supervision confidential", widget=GovCheckboxInput(),
    )
    submit = SubmitField("Book this session", widget=GovSubmitInput())


class BookForForm(PortalForm):
    """A supervisor or coordinator books a volunteer in (a debrief at short notice, say)."""

    user_id = RadioField("Volunteer", widget=GovRadioInput(), choices=[], coerce=optional_int, validate_choice=False,
                         validators=[DataRequired("Select the volunteer to book in")])
    purpose = RadioField("What is the session for?", widget=GovRadioInput(), choices=PURPOSE_CHOICES,
                         default=BookingPurpose.SUPERVISION.value, validate_choice=False,
                         validators=[DataRequired("Select what the session is for")])
    submit = SubmitField("Book them in", widget=GovSubmitInput())


class MoveForm(PortalForm):
    slot_id = RadioField("Choose the new time", widget=GovRadioInput(), choices=[], coerce=int,
                         validators=[DataRequired("Select the session to move to")], validate_choice=False,
                         description="Times are UK time (GMT or BST)")
    submit = SubmitField("Move my booking", widget=GovSubmitInput())


class CancelBookingForm(PortalForm):
    reason = TextAreaField(
        "Reason (optional)", widget=GovCharacterCount(),
        validators=[Optional(), Length(max=REASON_MAX, message=f"The reason must be {REASON_MAX:,} characters or "
                                                               "fewer")],
    )
    submit = SubmitField("Cancel the booking", widget=GovSubmitInput())


class RecordForm(PortalForm):
    attendance = RadioField("Did the volunteer attend?", widget=GovRadioInput(), choices=ATTENDANCE_CHOICES,
                            validators=[DataRequired("Select whether the volunteer attended")], validate_choice=False)
    case_ids = SelectMultipleField("Cases discussed", widget=GovCheckboxesInput(), choices=[], coerce=int,
                                   validators=[Optional()], validate_choice=False,
                                   description="Only the volunteer's own cases on the day are listed")
    actions = TextAreaField("Actions agreed", widget=GovCharacterCount(),
                            description="The volunteer sees these",
                            validators=[Optional(), Length(max=TEXT_MAX, message=too_long("Actions", TEXT_MAX))])
    wellbeing_concerns = TextAreaField(
        "Wellbeing concerns", widget=GovCharacterCount(),
        description="Confidential to the volunteer's supervisors and coordinators",
        validators=[Optional(), Length(max=TEXT_MAX, message=too_long("Wellbeing concerns", TEXT_MAX))])
    next_due_on = GovDateField("Next supervision due by", validators=[Optional()],
                               invalid_message="The next due date must be a real date")
    submit = SubmitField("Save the record", widget=GovSubmitInput())


class NameSupervisorForm(PortalForm):
    user_id = RadioField("Person", widget=GovRadioInput(), choices=[], coerce=optional_int, validate_choice=False,
                         validators=[DataRequired("Select the person to name as a supervisor")])
    submit = SubmitField("Name as supervisor", widget=GovSubmitInput())


class RemoveSupervisorForm(PortalForm):
    submit = SubmitField("Remove", widget=GovSubmitInput())


class RulesForm(PortalForm):
    cadence_weeks = WholeNumberField("Supervision at least every (weeks)", validators=[Optional()],
                                     description="The RJC practitioner code asks for at least every 12 weeks",
                                     invalid_message="Weeks must be a whole number, like 12")
    due_soon_days = WholeNumberField("Show as due soon this many days before", validators=[Optional()],
                                     invalid_message="Days must be a whole number, like 14")
    overdue_blocks_allocation = RadioField(
        "When a volunteer's supervision is overdue", widget=GovRadioInput(), validate_choice=False,
        choices=[SelectChoice("warn", "Warn the coordinator (list them as overdue)"),
                 SelectChoice("block", "Block new case allocations until they have had supervision")],
        validators=[DataRequired("Select what happens when supervision is overdue")],
    )
    submit = SubmitField("Save rules", widget=GovSubmitInput())


SEARCH_MAX = 100


class CadenceFilterForm(PortalForm):
    """The cadence list's filters (a GET form: it changes nothing). Choices are set by the route."""

    class Meta:
        csrf = False

    state = SelectField("Supervision", widget=GovSelect(), choices=[], validators=[Optional()])
    supervisor = SelectField("Supervisor", widget=GovSelect(), choices=[], validators=[Optional()],
                             description="Led their last session or leads their next one")
    booked = SelectField("Next session", widget=GovSelect(), choices=[], validators=[Optional()])
    search = StringField("Name or e-mail address", widget=GovTextInput(),
                         validators=[Optional(), Length(max=SEARCH_MAX, message=too_long("The search", SEARCH_MAX))])
    submit = SubmitField("Apply filters", widget=GovSubmitInput())


class PersonSearchForm(PortalForm):
    """Find a person by name or e-mail address (a GET form that narrows a list of people to choose from)."""

    class Meta:
        csrf = False

    q = StringField("Name or e-mail address", widget=GovTextInput(),
                    validators=[Optional(), Length(max=SEARCH_MAX, message=too_long("The search", SEARCH_MAX))])
    submit = SubmitField("Search", widget=GovSubmitInput())

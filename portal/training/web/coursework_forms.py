"""Forms for coursework, marking, moderation, conflicts and the practical assessment. Shape only: the services
judge the rules. Rubric levels and competencies differ per assignment and course, so the marking and practical
forms are built for them (`marking_form`, `practical_form`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxInput,
    GovFileInput,
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

from portal.training.coursework.services import (
    ANONYMISED_MESSAGE,
    EVIDENCE_MAX,
    FEEDBACK_MAX,
    INSTRUCTIONS_MAX,
    REASON_MAX,
    SCENARIO_MAX,
    TEXT_MAX,
    TITLE_MAX,
)
from portal.web.baseform import PortalForm
from portal.web.fields import GovDateField

OUTCOME_CHOICES = [SelectChoice("pass", "Pass"), SelectChoice("refer", "Refer: one resubmission by a new deadline"),
                   SelectChoice("fail", "Fail")]
PRACTICAL_OUTCOMES = [SelectChoice("pass", "Pass"), SelectChoice("refer", "Refer: observe again"),
                      SelectChoice("fail", "Fail")]


def _id(value):
    """A chosen id, or None for the "Choose ..." option (so DataRequired gives the message)."""
    return None if value in ("", None) else int(value)


MET_CHOICES = [SelectChoice("met", "Met"), SelectChoice("not_yet", "Not yet met")]


class AssignmentForm(PortalForm):
    title = StringField("Title", widget=GovTextInput(),
                        validators=[DataRequired("Enter a title"), Length(max=TITLE_MAX)])
    instructions = TextAreaField("Instructions for volunteers", widget=GovCharacterCount(),
                                 validators=[Optional(), Length(max=INSTRUCTIONS_MAX)])
    due_on = GovDateField("Deadline", description="Work is due by 11:59pm on this day. For example, 27 3 2027",
                          validators=[DataRequired("Enter the deadline")],
                          invalid_message="Deadline must be a real date")
    rubric = TextAreaField(
        "Rubric", widget=GovTextArea(),
        description="One criterion a line: the criterion, a colon, then its levels from lowest to highest separated "
                    "by |. For example: Reflection: Not yet | Meets | Exceeds",
        validators=[Optional(), Length(max=5000)])
    moderate_one_in = IntegerField(
        "Moderation sample", widget=GovTextInput(),
        description="Every fail is moderated by a second trainer, and the first then one in this many of the other "
                    "outcomes. 0 moderates fails only.",
        validators=[InputRequired("Enter how many marked pieces of work one is moderated in"),
                    NumberRange(min=0, max=100, message="Moderation sample must be between 0 and 100")])
    submit = SubmitField("Save assignment", widget=GovSubmitInput())


class SubmitWorkForm(PortalForm):
    file = FileField("Upload a file", widget=GovFileInput(),
                     description="A PDF, Word document (DOCX) or OpenDocument text (ODT), up to 5 MB")
    text = TextAreaField("Or type your work here", widget=GovCharacterCount(),
                         validators=[Optional(), Length(max=TEXT_MAX)])
    anonymised = BooleanField("I have removed or changed the names and details of any real people in my work",
                              widget=GovCheckboxInput(), validators=[DataRequired(ANONYMISED_MESSAGE)],
                              description="Coursework often draws on real cases: use made-up names and leave out "
                                          "addresses, dates and case numbers.")
    submit = SubmitField("Submit my work", widget=GovSubmitInput())


class ExtensionForm(PortalForm):
    due_on = GovDateField("New deadline", description="Work is due by 11:59pm on this day",
                          validators=[DataRequired("Enter the new deadline")],
                          invalid_message="New deadline must be a real date")
    reason = TextAreaField("Reason", widget=GovCharacterCount(),
                           validators=[DataRequired("Enter the reason for the extension"), Length(max=REASON_MAX)])
    submit = SubmitField("Grant extension", widget=GovSubmitInput())


class AllocateForm(PortalForm):
    marker_id = SelectField("Marker", widget=GovSelect(), coerce=_id, choices=[],
                            validators=[DataRequired("Choose a marker")])
    submit = SubmitField("Allocate", widget=GovSubmitInput())


class ConflictForm(PortalForm):
    """A conflict with one of the volunteers a search found (the route checks they are a trainee)."""

    volunteer_id = RadioField("Volunteer", widget=GovRadioInput(), coerce=_id, choices=[], validate_choice=False,
                              validators=[DataRequired("Choose the volunteer")])
    reason = StringField("What is the conflict?", widget=GovTextInput(),
                         description="For example, ‘my sister’ or ‘we work together’. Only coordinators see this.",
                         validators=[DataRequired("Say what the conflict is"), Length(max=REASON_MAX)])
    submit = SubmitField("Declare conflict", widget=GovSubmitInput())


class _MarkingBase(PortalForm):
    outcome = RadioField("Outcome", widget=GovRadioInput(), choices=OUTCOME_CHOICES, validators=[Optional()])
    feedback = TextAreaField("Feedback for the volunteer", widget=GovCharacterCount(),
                             description="The volunteer sees this, and the outcome, only when it is released.",
                             validators=[Optional(), Length(max=FEEDBACK_MAX)])
    resubmit_on = GovDateField("Resubmission deadline (for a refer)", validators=[Optional()],
                               invalid_message="Resubmission deadline must be a real date")
    save_draft = SubmitField("Save and keep marking", widget=GovSubmitInput())
    finish = SubmitField("Finish marking", widget=GovSubmitInput())

    criterion_fields: list[tuple[str, str]]


def criterion_field_name(index: int) -> str:
    return f"criterion_{index}"


def marking_form(criteria: Sequence[dict[str, Any]], **kwargs) -> _MarkingBase:
    """A marking form with one radio group per rubric criterion (field names criterion_0, criterion_1 ...)."""

    class MarkingForm(_MarkingBase):
        pass

    names = []
    for index, criterion in enumerate(criteria):
        name = criterion_field_name(index)
        setattr(MarkingForm, name, RadioField(
            criterion["name"], widget=GovRadioInput(), validators=[Optional()],
            choices=[SelectChoice(level, level) for level in criterion["levels"]]))
        names.append((name, criterion["name"]))
    form = MarkingForm(**kwargs)
    form.criterion_fields = names
    return form


class ModerateForm(PortalForm):
    decision = RadioField("Do you agree with the marker's outcome?", widget=GovRadioInput(),
                          choices=[SelectChoice("agree", "Yes, I agree"),
                                   SelectChoice("change", "No, the outcome should change")],
                          validators=[InputRequired("Choose whether you agree with the marker")])
    outcome = RadioField("Outcome it should be", widget=GovRadioInput(), choices=OUTCOME_CHOICES,
                         validators=[Optional()])
    resubmit_on = GovDateField("Resubmission deadline (for a refer)", validators=[Optional()],
                               invalid_message="Resubmission deadline must be a real date")
    note = TextAreaField("Moderation note", widget=GovCharacterCount(),
                         description="Seen by trainers and coordinators. Required when you disagree.",
                         validators=[Optional(), Length(max=FEEDBACK_MAX)])
    submit = SubmitField("Save moderation", widget=GovSubmitInput())


class _PracticalBase(PortalForm):
    observed_on = GovDateField("Date observed", validators=[DataRequired("Enter the date you observed the role play")],
                               invalid_message="Date observed must be a real date")
    scenario = StringField("Role play scenario", widget=GovTextInput(),
                           validators=[DataRequired("Describe the role play scenario"), Length(max=SCENARIO_MAX)])
    outcome = RadioField("Outcome", widget=GovRadioInput(), choices=PRACTICAL_OUTCOMES,
                         validators=[InputRequired("Choose an outcome")])
    notes = TextAreaField("Notes and next steps", widget=GovCharacterCount(),
                          validators=[Optional(), Length(max=FEEDBACK_MAX)])
    submit = SubmitField("Save observation record", widget=GovSubmitInput())

    competency_fields: list[tuple[str, str, str]]


def practical_form(competencies: Sequence[str], **kwargs) -> _PracticalBase:
    """An observation record with, for each competency, met / not yet met (met_N) and evidence (evidence_N)."""

    class PracticalForm(_PracticalBase):
        pass

    names = []
    for index, competency in enumerate(competencies):
        setattr(PracticalForm, f"met_{index}", RadioField(
            competency, widget=GovRadioInput(), choices=MET_CHOICES,
            validators=[InputRequired(f"Say whether ‘{competency}’ was met")]))
        setattr(PracticalForm, f"evidence_{index}", TextAreaField(
            f"Evidence for ‘{competency}’", widget=GovTextArea(),
            validators=[DataRequired(f"Give the evidence you saw for ‘{competency}’"), Length(max=EVIDENCE_MAX)]))
        names.append((f"met_{index}", f"evidence_{index}", competency))
    form = PracticalForm(**kwargs)
    form.competency_fields = names
    return form


SEARCH_MAX = 100


class TraineeSearchForm(PortalForm):
    """Find a volunteer in training by name or e-mail address (a GET form: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField("Name or e-mail address", widget=GovTextInput(),
                    validators=[Optional(), Length(max=SEARCH_MAX, message=f"The search must be {SEARCH_MAX} "
                                                                          "characters or fewer")])
    submit = SubmitField("Search", widget=GovSubmitInput())

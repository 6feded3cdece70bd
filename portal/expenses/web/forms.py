"""Forms for the expenses pages. Shape only: amounts, miles and dates are checked by the services,
which give the messages (so the same rules hold for every way in)."""

from __future__ import annotations

from flask_wtf.file import MultipleFileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import HiddenField, SelectChoice, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.search import SEARCH_MAX_LENGTH
from portal.core.validation import too_long
from portal.expenses import mileage
from portal.expenses.models import Category, Vehicle
from portal.expenses.services import DESCRIPTION_MAX, REASON_MAX
from portal.web.baseform import PortalForm
from portal.web.fields import GovDateField

DESCRIPTION_HINT = ("What it was for, like “Parking at the training venue”. Do not write the names of "
                    "anyone involved in a case.")
RECEIPT_HINT = "Photos (JPEG or PNG) or PDF, up to 8 MB each. You can choose more than one."
EXPENSE_CATEGORIES = [SelectChoice(category.value, category.label.capitalize())
                      for category in Category if category is not Category.MILEAGE]
VEHICLES = [SelectChoice(vehicle.value, vehicle.label.capitalize()) for vehicle in Vehicle]


def _date_field(label: str = "Date") -> GovDateField:
    return GovDateField(label, description="For example, 27 3 2026",
                        validators=[DataRequired("Enter the date of the expense")],
                        invalid_message="The date of the expense must be a real date")


class _LineForm(PortalForm):
    spent_on = _date_field()
    description = TextAreaField("Description", description=DESCRIPTION_HINT, widget=GovCharacterCount(),
                                validators=[DataRequired("Describe what the expense was for"),
                                            Length(max=DESCRIPTION_MAX,
                                                   message=too_long("The description", DESCRIPTION_MAX))])
    activity = SelectField("What was it for?", widget=GovSelect(), choices=[], validate_choice=False,
                           validators=[Optional()])
    purpose = StringField("If supervision or something else, say what", widget=GovTextInput(),
                          description="For example, “Supervision with my coordinator”. No participants’ names.",
                          validators=[Optional(), Length(max=200)])
    receipts = MultipleFileField("Receipts", widget=GovFileInput(multiple=True), description=RECEIPT_HINT)
    submit = SubmitField("Save", widget=GovSubmitInput())


class MileageForm(_LineForm):
    spent_on = _date_field("Date of the journey")
    from_place = StringField("From", widget=GovTextInput(), description="A postcode or place, like CM1 1QH",
                             validators=[DataRequired("Enter where the journey started (a postcode or place)"),
                                         Length(max=120)])
    to_place = StringField("To", widget=GovTextInput(), description="A postcode or place",
                           validators=[DataRequired("Enter where the journey ended (a postcode or place)"),
                                       Length(max=120)])
    miles = StringField("Miles", widget=GovTextInput(), description="For a return journey, the miles there and back",
                        validators=[DataRequired("Enter the miles driven"), Length(max=10)])
    vehicle = SelectField("Vehicle", widget=GovRadioInput(), choices=VEHICLES,
                          validators=[DataRequired("Choose the vehicle: car or van, motorcycle or bicycle")])
    passengers = StringField("Passengers", widget=GovTextInput(),
                             description="Other volunteers or staff you carried on this journey (cars and vans only)",
                             default="0", validators=[Optional(), Length(max=3)])


class ExpenseForm(_LineForm):
    category = SelectField("Kind of expense", widget=GovRadioInput(), choices=EXPENSE_CATEGORIES,
                           validators=[DataRequired("Choose the kind of expense")])
    amount = StringField("Amount", widget=GovTextInput(), description="In pounds and pence, like 12.50",
                         validators=[DataRequired("Enter the amount you spent"), Length(max=15)])
    pre_approval = StringField("Who approved this before you spent it, and when?", widget=GovTextInput(),
                               description="Needed for some kinds of expense, like “other”",
                               validators=[Optional(), Length(max=300)])


class ReceiptForm(PortalForm):
    receipts = MultipleFileField("Add receipts", widget=GovFileInput(multiple=True), description=RECEIPT_HINT)
    submit = SubmitField("Upload", widget=GovSubmitInput())


class ConfirmForm(PortalForm):
    submit = SubmitField("Confirm", widget=GovSubmitInput())


def _text_area(label: str, required: str, *, description: str | None = None, optional: bool = False):
    validators = [Optional()] if optional else [DataRequired(required)]
    return TextAreaField(label, description=description, widget=GovCharacterCount(),
                         validators=[*validators, Length(max=REASON_MAX,
                                                         message=f"Enter {REASON_MAX:,} characters or fewer")])


class WithdrawForm(PortalForm):
    reason = _text_area("Why are you withdrawing this claim? (optional)", "", optional=True)
    submit = SubmitField("Withdraw claim", widget=GovSubmitInput())


class AnswerForm(PortalForm):
    answer = _text_area("Your answer", "Enter your answer")
    submit = SubmitField("Send answer and resubmit", widget=GovSubmitInput())


class QueryForm(PortalForm):
    question = _text_area("Your question for the claimant", "Enter your question for the claimant",
                          description="The claimant is e-mailed and can change the claim before answering.")
    submit = SubmitField("Send question", widget=GovSubmitInput())


class RejectForm(PortalForm):
    reason = _text_area("Why is the claim rejected?", "Enter why the claim is rejected",
                        description="The claimant is e-mailed this reason.")
    submit = SubmitField("Reject claim", widget=GovSubmitInput())


class ApproveForm(PortalForm):
    version = HiddenField()
    cost_code = StringField("Cost code", widget=GovTextInput(), validators=[Optional(), Length(max=40)])
    submit = SubmitField("Approve claim", widget=GovSubmitInput())


class LineDecisionForm(PortalForm):
    reason = StringField("Reason (needed to reject)", widget=GovTextInput(), validators=[Optional(), Length(max=500)])
    approve = SubmitField("Approve expense", widget=GovSubmitInput())
    reject = SubmitField("Reject expense", widget=GovSubmitInput())


class DismissDuplicateForm(PortalForm):
    reason = _text_area("Why is this not a duplicate?", "Enter why this is not a duplicate")
    submit = SubmitField("Dismiss the warning", widget=GovSubmitInput())


class OtherMilesForm(PortalForm):
    tax_year = SelectField("Tax year", widget=GovRadioInput(), choices=[], validate_choice=False,
                           validators=[DataRequired("Choose the tax year")])
    miles = StringField("Miles", widget=GovTextInput(),
                        description="Car or van miles other organisations have paid you mileage for in that tax "
                                    "year. They count towards the 10,000 miles paid at the higher rate.",
                        validators=[DataRequired("Enter the miles, or 0"), Length(max=10)])
    submit = SubmitField("Save miles", widget=GovSubmitInput())


class PaidForm(PortalForm):
    paid_on = GovDateField("Date paid", validators=[DataRequired("Enter the date the batch was paid")],
                           invalid_message="The date paid must be a real date")
    submit = SubmitField("Mark as paid", widget=GovSubmitInput())


class PolicyForm(PortalForm):
    receipt_required_above = StringField("Receipt needed for expenses over (£)", widget=GovTextInput(),
                                         validators=[DataRequired("Enter an amount"), Length(max=12)])
    subsistence_cap = StringField("Subsistence cap a day (£)", widget=GovTextInput(),
                                  validators=[DataRequired("Enter an amount"), Length(max=12)])
    max_line = StringField("Largest single expense (£)", widget=GovTextInput(),
                           validators=[DataRequired("Enter an amount"), Length(max=12)])
    old_claim_months = StringField("Flag expenses older than (months)", widget=GovTextInput(),
                                   validators=[DataRequired("Enter a number of months"), Length(max=3)])
    preapproval_categories = SelectMultipleField("Kinds of expense that need approval before spending",
                                                 widget=GovCheckboxesInput(), choices=EXPENSE_CATEGORIES,
                                                 validators=[Optional()])
    default_cost_code = StringField("Default cost code", widget=GovTextInput(),
                                    validators=[DataRequired("Enter a cost code"), Length(max=40)])
    submit = SubmitField("Save policy", widget=GovSubmitInput())


class RateForm(PortalForm):
    vehicle = SelectField("Rate for", widget=GovRadioInput(),
                          choices=[SelectChoice(kind, mileage.RATE_KIND_LABELS[kind]) for kind in mileage.RATE_KINDS],
                          validators=[DataRequired("Choose what the rate is for")])
    pence_per_mile = StringField("Pence a mile", widget=GovTextInput(),
                                 validators=[DataRequired("Enter pence a mile"), Length(max=4)])
    threshold_miles = StringField("Threshold in miles (cars and vans)", widget=GovTextInput(),
                                  validators=[Optional(), Length(max=7)])
    pence_per_mile_after = StringField("Pence a mile after the threshold (cars and vans)", widget=GovTextInput(),
                                       validators=[Optional(), Length(max=4)])
    effective_from = GovDateField("Starts on", validators=[DataRequired("Enter the date the rate starts")],
                                  invalid_message="The start date must be a real date")
    submit = SubmitField("Add rate", widget=GovSubmitInput())


SEARCH_MAX = SEARCH_MAX_LENGTH


class ClaimFilterForm(PortalForm):
    """The coordinator's claim list filters (a GET form). The month's choices are set by the page."""

    class Meta:
        csrf = False  # a GET search form changes nothing

    search = StringField("Volunteer's name", widget=GovTextInput(), description="All or part of the name",
                         validators=[Optional(), Length(max=SEARCH_MAX,
                                                        message=too_long("The name", SEARCH_MAX))])
    month = SelectField("Month submitted", widget=GovSelect(), choices=[], validators=[Optional()])
    submit = SubmitField("Apply filters", widget=GovSubmitInput())

"""Forms shared by the web edge: sign-in, passwords, people and the audit filter. Shape only."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovPasswordInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.core.accounts import ROLE_ORDER
from portal.core.errors import DomainError
from portal.core.passwords import MAX_LENGTH
from portal.web.baseform import PortalForm
from portal.web.fields import GovDateField


def add_service_problem(form, field, problem: DomainError) -> None:
    """Show a service's refusal on `field`, so the page's GOV.UK error summary links to it.

    The error summary shows one message per field, so several reasons become one message
    ("A case cannot move from X to Y: this; that").
    """
    message = problem.reasons[0] if len(problem.reasons) == 1 else str(problem)
    field.errors = [*field.errors, message]
    form._errors = None  # WTForms caches form.errors


ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in ROLE_ORDER]


class SignInForm(PortalForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[DataRequired("Enter your email address"), Length(max=254)],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[DataRequired("Enter your password"), Length(max=MAX_LENGTH)],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class ForgottenPasswordForm(PortalForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter your email address"),
            Email("Enter an email address in the correct format, like name@example.com"),
            Length(max=254),
        ],
    )
    submit = SubmitField("Send me a reset link", widget=GovSubmitInput())


class NewPasswordForm(PortalForm):
    password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description="At least 10 characters. Three or four unrelated words work well.",
        validators=[DataRequired("Enter a new password"), Length(max=MAX_LENGTH)],
    )
    confirm = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[
            DataRequired("Enter the new password again"),
            EqualTo("password", "The passwords do not match"),
        ],
    )
    submit = SubmitField("Save password", widget=GovSubmitInput())


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[DataRequired("Enter your current password")],
    )


class PersonForm(PortalForm):
    name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[DataRequired("Enter the person's full name"), Length(max=200)],
    )
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the person's email address"),
            Email("Enter an email address in the correct format, like name@example.com"),
            Length(max=254),
        ],
    )
    roles = SelectMultipleField(
        "Roles",
        choices=ROLE_CHOICES,
        widget=GovCheckboxesInput(),
        validators=[DataRequired("Choose at least one role")],
    )
    submit = SubmitField("Send invitation", widget=GovSubmitInput())


class RolesForm(PortalForm):
    roles = SelectMultipleField(
        "Roles",
        choices=ROLE_CHOICES,
        widget=GovCheckboxesInput(),
        validators=[DataRequired("Choose at least one role")],
    )
    submit = SubmitField("Save roles", widget=GovSubmitInput())


class ConfirmForm(PortalForm):
    """A button-only form (deactivate, resend, reset): it carries the CSRF token."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


class AuditFilterForm(PortalForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    actor = StringField("Who (email contains)", widget=GovTextInput(), validators=[Optional(), Length(max=254)])
    action = SelectField("Action", widget=GovSelect(), choices=[], validators=[Optional()])
    subject_type = StringField("Object type", widget=GovTextInput(), validators=[Optional(), Length(max=80)])
    subject_id = IntegerField(
        "Object id",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=1, message="Object id must be a whole number above 0")],
    )
    from_date = GovDateField("From", validators=[Optional()])
    to_date = GovDateField("To", validators=[Optional()])
    submit = SubmitField("Filter", widget=GovSubmitInput())

    def validate_to_date(self, field):
        if field.data and self.from_date.data and field.data < self.from_date.data:
            raise ValidationError("The ‘to’ date must be the same as or after the ‘from’ date")


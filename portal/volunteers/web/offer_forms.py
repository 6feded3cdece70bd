"""Forms for the offers pages: shape only (required, lengths, choices); services check policy."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField


class OfferForm(FlaskForm):
    """The button that makes the offer (carries the CSRF token)."""

    submit = SubmitField("Make the offer", widget=GovSubmitInput())

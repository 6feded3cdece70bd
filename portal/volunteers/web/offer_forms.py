"""Forms for the offers pages: shape only (required, lengths, choices); services check policy."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField

from portal.web.baseform import PortalForm


class OfferForm(PortalForm):
    """The button that makes the offer (carries the CSRF token)."""

    submit = SubmitField("Make the offer", widget=GovSubmitInput())

"""Form fields shared by every module's forms: GOV.UK dates that tolerate empty input."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from wtforms import DateField


class DateInput(GovDateInput):
    """GovDateInput that renders empty boxes when the form was sent without this field."""

    def map_gov_params(self, field, **kwargs):
        if field.raw_data is not None and len(field.raw_data) != 3:
            field.raw_data = None
        return super().map_gov_params(field, **kwargs)


class GovDateField(DateField):
    """A date typed as day, month and year boxes, with a GOV.UK-style message when it is not real."""

    widget = DateInput()

    def __init__(self, label=None, validators=None, *, invalid_message: str | None = None, **kwargs):
        super().__init__(label, validators, format="%d %m %Y", **kwargs)
        self.invalid_message = invalid_message or f"{label} must be a real date"

    def process_formdata(self, valuelist):
        if valuelist and not any(part.strip() for part in valuelist):
            self.data = None
            self.raw_data = []
            return
        try:
            super().process_formdata([" ".join(part.strip() for part in valuelist)])
        except ValueError as error:
            raise ValueError(self.invalid_message) from error

"""Form fields shared by every module's forms: GOV.UK dates that tolerate empty input, 24-hour times
and whole numbers typed in a text box."""

from __future__ import annotations

import datetime as dt
import re

from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovTextInput
from wtforms import DateField, Field, StringField


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


_TIME = re.compile(r"^\s*([01]?\d|2[0-3])\s*[:.]\s*([0-5]\d)\s*$")


class TimeField(StringField):
    """A 24-hour UK time typed as HH:MM (14:30 or 14.30); `data` is a dt.time or None."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, *, invalid_message: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.invalid_message = invalid_message or f"Enter {str(label).lower()} as a 24-hour time, like 14:30"

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "") or ""
        if not text.strip():
            self.data = None
            return
        match = _TIME.match(text)
        if not match:
            self.data = None
            raise ValueError(self.invalid_message)
        self.data = dt.time(int(match.group(1)), int(match.group(2)))

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return f"{self.data:%H:%M}" if isinstance(self.data, dt.time) else ""


class WholeNumberField(Field):
    """A whole number typed in a text box; anything else gets a GOV.UK-style message."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, *, invalid_message: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.invalid_message = invalid_message or f"{label} must be a whole number, like 2"

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "") or ""
        if not text.strip():
            self.data = None
            return
        try:
            self.data = int(text.strip())
        except ValueError as error:
            self.data = None
            raise ValueError(self.invalid_message) from error

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

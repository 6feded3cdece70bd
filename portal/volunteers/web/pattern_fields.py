"""Form fields for a weekly pattern (morning, afternoon, evening of each weekday): the applicant's and
volunteer's availability and a case's meeting times all use them, with the `weekly_pattern` macro
in templates/_weekly_pattern.html."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput
from wtforms import SelectChoice, SelectMultipleField
from wtforms.validators import Optional

from portal.volunteers.models import DAY_PERIODS, WEEKDAYS

PERIOD_CHOICES = [SelectChoice(period, period.capitalize()) for period in DAY_PERIODS]


def day_field(day: str, *, validate_choice: bool = False) -> SelectMultipleField:
    """The checkboxes for one weekday, labelled with the day (the fieldset's legend)."""
    return SelectMultipleField(day.capitalize(), widget=GovCheckboxesInput(), choices=PERIOD_CHOICES,
                               validators=[Optional()], validate_choice=validate_choice)


def add_day_fields(form_class: type, *, validate_choice: bool = False) -> None:
    """Give `form_class` one field per weekday, named after the day."""
    for day in WEEKDAYS:
        setattr(form_class, day, day_field(day, validate_choice=validate_choice))


class WeeklyPatternMixin:
    """For a form with a field per weekday (`add_day_fields`): read and fill the pattern."""

    def day_fields(self) -> list[SelectMultipleField]:
        return [self._fields[day] for day in WEEKDAYS]

    def pattern(self) -> dict[str, list[str]]:
        """The ticked weekday periods as {day: [periods]}, leaving out days with none."""
        return {day: list(self._fields[day].data) for day in WEEKDAYS if self._fields[day].data}

    def set_pattern(self, pattern: dict[str, list[str]]) -> None:
        for day in WEEKDAYS:
            self._fields[day].data = list(pattern.get(day, []))

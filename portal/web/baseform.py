"""The base of every form in the portal: the shape rules that hold for every field of every form."""

from __future__ import annotations

import datetime as dt
import re

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto  # FlaskForm's default for "the request's form data"
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import Field, PasswordField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectFieldBase
from wtforms.validators import StopValidation

from portal.web.input import DATABASE_INT_MAX, DATABASE_INT_MIN, EARLIEST_DATE, LATEST_DATE

# Line breaks, tabs and every other control character (Unicode category Cc), and the Unicode line and
# paragraph separators. A single-line answer holding one is pasted junk or an attempt to forge an
# e-mail header or a CSV row.
_NOT_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _subject(field: Field) -> str:
    label = str(field.label.text).strip()
    return f"The answer to “{label}”" if label.endswith("?") else label


def _values(data) -> list:
    return list(data) if isinstance(data, list | tuple | set | frozenset) else [data]


def input_guard(form, field: Field) -> None:
    """Refuse what no form of the portal can store: numbers beyond a database INTEGER, dates outside
    1900–2199, and line breaks or control characters in a single-line answer."""
    single_line = not isinstance(field, TextAreaField | PasswordField)
    for value in _values(field.data):
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            if isinstance(field, SelectFieldBase) and not DATABASE_INT_MIN <= value <= DATABASE_INT_MAX:
                raise StopValidation(f"{_subject(field)} must be one of the choices shown")
            if value > DATABASE_INT_MAX:
                raise StopValidation(f"{_subject(field)} must be {DATABASE_INT_MAX:,} or less")
            if value < DATABASE_INT_MIN:
                raise StopValidation(f"{_subject(field)} must be {DATABASE_INT_MIN:,} or more")
        elif isinstance(value, dt.date):
            day = value.date() if isinstance(value, dt.datetime) else value
            if day > LATEST_DATE:
                raise StopValidation(f"{_subject(field)} must be before 1 January {LATEST_DATE.year + 1}")
            if day < EARLIEST_DATE:
                raise StopValidation(f"{_subject(field)} must be after 31 December {EARLIEST_DATE.year - 1}")
        elif isinstance(value, str) and single_line and _NOT_SINGLE_LINE.search(value):
            raise StopValidation(f"{_subject(field)} must not contain line breaks or control characters")


class PortalForm(FlaskForm):
    """FlaskForm with the portal's rules for every field (see `input_guard`), checked before the field's
    own validators. Every form class in the portal derives from it (tests/test_architecture.py)."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            field.validators = [input_guard, *field.validators]
            return field

        def wrap_formdata(self, form, formdata):
            if formdata is _Auto:
                # Only form posts: a JSON body would skip the cleaning every form parameter gets.
                if not form.is_submitted() or not (request.files or request.form):
                    return None
                formdata = CombinedMultiDict((request.files, request.form)) if request.files else request.form
            else:
                formdata = super().wrap_formdata(form, formdata)
            if formdata is None:
                return None
            return _without_blank_choices(form, formdata)


def _without_blank_choices(form, formdata):
    # A blank among a checkbox group's values means "nothing chosen", never a choice: WTForms' Optional()
    # would otherwise clear the "not a valid choice" error and pass the blank on.
    names = [field.name for field in form._fields.values()
             if isinstance(field, SelectMultipleField) and "" in formdata.getlist(field.name)]
    if not names:
        return formdata
    kept = MultiDict(formdata)
    for name in names:
        kept.setlist(name, [value for value in formdata.getlist(name) if value != ""])
    return kept

"""Input at the edge: text is cleaned once as it is parsed, ids in URLs and numbers in query strings
are kept within what the database can hold."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask, Request, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter

# Every id column and most counts are SQL INTEGER; PostgreSQL refuses anything outside this range.
DATABASE_INT_MIN = -(2**31)
DATABASE_INT_MAX = 2**31 - 1
# Dates from outside are refused outside these: nothing the portal records is older or that far ahead,
# and adding a period (an expiry, a week, a retention date) to a date near the year 9999 overflows.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)

# NUL and the other C0 control characters, except tab, line feed and carriage return. PostgreSQL
# refuses NUL in text, XML and spreadsheets refuse the rest, and none of them is ever typed on purpose.
_UNTYPEABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def clean_text(value: str) -> str:
    """`value` without NUL and the other C0 control characters that nobody types (tab and line breaks stay)."""
    return _UNTYPEABLE.sub("", value)


class CleanMultiDict(ImmutableMultiDict):
    """The request's query and form parameters, keys and values cleaned with `clean_text` as they are parsed."""

    def __init__(self, mapping=None):
        if mapping is None:
            super().__init__()
            return
        if isinstance(mapping, MultiDict):
            pairs = mapping.items(multi=True)
        elif isinstance(mapping, dict):
            pairs = mapping.items()
        else:
            pairs = mapping
        super().__init__([(_clean(key), _clean(value)) for key, value in pairs])


def _clean(value):
    return clean_text(value) if isinstance(value, str) else value


class PortalRequest(Request):
    """Flask's request whose `args` and `form` (and so every form and query parameter) are cleaned."""

    parameter_storage_class = CleanMultiDict


class DatabaseIntegerConverter(IntegerConverter):
    """`<int:…>` that matches only numbers a database INTEGER can hold: a larger id is a 404, like any unknown id."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        low = DATABASE_INT_MIN if min is None or min < DATABASE_INT_MIN else min
        high = DATABASE_INT_MAX if max is None or max > DATABASE_INT_MAX else max
        super().__init__(map, fixed_digits=fixed_digits, min=low, max=high, signed=signed)


def int_arg(name: str, default: int | None = None, *, minimum: int = DATABASE_INT_MIN,
            maximum: int = DATABASE_INT_MAX) -> int | None:
    """The query parameter `name` as a whole number, or `default` when it is missing, not a whole number,
    or outside minimum..maximum (a page number of 0 or 2^63 is treated as no page number)."""
    text = request.args.get(name, "").strip()
    if not re.fullmatch(r"[+-]?[0-9]{1,19}", text):  # ASCII digits only: int("３") is 3
        return default
    number = int(text)
    return number if minimum <= number <= maximum else default


def date_arg(name: str, default: dt.date | None = None) -> dt.date | None:
    """The query parameter `name` as an ISO date (2026-11-23), or `default` when it is missing, not a date,
    or outside EARLIEST_DATE..LATEST_DATE."""
    try:
        day = dt.date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return default
    return day if EARLIEST_DATE <= day <= LATEST_DATE else default


def init_app(app: Flask) -> None:
    """Clean every request's parameters and bound `<int:…>` URL parts; call before any blueprint is registered."""
    app.request_class = PortalRequest
    app.url_map.converters["int"] = DatabaseIntegerConverter

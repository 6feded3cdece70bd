"""Small helpers the services share for checking typed input: collect messages per field, tidy text,
and say a text is too long in one wording. Flask-free, like the rest of portal.core."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any


class FieldErrors:
    """Collects messages per form field, in the order the fields are checked, and raises them together.

    `raise_as` builds the exception from the dict of field name -> messages (each module's
    ValidationFailed subclass, e.g. SectionInvalid). `errors` is that dict, in insertion order; it
    is the same dict the exception receives.
    """

    def __init__(self, raise_as: Callable[[dict[str, list[str]]], Exception]) -> None:
        self.errors: dict[str, list[str]] = {}
        self._raise_as = raise_as

    def add(self, name: str, message: str) -> None:
        """Add `message` to the field `name`, after any message it already has."""
        self.errors.setdefault(name, []).append(message)

    def __contains__(self, name: object) -> bool:
        """Whether the field `name` has a message yet."""
        return name in self.errors

    def raise_if_any(self) -> None:
        """Raise `raise_as(errors)` when any field has a message; otherwise do nothing."""
        if self.errors:
            raise self._raise_as(self.errors)


def clean_text(value: Any) -> str:
    """`value` as text, NFC-normalised and stripped of surrounding white space; None (or "") gives "".

    NFC keeps "Zoë" typed with a combining mark the same as with a precomposed ë; nothing else changes.
    """
    return unicodedata.normalize("NFC", str(value or "")).strip()


def too_long(what: str, limit: int, value: str | None = None) -> str:
    """The message for a text over its limit, with thousands separators:
    "Notes must be 1,000 characters or fewer (you have entered 1,001)".

    `what` starts the sentence as given. Without `value` the count in brackets is left out
    ("Notes must be 1,000 characters or fewer"), for forms that cannot say how much was typed.
    """
    message = f"{what} must be {limit:,} characters or fewer"
    if value is None:
        return message
    return f"{message} (you have entered {len(value):,})"


LINK_MAX = 500
_HTTPS_LINK = re.compile(r"^https://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def online_link_problem(link: str | None, *, missing: str) -> str | None:
    """What is wrong with a video-call link (already cleaned), or None: `missing` when there is none,
    too long over LINK_MAX characters, or not a full https:// address."""
    if not link:
        return missing
    if len(link) > LINK_MAX:
        return too_long("The link", LINK_MAX, link)
    if not _HTTPS_LINK.match(link):
        return "Enter the link in full, starting with https://"
    return None

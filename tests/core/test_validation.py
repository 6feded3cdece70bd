"""The shared input helpers: collecting messages per field, tidying text, the too-long wording."""

import unicodedata

import pytest

from portal.core.errors import ValidationFailed
from portal.core.validation import LINK_MAX, FieldErrors, clean_text, online_link_problem, too_long


class _Invalid(ValidationFailed):
    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(reasons=[m for messages in errors.values() for m in messages], field=next(iter(errors)))


def test_field_errors_without_messages_does_not_raise():
    errors = FieldErrors(_Invalid)

    errors.raise_if_any()

    assert errors.errors == {}
    assert "name" not in errors


def test_field_errors_keeps_messages_per_field_in_the_order_added():
    errors = FieldErrors(_Invalid)
    errors.add("name", "Enter your name")
    errors.add("email", "Enter your email address")
    errors.add("name", "Name must be 100 characters or fewer")

    assert "name" in errors
    assert "phone" not in errors
    with pytest.raises(_Invalid) as raised:
        errors.raise_if_any()

    assert raised.value.errors == {
        "name": ["Enter your name", "Name must be 100 characters or fewer"],
        "email": ["Enter your email address"],
    }
    assert list(raised.value.errors) == ["name", "email"]
    assert raised.value.field == "name"
    assert raised.value.reasons == [
        "Enter your name", "Name must be 100 characters or fewer", "Enter your email address",
    ]


def test_each_field_errors_raises_its_own_exception():
    class Other(Exception):
        def __init__(self, errors):
            super().__init__(errors)
            self.errors = errors

    errors = FieldErrors(Other)
    errors.add("reason", "Enter a reason")

    with pytest.raises(Other) as raised:
        errors.raise_if_any()

    assert raised.value.errors == {"reason": ["Enter a reason"]}


@pytest.mark.parametrize(("value", "expected"), [
    (None, ""),
    ("", ""),
    ("  Zoë  \n", "Zoë"),
    ("a  b", "a  b"),
    (42, "42"),
])
def test_clean_text_strips_and_turns_nothing_into_empty_text(value, expected):
    assert clean_text(value) == expected


def test_clean_text_composes_combining_marks():
    decomposed = "Zoe\u0308"

    cleaned = clean_text(decomposed)

    assert cleaned == "Zo\u00eb"
    assert cleaned == unicodedata.normalize("NFC", decomposed)
    assert len(cleaned) == 3


def test_too_long_says_the_limit_and_how_much_was_entered_with_thousands_separators():
    assert too_long("Notes", 1000, "x" * 1001) == "Notes must be 1,000 characters or fewer (you have entered 1,001)"
    assert too_long("The reason", 500, "y" * 501) == "The reason must be 500 characters or fewer (you have entered 501)"


def test_too_long_without_the_text_leaves_out_the_count():
    assert too_long("The venue", 2000) == "The venue must be 2,000 characters or fewer"


def test_online_link_problem_names_what_is_wrong_with_a_video_call_link():
    assert online_link_problem("https://meet.example.org/rj-42", missing="Enter the link") is None
    assert online_link_problem("", missing="Enter the link") == "Enter the link"
    assert online_link_problem("meet.example.org/rj", missing="x") == "Enter the link in full, starting with https://"
    assert online_link_problem("https://exa mple.org", missing="x") == "Enter the link in full, starting with https://"
    too_long_link = "https://example.org/" + "a" * LINK_MAX
    assert online_link_problem(too_long_link, missing="x").startswith("The link must be 500 characters or fewer")

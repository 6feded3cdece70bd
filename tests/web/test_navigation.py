"""The service navigation shows each role its own sections, each once."""

from __future__ import annotations

import re

import pytest

from portal.core.accounts import Role


def _links(page: str) -> list[str]:
    navigation = page[page.index('class="govuk-service-navigation__list"'):]
    navigation = navigation[: navigation.index("</ul>")]
    labels = re.findall(r"<a [^>]*>(.*?)</a>", navigation, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", label)).strip() for label in labels]


@pytest.mark.parametrize(
    ("roles", "expected", "absent"),
    [
        ((Role.COORDINATOR,), ["Cases", "Applications", "Interviews", "Supervision", "Expense claims"],
         ["My cases", "People"]),
        ((Role.VOLUNTEER,), ["My cases", "Supervision", "Expenses"], ["Cases", "Applications", "Payment batches"]),
        ((Role.APPLICANT,), ["Your application"], ["Cases", "Expenses", "Supervision"]),
        ((Role.ADMIN,), ["People", "Audit log", "Expenses policy"], ["Cases"]),
    ],
)
def test_each_role_sees_its_own_sections(client, login_as, roles, expected, absent):
    login_as(*roles)
    links = _links(client.get("/", follow_redirects=True).get_data(as_text=True))
    assert links[0] == "Home" and links[-1] == "Your account"
    assert set(expected) <= set(links) and not set(absent) & set(links)


def test_a_person_with_two_roles_sees_a_shared_section_once(client, login_as):
    login_as(Role.COORDINATOR, Role.TRAINER)
    links = _links(client.get("/", follow_redirects=True).get_data(as_text=True))
    assert len(links) == len(set(links))

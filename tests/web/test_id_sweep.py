"""The id sweep: every route in the URL map with a whole number in its URL, asked by each role for
0, -1, 2^31 and 2^63 in each such part (the other parts real ids the role's crawl saw), with GET and with
POST (a valid CSRF token): never a 500, and a number no database INTEGER can hold is a 404."""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from portal.core import clock
from tests.web.sweep import NOW, ROLES, Site, crawl, csrf_token, load_world, sign_in, url_for_rule

BAD_IDS = (0, -1, 2**31, 2**63)
NEVER_AN_ID = {-1, 2**31, 2**63}


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def test_every_integer_in_a_url_out_of_range_is_404_and_nothing_answers_500(make_app, fixed_clock):
    # One world for every role: an out-of-range id changes nothing, so the roles cannot disturb each other.
    app = make_app(WTF_CSRF_ENABLED=True)
    load_world(app)
    site = Site(app)
    rules = [(rule, [name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)])
             for rule in site.rules()]
    rules = [(rule, numbers) for rule, numbers in rules if numbers]
    problems: list[str] = []
    requests = 0
    for role in ROLES:
        client = app.test_client()
        sign_in(client, role)
        found = crawl(site, client, role, problems, per_endpoint=1)
        token = csrf_token(client, "/sign-in" if ROLES[role] is None else "/account/password")
        for rule, numbers in rules:
            for name in numbers:
                for bad in BAD_IDS:
                    url = url_for_rule(rule, found, **{name: bad})
                    answers = {}
                    if "GET" in rule.methods:
                        answers["GET"] = client.get(url).status_code
                    if "POST" in rule.methods:
                        answers["POST"] = client.post(url, data={"csrf_token": token}).status_code
                    requests += len(answers)
                    for method, status in answers.items():
                        if status >= 500:
                            problems.append(f"{role}: {method} {url} answered {status}")
                        elif bad in NEVER_AN_ID and status != 404:
                            problems.append(f"{role}: {method} {url} answered {status}, not 404")

    print(f"\n{len(rules)} routes with whole numbers in their URLs, {len(ROLES)} roles, {requests} requests")
    assert len(rules) >= 100, "fewer routes with ids than the portal has; is the converter check broken?"
    assert not problems, "\n".join(problems)

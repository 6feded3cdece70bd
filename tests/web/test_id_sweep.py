"""The id sweep: every route in the URL map with a whole number in its URL, asked by each role for
0, -1, 2^31 and 2^63 in each such part (the other parts real ids the role's crawl saw), with GET and with
POST (a valid CSRF token): never a 500, and a number no database INTEGER can hold is a 404. Words in
URLs (an application section, a token, a kind of check) get NUL, invalid UTF-8, markup and 3,000
characters, and never answer 500 either."""

from __future__ import annotations

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter, PathConverter

from portal.core import clock
from tests.web.sweep import NOW, ROLES, Site, crawl, csrf_token, load_world, sign_in, url_for_rule

BAD_IDS = (0, -1, 2**31, 2**63)
NEVER_AN_ID = {-1, 2**31, 2**63}
INVALID_UTF8 = "INVALIDUTF8"  # replaced by %FF%FE once the URL is built
BAD_WORDS = ("\x00", INVALID_UTF8, "<script>alert(1)</script>", "a" * 3_000, "\u202e🙂", "..")


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _is_word(converter) -> bool:
    return not isinstance(converter, IntegerConverter | AnyConverter | PathConverter)


def test_ids_out_of_range_are_404_and_no_id_or_word_in_a_url_answers_500(make_app, fixed_clock):
    # One world for every role: an out-of-range id changes nothing, so the roles cannot disturb each other.
    app = make_app(WTF_CSRF_ENABLED=True)
    load_world(app)
    site = Site(app)
    cases = []  # (rule, URL part, bad values)
    for rule in site.rules():
        if rule.endpoint == "static":
            continue  # files, not pages: Werkzeug's own converter and file lookup
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                cases.append((rule, name, BAD_IDS))
            elif _is_word(converter):
                cases.append((rule, name, BAD_WORDS))
    problems: list[str] = []
    requests = 0
    for role in ROLES:
        client = app.test_client()
        sign_in(client, role)
        found = crawl(site, client, role, problems, per_endpoint=1)
        token = csrf_token(client, "/sign-in" if ROLES[role] is None else "/account/password")
        for rule, name, values in cases:
            for bad in values:
                url = url_for_rule(rule, found, **{name: bad}).replace(INVALID_UTF8, "%FF%FE")
                answers = {}
                if "GET" in rule.methods:
                    answers["GET"] = client.get(url).status_code
                if "POST" in rule.methods:
                    answers["POST"] = client.post(url, data={"csrf_token": token}).status_code
                requests += len(answers)
                for method, status in answers.items():
                    if status >= 500:
                        problems.append(f"{role}: {method} {url[:120]} answered {status}")
                    elif bad in NEVER_AN_ID and status != 404:
                        problems.append(f"{role}: {method} {url} answered {status}, not 404")

    with_ids = {rule.endpoint for rule, _name, values in cases if values is BAD_IDS}
    print(f"\n{len(with_ids)} routes with whole numbers in their URLs, "
          f"{len(cases) - sum(values is BAD_IDS for _r, _n, values in cases)} words in URLs, "
          f"{len(ROLES)} roles, {requests} requests")
    assert len(with_ids) >= 100, "fewer routes with ids than the portal has; is the converter check broken?"
    assert not problems, "\n".join(problems)

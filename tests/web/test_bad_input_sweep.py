"""The bad-input sweep: for each role, every form on every page that role reaches (found by crawling
from its home page, so new forms are swept without being listed here), every query parameter in its
links, and every POST route in the URL map, sent hostile values with a valid CSRF token.

Each value goes into one field at a time, the other fields as the page filled them, and then into
every field at once. Nothing may answer 500, echo a script unescaped, or save anything when the answer
is not a success; a line break is never accepted in a single-line field. Afterwards every page is read
again, now showing whatever hostile values were accepted, under the same rules.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.core import clock
from portal.extensions import limiter
from tests.web.sweep import (
    NOT_CRAWLED,
    NOW,
    ROLES,
    START,
    Crawl,
    Form,
    Raw,
    Site,
    Snapshot,
    crawl,
    csrf_token,
    emailed_links,
    encode,
    load_world,
    send,
    sign_in,
    url_for_rule,
)

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><svg onload=alert(1)>'
# Found in a page only if a value was written into it without escaping.
MARKERS = (SCRIPT, ATTRIBUTE)
LINE_BREAK = "line\r\nBcc: attacker@example.org"
NUL = "nul \x00 byte"

# Each list is sent in step: the n-th variant puts TEXT[n] in every text box, CHOICE[n] in every
# select, radio and checkbox group and DATES[n] in every date (lists wrap round).
TEXT = [
    NUL,
    "controls \x01\x08\x0b\x0c\x1b[31m\x7f\x85 and a\ttab",
    LINE_BREAK,
    "x" * 300,  # beyond most columns' lengths
    "long " * 2_000,  # 10,000 characters
    f"{SCRIPT} {ATTRIBUTE} {{{{ 7 * 7 }}}} \u202egnp.exe\u202c مرحبا 🙂 👩🏽‍⚖️ 𝔘𝔫𝔦 Z̴̧a̷l̸",  # markup, RTL, emoji
    Raw("%FF%FE%C0%AF%ED%A0%80"),  # invalid UTF-8 and an encoded surrogate
    "2147483648",  # 2^31
    "9223372036854775808",  # 2^63
    "-2147483649",
    "-1",
    "0",
    "1e999",
]
CHOICE = [[""], ["2147483648"], ["9223372036854775808"], ["-1"], ["0"], ["not-a-choice"], [NUL], [LINE_BREAK],
          [SCRIPT], [Raw("%FF")], "blank and a choice", "a choice twice", [""]]
DATES = [
    ("31", "2", "2026"), ("29", "2", "2027"), ("1", "1", "0"), ("31", "12", "9999"), ("1", "1", "10000"),
    ("1", "1", "1"), ("31", "12", "1899"), ("1", "1", "2200"), ("2147483648", "1", "2026"), ("", "", "2026"),
    (NUL, "1", "2026"), (SCRIPT, LINE_BREAK, "2026"), ("1",), ("1", "1", "2026", "1"),
]
ONE_MEGABYTE = "x" * 1_000_001
QUERY = [NUL, Raw("%FF%FE"), "2147483648", "9223372036854775808", "-1", "0", SCRIPT, "9999-12-31",
         "0001-01-01", "", "not-a-value"]
# Tried in turn on each field the page refuses, to find values that make the rest of the form valid, so
# that hostile values reach the services and not only the form checks.
PLAUSIBLE_TEXT = ["Example text", "2", "someone@example.org", "10:00", "https://meet.example.org/rj-portal"]
PLAUSIBLE_DATES = [(NOW + dt.timedelta(days=days)).date() for days in (21, -21, 90)]
REDIRECTS = {301, 302, 303, 307, 308}
# Floors on what each role's crawl finds, so a broken sign-in or crawler cannot pass by sweeping nothing.
MINIMUM_FORMS = {"anonymous": 7, "applicant": 1, "applicant with a draft": 5, "applicant shortlisted": 1,
                 "volunteer": 10, "trainer": 8, "coordinator": 60, "admin": 6}
_ERROR_LINK = re.compile(r'<a href="#([^"]+)"')
_ERROR_MESSAGE = re.compile(r'id="([^"]+)-error"')


class Sweep:
    """One role's client, with the checks every answer gets."""

    def __init__(self, app: Flask, client: FlaskClient, role: str, snapshot: Snapshot):
        self.app, self.client, self.role, self.snapshot = app, client, role, snapshot
        self.problems: list[str] = []
        self.requests = 0
        self.accepted = 0  # answered with a redirect: the services saw the values
        self._reported: set[tuple] = set()
        self._last: dict | None = None

    def report(self, key: tuple, message: str) -> None:
        if key not in self._reported:
            self._reported.add(key)
            self.problems.append(f"{self.role}: {message}")

    def look(self, response: TestResponse, label: str) -> None:
        """No 500, and no marker written into an HTML page unescaped."""
        if response.status_code >= 500:
            self.report((label, "500"), f"{label} answered {response.status_code}")
        if response.mimetype == "text/html":
            body = response.get_data(as_text=True)
            for marker in MARKERS:
                if marker in body:
                    self.report((label, "echo"), f"{label} wrote {marker!r} into the page unescaped")

    def submit(self, form: Form, pairs: list[tuple[str, str]], label: str) -> TestResponse:
        """Send `pairs`; check the answer, the page a redirect leads to, and that a refusal saved nothing."""
        before = None
        if form.method == "post":
            before = self._last if self._last is not None else self.snapshot()
        response = self._send(form, pairs)
        self.requests += 1
        self.look(response, label)
        self._last = None
        if response.status_code in REDIRECTS:
            self.accepted += 1
            location = response.headers["Location"]
            if urlsplit(location).path == "/sign-in" and ROLES[self.role]:
                sign_in(self.client, self.role)  # the form ended the session; carry on signed in
            else:
                self.look(self.client.get(location), f"{label}, then GET {location}")
        elif before is not None and refusal(response):
            after = self._last = self.snapshot()
            changed = Snapshot.changed(before, after)
            if changed:
                self.report((label, "saved"), f"{label} answered {response.status_code} but saved {changed}")
        return response

    def _send(self, form: Form, pairs) -> TestResponse:
        response = send(self.client, form.method, form.action, pairs, multipart=form.multipart)
        if response.status_code == 429:  # the sign-in and sign-up limits: start counting again, send again
            with self.app.app_context():
                limiter.reset()
            response = send(self.client, form.method, form.action, pairs, multipart=form.multipart)
        return response


def refusal(response: TestResponse) -> bool:
    """The answer refuses the request: an error status, or a page showing a GOV.UK error summary."""
    return response.status_code >= 400 or (
        response.mimetype == "text/html" and "govuk-error-summary" in response.get_data(as_text=True))


def refused_fields(response: TestResponse, inputs: dict[str, str]) -> set[str] | None:
    """The inputs the page marks as wrong; None when it refused without saying which (or did not refuse)."""
    if response.status_code in REDIRECTS or response.mimetype != "text/html":
        return None
    body = response.get_data(as_text=True)
    ids = set(_ERROR_LINK.findall(body[body.find("govuk-error-summary"):])) if "govuk-error-summary" in body else set()
    ids |= set(_ERROR_MESSAGE.findall(body))
    if not ids:
        return None
    return {name for name in inputs if any(found == name or found.startswith(f"{name}-") for found in ids)}


def _replace(pairs: list[tuple[str, str]], name: str, values) -> list[tuple[str, str]]:
    """`pairs` with `name`'s values replaced by `values`, where the first of them was."""
    result, placed = [], False
    for key, value in pairs:
        if key != name:
            result.append((key, value))
        elif not placed:
            result.extend((name, new) for new in values)
            placed = True
    if not placed:
        result.extend((name, new) for new in values)
    return result


def _date(day: dt.date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def _plausible(form: Form, name: str, kind: str, attempt: int) -> list[str] | None:
    if kind == "date":
        options = [_date(day) for day in PLAUSIBLE_DATES]
    elif kind in {"select", "radio"}:
        options = [[value] for value in form.choices(name) if value]
    elif kind == "checkbox":
        options = [[value] for value in form.choices(name) if value][:1] + [[]]
    elif kind in {"text", "textarea"}:
        options = [[value] for value in PLAUSIBLE_TEXT]
    else:
        return None
    return options[attempt] if attempt < len(options) else None


def fill(sweep: Sweep, form: Form, where: str) -> list[tuple[str, str]]:
    """The form as shown, then with plausible values in each field the page refuses, until it is accepted
    or nothing more helps: the base the hostile values are put into."""
    inputs = form.inputs()
    pairs = form.baseline()
    for name, kind in inputs.items():  # a browser would send a select's first option; pick a real one
        if kind == "select" and all(value == "" for key, value in pairs if key == name):
            options = [value for value in form.choices(name) if value]
            if options:
                pairs = _replace(pairs, name, options[:1])
    for attempt in range(5):
        response = sweep.submit(form, pairs, f"{where} filled in (attempt {attempt + 1})")
        refused = refused_fields(response, inputs)
        if not refused:
            break
        changed = False
        for name in refused:
            values = _plausible(form, name, inputs[name], attempt)
            if values is not None:
                pairs, changed = _replace(pairs, name, values), True
        if not changed:
            break
    return pairs


def _hostile(form: Form, name: str, kind: str, number: int) -> tuple[str, list[str]]:
    """The `number`-th hostile value for an input of this kind, and how to name it in a report."""
    if kind == "date":
        values = list(DATES[number % len(DATES)])
    elif kind in {"select", "radio", "checkbox"}:
        values = CHOICE[number % len(CHOICE)]
        valid = [value for value in form.choices(name) if value][:1]
        if values == "blank and a choice":
            values = ["", *valid]
        elif values == "a choice twice":
            values = valid * 2
    elif kind == "password":
        values = [TEXT[number % len(TEXT)]]
    else:
        values = [TEXT[number % len(TEXT)]]
    return ", ".join(repr(v) if len(v) < 40 else f"{v[:8]!r}… ({len(v):,} characters)" for v in values), values


def sweep_form(sweep: Sweep, form: Form) -> int:
    """Every hostile variant of `form`: first in every field at once, then again in only the fields that
    accepted it (the others as filled in), so the services see it too. Returns the number of inputs."""
    inputs = form.inputs()
    where = f"{form.method.upper()} {form.action} (form on {form.page})"
    filled = fill(sweep, form, where)
    for number in range(max(len(TEXT), len(CHOICE), len(DATES))):
        pairs, shown = filled, {}
        for name, kind in inputs.items():
            shown[name], values = _hostile(form, name, kind, number)
            pairs = _replace(pairs, name, values)
        label = f"{where} with " + "; ".join(f"{name}={value}" for name, value in shown.items())
        response = sweep.submit(form, pairs, label)
        refused = refused_fields(response, inputs)
        if refused is None:
            continue
        for name, kind in inputs.items():
            if kind == "text" and name not in refused and "\r\n" in shown[name]:
                sweep.report((where, name, "break"), f"{where}: {name} accepted a line break (a single-line field)")
        accepted = [name for name in inputs if name not in refused]
        if refused and accepted:
            pairs = filled
            for name in accepted:
                pairs = _replace(pairs, name, _hostile(form, name, inputs[name], number)[1])
            sweep.submit(form, pairs, f"{where} with only the accepted values of: " +
                         "; ".join(f"{name}={shown[name]}" for name in accepted))
    pairs = filled
    for name, kind in inputs.items():
        pairs = _replace(pairs, name, [ONE_MEGABYTE] * (3 if kind == "date" else 1))
    sweep.submit(form, pairs, f"{where} with 1 MB in every field")
    return len(inputs)


def sweep_get_form(sweep: Sweep, form: Form) -> int:
    """A search or filter form: each hostile value in one field at a time (they are few and small)."""
    inputs = form.inputs()
    where = f"GET {form.action} (form on {form.page})"
    baseline = form.baseline()
    for name, kind in inputs.items():
        for number in range(len(TEXT) if kind not in {"select", "radio", "checkbox", "date"} else len(CHOICE)):
            shown, values = _hostile(form, name, kind, number)
            sweep.submit(form, _replace(baseline, name, values), f"{where} with {name}={shown}")
    return len(inputs)


def sweep_links(sweep: Sweep, found: Crawl) -> int:
    """Hostile values in every query parameter the role's links carry; the number of parameters."""
    swept = 0
    for path, names in sorted(found.query_names.items()):
        for name in sorted(names):
            swept += 1
            for value in QUERY:
                response = sweep.client.get(path, query_string=encode([(name, value)]))
                sweep.look(response, f"GET {path}?{name}={value!r}")
    return swept


def blind_posts(sweep: Sweep, site: Site, found: Crawl, posted: set[str]) -> list[str]:
    """A post with hostile junk (and a valid CSRF token) to every POST route no form of this role sent to,
    with URL parts filled from the ids the crawl saw. Returns the endpoints posted to."""
    token = csrf_token(sweep.client, "/sign-in" if ROLES[sweep.role] is None else "/account/password")
    done = []
    for rule in site.rules():
        if "POST" not in rule.methods or rule.endpoint in posted or rule.endpoint in NOT_CRAWLED:
            continue
        url = url_for_rule(rule, found)
        done.append(rule.endpoint)
        form = Form(page="(no form)", action=url, method="post", multipart=False, controls=[])
        sweep.submit(form, [("csrf_token", token), ("name", NUL), ("id", "2147483648"), ("text", SCRIPT)],
                     f"POST {url} (no form of {sweep.role} sends here) with junk")
    return done


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.mark.parametrize("role", list(ROLES))
def test_no_form_answers_500_echoes_a_script_or_half_saves_for_hostile_input(role, make_app, engine, fixed_clock):
    app = make_app(WTF_CSRF_ENABLED=True)
    load_world(app)
    client = app.test_client()
    sign_in(client, role)
    site = Site(app)
    sweep = Sweep(app, client, role, Snapshot(engine))
    # Nobody signed in also follows the links people are sent by e-mail (references, invitations, resets).
    start = [*START, *emailed_links(app)] if ROLES[role] is None else START
    found = crawl(site, client, role, sweep.problems, check=sweep.look, start=start)

    fields = 0
    posted: set[str] = set()
    for form in found.forms:
        if not form.inputs():
            continue  # only buttons: nothing to type into (the id sweep covers its URL)
        fields += sweep_form(sweep, form) if form.method == "post" else sweep_get_form(sweep, form)
        matched = site.match(form.action, form.method.upper())
        if matched and form.method == "post":
            posted.add(matched[0])
    parameters = sweep_links(sweep, found)
    blind = blind_posts(sweep, site, found, posted)
    for url in list(found.pages):  # every page again, now showing whatever was accepted
        sweep.look(client.get(url), f"GET {url} after the sweep")

    swept_forms = sum(1 for form in found.forms if form.inputs())
    print(f"\n{role}: {len(found.pages)} pages, {swept_forms} forms with {fields} fields, "
          f"{parameters} query parameters, {len(blind)} POST routes without a form, {sweep.requests} submissions "
          f"({sweep.accepted} accepted)")
    assert swept_forms >= MINIMUM_FORMS[role], f"{role}: only {swept_forms} forms found; is the crawl broken?"
    assert not sweep.problems, "\n".join(sweep.problems)

"""What the bad-input and id sweeps share: the demo world, signing in as each role, a crawler that
reads every page a role can reach from its home page (following links, redirects and form actions),
the forms found on those pages, and a fingerprint of the database.

The route list (the app's URL map) decides what must be covered; the crawl supplies real ids and the
fields each form really has, so neither sweep keeps a hand-written list of pages or fields.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urlsplit

from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, text
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import AnyConverter, IntegerConverter, RequestRedirect, Rule
from werkzeug.test import TestResponse

from portal import demo
from portal.core import account_services
from portal.core.accounts import Role, find_user_by_email
from portal.core.db import Base
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.volunteers.models import Application
from portal.volunteers.references import services as reference_services
from portal.volunteers.references.models import Reference
from portal.volunteers.references.permissions import REQUESTABLE_STATUSES

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
# The demo's accounts, one per role (and per stage of an application, as each stage has its own forms).
# "anonymous" is nobody signed in: sign-in, sign-up, forgotten password.
ROLES = {
    "anonymous": None,
    "applicant": "applicant@example.org",  # no application yet
    "applicant with a draft": "applicant01@example.org",
    "applicant shortlisted": "applicant09@example.org",  # chooses an interview time
    "volunteer": "volunteer@example.org",
    "trainer": "trainer@example.org",
    "coordinator": "coordinator@example.org",
    "admin": "admin@example.org",
}
# Where a role's crawl starts: its home (reached through "/") and the public pages.
START = ("/", "/volunteering/", "/sign-in", "/forgotten-password", "/volunteering/account")
# Distinct URLs read per page (other ids, other query strings): enough for real ids and variety.
PER_ENDPOINT = 3
_EMAILED_LINK = re.compile(r"http://localhost(/[^\s<>\"')]*)")
# Never followed or posted by a crawl: signing out would end the role's session, and static files
# have no input.
NOT_CRAWLED = {"auth.logout", "static"}
# Written by reading pages, so left out of "nothing saved": views of restricted details are audited, and
# a signed-in session records when it was last used (the idle timeout).
WRITTEN_BY_READING = {"audit_entries", "sign_in_sessions"}


def load_world(app: Flask, *, case_count: int = 12) -> None:
    """The demo data (every role's account and a realistic amount of everything they work on), and the
    e-mails whose links lead to forms without signing in: a password reset, an invitation, a sign-up
    confirmation and two reference requests."""
    with app.app_context():
        demo.load(db.session, environment="development", now=NOW, case_count=case_count)
        _send_links(app, db.session)
        db.session.commit()


def _send_links(app: Flask, session) -> None:
    admin = find_user_by_email(session, "admin@example.org")
    coordinator = find_user_by_email(session, "coordinator@example.org")
    with app.test_request_context(base_url="http://localhost"):
        def link(endpoint):
            return lambda raw: url_for(endpoint, token=raw, _external=True)

        shared = {"service_name": "RJ portal", "lifetime": dt.timedelta(days=7), "now": NOW}
        account_services.request_password_reset(session, "volunteer01@example.org", link=link("auth.reset_password"),
                                                **shared)
        account_services.invite_user(session, email="invited@example.org", name="Invited Person",
                                     roles=[Role.VOLUNTEER], actor=admin, link=link("auth.accept_invitation"), **shared)
        account_services.sign_up_applicant(
            session, email="new.applicant@example.org", name="New Applicant", confirm_link=link("auth.confirm_sign_up"),
            sign_in_link=url_for("auth.login", _external=True),
            reset_link=url_for("auth.forgotten_password", _external=True), **shared,
        )
        prefix = url_for("volunteers.reference_form", token="T", _external=True)[:-1]
    asked = select(Reference.application_id)
    application = session.scalar(select(Application).where(
        Application.status.in_(REQUESTABLE_STATUSES), Application.id.not_in(asked)).order_by(Application.id))
    reference_services.request_references(session, application.id, link_prefix=prefix, actor=coordinator, now=NOW)


def emailed_links(app: Flask) -> list[str]:
    """Every link to the portal in the e-mails sent so far, as a path."""
    with app.app_context():
        bodies = db.session.scalars(select(OutboxMessage.text_body).order_by(OutboxMessage.id))
        return sorted({path for body in bodies for path in _EMAILED_LINK.findall(body or "")})


def sign_in(client: FlaskClient, role: str) -> None:
    email = ROLES[role]
    if email is None:
        return
    response = client.post("/sign-in", data={"email": email, "password": demo.DEMO_PASSWORD,
                                             "csrf_token": csrf_token(client, "/sign-in")})
    assert response.status_code == 302, f"the sweep could not sign in as the demo {role}"


def csrf_token(client: FlaskClient, path: str) -> str:
    for form in parse_forms(client.get(path).get_data(as_text=True), path):
        for control in form.controls:
            if control.name == "csrf_token":
                return control.value
    return ""


# ---------------------------------------------------------------------------------------------
# Forms as the browser sees them


@dataclass
class Control:
    name: str
    kind: str  # text, textarea, select, radio, checkbox, hidden, password, file, submit
    value: str = ""
    options: list[str] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)
    checked: bool = False
    multiple: bool = False


@dataclass
class Form:
    page: str
    action: str
    method: str
    multipart: bool
    controls: list[Control]

    def baseline(self) -> list[tuple[str, str]]:
        """What a browser sends when the form is submitted as shown (the first option or radio when none
        is chosen, so the other fields are as valid as the page makes them)."""
        pairs: list[tuple[str, str]] = []
        radios_done: set[str] = set()
        submitted = False
        for control in self.controls:
            if control.kind in {"file"}:
                continue
            if control.kind == "submit":
                if not submitted and control.name:
                    pairs.append((control.name, control.value))
                submitted = True
            elif control.kind == "select":
                chosen = control.selected or control.options[:1]
                pairs.extend((control.name, value) for value in (chosen if control.multiple else chosen[:1]))
            elif control.kind == "radio":
                if control.name in radios_done:
                    continue
                radios_done.add(control.name)
                group = [c for c in self.controls if c.kind == "radio" and c.name == control.name]
                chosen = next((c for c in group if c.checked), group[0])
                pairs.append((control.name, chosen.value))
            elif control.kind == "checkbox":
                if control.checked:
                    pairs.append((control.name, control.value or "on"))
            else:
                pairs.append((control.name, control.value))
        return pairs

    def inputs(self) -> dict[str, str]:
        """Each name someone can change, with its kind ("date" for the three boxes of a date)."""
        kinds: dict[str, list[str]] = defaultdict(list)
        for control in self.controls:
            if control.name and control.name != "csrf_token" and control.kind not in {"submit", "file"}:
                kinds[control.name].append(control.kind)
        return {name: "date" if found == ["text"] * 3 else found[0] for name, found in kinds.items()}

    def choices(self, name: str) -> list[str]:
        values: list[str] = []
        for control in self.controls:
            if control.name == name:
                values.extend(control.options if control.kind == "select" else [control.value])
        return values


class _FormParser(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: Control | None = None
        self._option: str | None = None
        self._option_selected = False
        self._textarea: Control | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {key: value or "" for key, value in attrs}
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag == "form":
            self._form = Form(
                page=self.page, action=attributes.get("action") or self.page,
                method=(attributes.get("method") or "get").lower(),
                multipart="multipart" in attributes.get("enctype", ""), controls=[],
            )
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            kind = attributes.get("type", "text").lower()
            if kind in {"checkbox", "radio", "hidden", "password", "file", "submit"}:
                pass
            elif kind in {"button", "reset", "image"}:
                return
            else:
                kind = "text"
            self._form.controls.append(Control(
                name=attributes.get("name", ""), kind=kind, value=attributes.get("value", ""),
                checked="checked" in attributes,
            ))
        elif tag == "button":
            if attributes.get("type", "submit").lower() == "submit":
                self._form.controls.append(Control(attributes.get("name", ""), "submit", attributes.get("value", "")))
        elif tag == "textarea":
            self._textarea = Control(attributes.get("name", ""), "textarea")
            self._form.controls.append(self._textarea)
        elif tag == "select":
            self._select = Control(attributes.get("name", ""), "select", multiple="multiple" in attributes)
            self._form.controls.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = attributes.get("value")
            self._option_selected = "selected" in attributes
            if self._option is not None:
                self._add_option(self._option)

    def _add_option(self, value: str) -> None:
        self._select.options.append(value)
        if self._option_selected:
            self._select.selected.append(value)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data
        elif self._select is not None and self._option is None and data.strip():
            self._option = data.strip()
            self._add_option(self._option)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            if self._textarea is not None and self._textarea.value.startswith("\n"):
                self._textarea.value = self._textarea.value[1:]
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None


def parse_forms(html: str, page: str) -> list[Form]:
    parser = _FormParser(page)
    parser.feed(html)
    return parser.forms


def parse_page(html: str, page: str) -> tuple[list[Form], list[str]]:
    parser = _FormParser(page)
    parser.feed(html)
    return parser.forms, parser.links


# ---------------------------------------------------------------------------------------------
# The crawl


def local(url: str, base: str = "/") -> str | None:
    """`url` as a path with its query, if it is a page of this site; None otherwise."""
    parts = urlsplit(url)
    if parts.scheme and parts.scheme not in {"http", "https"}:
        return None
    if parts.netloc and parts.netloc != "localhost":
        return None
    path = parts.path
    if not path:
        path = urlsplit(base).path
    elif not path.startswith("/"):
        path = base.rsplit("/", 1)[0] + "/" + path
    return path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Crawl:
    """What one role can reach: pages read, forms found, links' query parameters, ids per URL part."""

    role: str
    pages: dict[str, int] = field(default_factory=dict)  # url -> status
    forms: list[Form] = field(default_factory=list)
    endpoints: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))  # endpoint -> view args
    query_names: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # url path -> names
    values: dict[str, set] = field(default_factory=lambda: defaultdict(set))  # URL part name -> values seen


class Site:
    """The app's URL map, to name the endpoint behind a URL."""

    def __init__(self, app: Flask):
        self.app = app
        self.adapter = app.url_map.bind("localhost")

    def match(self, url: str, method: str = "GET") -> tuple[str, dict] | None:
        parts = urlsplit(url)
        try:
            return self.adapter.match(parts.path, method=method)
        except (NotFound, MethodNotAllowed, RequestRedirect):
            return None

    def rules(self):
        return sorted(self.app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))


def crawl(site: Site, client: FlaskClient, role: str, problems: list[str], *, per_endpoint: int = PER_ENDPOINT,
          check=None, start: tuple[str, ...] | list[str] = START) -> Crawl:
    """Read every page `role` reaches from START, at most `per_endpoint` URLs per endpoint and words in its URL."""
    found = Crawl(role)
    queue = deque(start)
    seen: set[str] = set(start)
    read_per_endpoint: dict[tuple, int] = defaultdict(int)
    form_keys: set[tuple] = set()
    while queue:
        url = queue.popleft()
        matched = site.match(url)
        if matched is None:
            continue
        endpoint, args = matched
        # A word in the URL (an application section, a kind of check) is a different page; an id is not.
        page = (endpoint, tuple(sorted((name, value) for name, value in args.items() if isinstance(value, str))))
        if endpoint in NOT_CRAWLED or read_per_endpoint[page] >= per_endpoint:
            continue
        read_per_endpoint[page] += 1
        response = client.get(url)
        found.pages[url] = response.status_code
        if check is not None:
            check(response, f"GET {url}")
        if response.status_code >= 500:
            problems.append(f"{role}: GET {url} answered {response.status_code}")
        found.endpoints[endpoint].append(args)
        for name, value in args.items():
            found.values[name].add(value)
        targets: list[str] = []
        if response.status_code in (301, 302, 303, 307, 308):
            targets.append(response.headers["Location"])
        elif response.mimetype == "text/html":
            forms, links = parse_page(response.get_data(as_text=True), url)
            targets.extend(links)
            for form in forms:
                action = local(form.action, url)
                if action is None:
                    continue
                form.action = action
                key = (form.method, (site.match(action, form.method.upper()) or ("?",))[0],
                       tuple(sorted(form.inputs())))
                if key not in form_keys:
                    form_keys.add(key)
                    found.forms.append(form)
                if form.method == "get":
                    targets.append(action)
        for target in targets:
            path = local(target, url)
            if path is None:
                continue
            parts = urlsplit(path)
            for name, _ in parse_qsl(parts.query, keep_blank_values=True):
                found.query_names[parts.path].add(name)
            if path not in seen:
                seen.add(path)
                queue.append(path)
    return found


def url_for_rule(rule: Rule, found: Crawl, **override) -> str:
    """A URL for `rule`: the view arguments of a page of it the crawl read, else ids the crawl saw under the
    same name elsewhere (1 or "x" when none), with `override` on top."""
    seen = found.endpoints.get(rule.endpoint)
    values = dict(seen[0]) if seen else {}
    for name, converter in rule._converters.items():
        if name in values:
            continue
        known = sorted(found.values.get(name, ()), key=str)
        if known:
            values[name] = known[0]
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = 1 if isinstance(converter, IntegerConverter) else "x"
    values.update(override)
    return rule.build(values, append_unknown=False)[1]


# ---------------------------------------------------------------------------------------------
# Sending values, including ones no browser would encode


class Raw(str):
    """A value sent exactly as written, already percent-encoded (for invalid UTF-8)."""


def encode(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(name, safe='')}={value if isinstance(value, Raw) else quote(value, safe='')}"
                    for name, value in pairs)


def send(client: FlaskClient, method: str, url: str, pairs: list[tuple[str, str]], *, multipart: bool = False
         ) -> TestResponse:
    if method == "get":
        path = urlsplit(url).path
        return client.get(path, query_string=encode(pairs))
    if multipart:
        plain = MultiDict([(name, str(value)) for name, value in pairs])
        return client.post(url, data=plain, content_type="multipart/form-data")
    return client.post(url, data=encode(pairs), content_type="application/x-www-form-urlencoded")


# ---------------------------------------------------------------------------------------------
# The database


class Snapshot:
    """A fingerprint of every table, in one statement, to see whether a refused request saved anything:
    on PostgreSQL a digest of each table's rows (so a changed row shows too), on SQLite its row count."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.tables = [table.name for table in Base.metadata.sorted_tables if table.name not in WRITTEN_BY_READING]
        if engine.dialect.name == "postgresql":
            each = "(SELECT md5(coalesce(string_agg(md5(row::text), '' ORDER BY md5(row::text)), '')) FROM \"{}\" row)"
        else:
            each = '(SELECT count(*) FROM "{}")'
        self.statement = text("SELECT " + ", ".join(each.format(name) for name in self.tables))

    def __call__(self) -> dict[str, object]:
        with self.engine.connect() as connection:
            row = connection.execute(self.statement).one()
        return dict(zip(self.tables, row, strict=True))

    @staticmethod
    def changed(before: dict[str, object], after: dict[str, object]) -> list[str]:
        return [name for name in before if before[name] != after[name]]

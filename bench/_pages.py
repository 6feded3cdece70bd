"""Page helpers for the bench scripts: the app on the bench database, a test client signed in through
the sign-in form, and a page's figures against the page targets (p95 server time, SQL statements and
HTML size). Server time only: everything runs in this process (no network)."""

from __future__ import annotations

from dataclasses import dataclass

from _timing import TARGET_MS, Timing, counting_statements, measure
from sqlalchemy.engine import Engine

from portal.config import TestConfig
from portal.factory import create_app

STATEMENT_TARGET = 30
HTML_TARGET_KB = 300
PASSWORD = "bench-password-kettle-42"


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def bench_app(url: str, **config):
    """The portal on the bench database, its per-account sign-in limit raised for the repeated sign-ins."""
    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, LOGIN_LIMIT_PER_ACCOUNT="1000 per minute", **config)


def signed_in(app, email: str, password: str = PASSWORD):
    """A test client signed in as `email` through the sign-in form."""
    client = app.test_client()
    response = client.post("/sign-in", data={"email": email, "password": password})
    if response.status_code != 302:
        raise SystemExit(f"could not sign in as {email} ({response.status_code})")
    return client


def expect_ok(response) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{response.request.path} answered {response.status_code}")


def statements_and_kb(client, engine: Engine, path: str) -> tuple[int, float]:
    """One more call of the page: the SQL statements it ran on `engine` and its size in KB."""
    with counting_statements(engine) as counted:
        response = client.get(path)
    return counted.count, len(response.data) / 1024


@dataclass(frozen=True)
class PageFigures:
    """A page's time (p95 against its target), SQL statements and HTML size against their targets."""

    timing: Timing
    statements: int
    html_kb: float

    @property
    def name(self) -> str:
        return self.timing.name

    @property
    def passed(self) -> bool:
        return self.timing.passed and self.statements <= STATEMENT_TARGET and self.html_kb <= HTML_TARGET_KB

    def line(self) -> str:
        """The statements and size, printed under the timing's line."""
        return (f"    {self.statements} statements (target {STATEMENT_TARGET})"
                f" {verdict(self.statements <= STATEMENT_TARGET)},"
                f" {self.html_kb:.1f} KB of HTML (target {HTML_TARGET_KB} KB)"
                f" {verdict(self.html_kb <= HTML_TARGET_KB)}")


def time_page(client, engine: Engine, name: str, path: str, *, runs: int, warmup: int = 2) -> PageFigures:
    """Time GET `path` (`warmup` calls, then `runs` timed, each answering 200) against TARGET_MS, then
    count its statements and measure its HTML on one more call; print and return the figures."""
    timing = measure(name, lambda: client.get(path), check=expect_ok, runs=runs, warmup=warmup, target_ms=TARGET_MS)
    figures = PageFigures(timing, *statements_and_kb(client, engine, path))
    print(figures.line(), flush=True)
    return figures


def summary(pages: list[PageFigures]) -> str:
    """How many pages met each target."""
    return (f"{sum(figures.timing.passed for figures in pages)} of {len(pages)} within {TARGET_MS:.0f} ms p95,"
            f" {sum(figures.statements <= STATEMENT_TARGET for figures in pages)} within {STATEMENT_TARGET}"
            f" statements, {sum(figures.html_kb <= HTML_TARGET_KB for figures in pages)} within {HTML_TARGET_KB} KB")

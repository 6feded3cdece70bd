"""Browser fixtures: the app on a live local server, and Chromium driven through Playwright.

Chromium comes from the system (Debian's package at /usr/bin/chromium, or `chromium` on PATH); the
tests skip, with the reason printed, when it is missing, unless PORTAL_REQUIRE_BROWSER=1 (CI), where a
missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return str(CHROMIUM)
    return shutil.which("chromium")


def _closing(app):
    """WSGI middleware that always closes the response, even when the browser hangs up half-way.

    Werkzeug's development server leaves a response's file open when the client disconnects during
    the write (a page navigated away from while its favicon was still being sent); the open file then
    surfaces as a ResourceWarning in whichever test happens to run the garbage collector.
    """

    def closing_app(environ, start_response):
        body = app(environ, start_response)
        try:
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()

    return closing_app


@contextmanager
def serve(app) -> Iterator[str]:
    """Serve `app` over real HTTP on a free local port; yields the base URL (no trailing /)."""
    server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def live_server(make_app) -> Iterator[str]:
    """The portal served over real HTTP on a free local port; yields the base URL (no trailing /).

    CSRF protection is switched back on: a real browser submits the real forms with their tokens.
    """
    with serve(make_app(WTF_CSRF_ENABLED=True)) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = find_chromium()
    if executable is None:
        reason = (
            "Chromium is not installed (looked for /usr/bin/chromium and `chromium` on PATH); "
            "install it (Debian: apt-get install chromium) to run the browser tests"
        )
        if os.environ.get("PORTAL_REQUIRE_BROWSER") == "1":
            pytest.fail(f"PORTAL_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser: Browser, live_server: str) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context aimed at the live server; options go to new_context.

    Contexts bypass the site's Content Security Policy so that axe-core can be injected; the pages
    themselves never rely on inline script. Every context is closed before the server stops.
    """
    contexts: list[BrowserContext] = []

    def open_page(**options) -> Page:
        context = browser.new_context(base_url=live_server, bypass_csp=True, **options)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()

"""Bench throughput: requests per second through gunicorn (2 workers) for a bare Flask "hello" route,
the sign-in page, the coordinator home and the volunteer home, the ratios of the pages to hello, and
the workers' memory (RSS) after the run.

    .venv/bin/python bench/throughput.py               # the demo data (database bench_demo)
    .venv/bin/python bench/throughput.py --national    # the page bench's national-size database
    .venv/bin/python bench/throughput.py --seconds 20 --connections 8

Targets (issue 15): the volunteer home at least 0.10 and the coordinator home at least 0.05 of the
hello route's rate, each worker at most 200 MB after the run; the sign-in page's ratio is printed.

The portal is served as in production (`gunicorn -c gunicorn.conf.py app:app`, PORTAL_ENV=production,
a random secret key, plain HTTP on a free local port) with the sign-in rate limits raised through
their PORTAL_LOGIN_LIMIT_* settings, which only count failed sign-ins anyway. The hello app
(bench/_hello.py) is served the same way beside it and called before and after the portal's
pages (the ratios use the mean of the two, as a shared machine's load drifts). Each figure is a fixed number
of concurrent client connections (threads with http.client, keep-alive where the server allows it)
calling one URL for a fixed time; requests still running at the end are not counted. Signed-in
pages use one session per connection, signed in once through the real sign-in form with its CSRF
token. Client and server share the machine, as they did when the issue measured.

The database: --database URL, else with --national the page bench's database (PORTAL_BENCH_DATABASE_URL,
default bench_pages; load it with bench/pages.py first), else PostgreSQL database bench_demo, created
and given the demo data (`flask demo load`'s loader, on tables made from the models) when missing.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from _database import prepare_schema
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from portal import demo
from portal.config import TestConfig
from portal.core import clock, settings
from portal.extensions import db
from portal.factory import create_app

ROOT = Path(__file__).resolve().parent.parent
DEMO_URL = "postgresql+psycopg://root@127.0.0.1:5432/bench_demo"
NATIONAL_URL = os.environ.get("PORTAL_BENCH_DATABASE_URL", "postgresql+psycopg://root@127.0.0.1:5432/bench_pages")
NATIONAL_MARKER = "bench.pages_loaded"
COOKIE = "portal_session"
COORDINATOR = "coordinator@example.org"
VOLUNTEER = "volunteer@example.org"
RATIO_TARGETS = {"coordinator home": 0.05, "volunteer home": 0.10}
RSS_TARGET_MB = 200
UNLIMITED = "1000000 per minute"


def prepare_demo(url: str) -> None:
    """Create the demo database with the demo data if it is not there yet."""
    prepare_schema(url, reset=False).dispose()
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        if settings.get_setting(db.session, settings.DEMO_DATABASE):
            return
        print("Loading the demo data (once)", flush=True)
        begun = time.perf_counter()
        demo.load(db.session, environment="development", now=clock.now(),
                  receipts_dir=str(Path(tempfile.gettempdir()) / "bench-demo-receipts"))
        db.session.commit()
        print(f"Loaded in {time.perf_counter() - begun:.0f} s", flush=True)


def check_national(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            loaded = connection.scalar(text("SELECT value FROM settings WHERE key = :k"), {"k": NATIONAL_MARKER})
    except ProgrammingError:
        loaded = None
    finally:
        engine.dispose()
    if loaded is None:
        raise SystemExit(f"{url} holds no page bench data: run bench/pages.py first")
    print(f"National database: {loaded}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int

    def worker_rss_mb(self) -> list[float]:
        """VmRSS of each worker (the gunicorn master's children), in MB."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        sizes = []
        for child in children:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sizes

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve(app_spec: str, directory: Path, env: dict[str, str], workers: int, port: int, ready_path: str) -> Server:
    """Start gunicorn with the project's gunicorn.conf.py on `port` and wait until `ready_path` answers."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "-c", str(ROOT / "gunicorn.conf.py"), "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--chdir", str(directory), "--log-level", "warning", app_spec],
        env=env, stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn {app_spec} stopped with status {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", ready_path)
            connection.getresponse().read()
            connection.close()
            return Server(process, port)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn {app_spec} did not answer within 60 s")


def _cookie(response: http.client.HTTPResponse, current: str | None) -> str | None:
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return f"{COOKIE}={jar[COOKIE].value}" if COOKIE in jar else current


def sign_in(port: int, email: str) -> str:
    """Sign in through the real form (GET for the CSRF token and cookie, then POST); the session cookie."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/sign-in")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = _cookie(response, None)
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page)
    token = re.search(r'value="([^"]+)"', tag.group(0)) if tag else None
    if token is None or cookie is None:
        raise SystemExit("The sign-in page gave no CSRF token or session cookie")
    body = urlencode({"csrf_token": token.group(1), "email": email, "password": demo.DEMO_PASSWORD})
    connection.request("POST", "/sign-in", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 302:
        raise SystemExit(f"Signing in as {email} answered {response.status}")
    return _cookie(response, cookie)


@dataclass(frozen=True)
class Rate:
    name: str
    completed: int
    errors: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.completed / self.seconds


def hammer(name: str, port: int, path: str, cookies: list[str | None], seconds: float) -> Rate:
    """One thread per cookie (connection) calling `path` until `seconds` have passed; completed 200s
    before the end are counted, other answers are errors."""
    completed, errors = [0] * len(cookies), [0] * len(cookies)
    start = threading.Barrier(len(cookies) + 1)
    deadline = [0.0]

    def client(number: int, cookie: str | None) -> None:
        headers = {"Cookie": cookie} if cookie else {}
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds + 30)
        start.wait()
        while time.monotonic() < deadline[0]:
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                errors[number] += 1
                continue
            if time.monotonic() > deadline[0]:
                break
            if response.status == 200:
                completed[number] += 1
            else:
                errors[number] += 1
            if response.will_close:
                connection.close()
        connection.close()

    threads = [threading.Thread(target=client, args=(number, cookie), daemon=True)
               for number, cookie in enumerate(cookies)]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds
    start.wait()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    rate = Rate(name, sum(completed), sum(errors), seconds)
    print(f"  {name:<17} {rate.per_second:9.1f} requests/s ({rate.completed:,} in {seconds:.0f} s"
          f"{f', {rate.errors} errors' if rate.errors else ''})", flush=True)
    return rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--national", action="store_true", help="use the page bench's national-size database")
    parser.add_argument("--database", help="any portal database URL (overrides the choice above)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each URL is called")
    parser.add_argument("--connections", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args(argv)
    url = args.database or (NATIONAL_URL if args.national else DEMO_URL)
    if args.database is None and args.national:
        check_national(url)
    elif args.database is None:
        prepare_demo(url)
    print(f"gunicorn with {args.workers} workers; {args.connections} connections for {args.seconds:.0f} s per URL;"
          f" database {url.rsplit('/', 1)[-1]}", flush=True)

    port = free_port()
    port_env = dict(os.environ, PORTAL_ENV="production", PORTAL_BASE_URL=f"http://127.0.0.1:{port}",
                    PORTAL_SECRET_KEY=secrets.token_urlsafe(32), PORTAL_DATABASE_URL=url,
                    PORTAL_SECURE_COOKIES="0",
                    PORTAL_LOGIN_LIMIT_PER_ACCOUNT=UNLIMITED, PORTAL_LOGIN_LIMIT_PER_ADDRESS=UNLIMITED,
                    PORTAL_LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS=UNLIMITED)
    hello = serve("_hello:app", ROOT / "bench", dict(os.environ), args.workers, free_port(), "/")
    try:
        portal = serve("app:app", ROOT, port_env, args.workers, port, "/sign-in")
        try:
            coordinators = [sign_in(portal.port, COORDINATOR) for _ in range(args.connections)]
            volunteers = [sign_in(portal.port, VOLUNTEER) for _ in range(args.connections)]
            # Hello before and after the pages: a shared machine's load drifts during a run.
            before = hammer("hello", hello.port, "/", [None] * args.connections, args.seconds)
            rates = [
                hammer("sign-in page", portal.port, "/sign-in", [None] * args.connections, args.seconds),
                hammer("coordinator home", portal.port, "/coordinator", coordinators, args.seconds),
                hammer("volunteer home", portal.port, "/volunteer", volunteers, args.seconds),
            ]
            after = hammer("hello (again)", hello.port, "/", [None] * args.connections, args.seconds)
            rss = portal.worker_rss_mb()
        finally:
            portal.stop()
    finally:
        hello.stop()
    hello_rate = Rate("hello", before.completed + after.completed, 0, before.seconds + after.seconds)

    print(f"\nRates against hello ({hello_rate.per_second:.1f} requests/s, the mean of both runs):")
    failed = []
    for rate in rates:
        ratio = rate.per_second / hello_rate.per_second if hello_rate.per_second else 0.0
        target = RATIO_TARGETS.get(rate.name)
        verdict = "" if target is None else f" (target >= {target:.2f}) {'PASS' if ratio >= target else 'FAIL'}"
        if target is not None and ratio < target:
            failed.append(rate.name)
        print(f"  {rate.name:<17} {ratio:6.3f} of hello{verdict}")
    largest = max(rss, default=0.0)
    print(f"Worker RSS after the run: {', '.join(f'{size:.0f} MB' for size in rss)}"
          f" (target <= {RSS_TARGET_MB} MB) {'PASS' if largest <= RSS_TARGET_MB else 'FAIL'}")
    if largest > RSS_TARGET_MB:
        failed.append("worker RSS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

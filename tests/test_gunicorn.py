"""The production server, run as the README says, does not name its software in the Server header."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.smtp import free_port

ROOT = Path(__file__).resolve().parent.parent


def _get(url: str, deadline: float):
    # Wait for the server by retrying the connection (gunicorn takes a moment to start its worker).
    while True:
        try:
            return urllib.request.urlopen(url, timeout=5)
        except urllib.error.HTTPError as answer:
            return answer
        except (TimeoutError, urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise


def test_gunicorn_does_not_disclose_the_server_software(tmp_path):
    port = free_port()
    env = {**os.environ, "PORTAL_ENV": "development", "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "app:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        with _get(f"http://127.0.0.1:{port}/no-such-page", time.monotonic() + 30) as response:
            assert response.status == 404
            assert response.headers.get_all("Server") == ["portal"]
    finally:
        server.terminate()
        server.wait(timeout=10)

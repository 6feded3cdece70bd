"""A web worker starts without the heavy libraries only some requests need (issue 15: a worker's memory).
Each is imported on first use; `DEFERRED_IMPORTS` in test_architecture.py names where and why."""

from __future__ import annotations

import subprocess
import sys

NOT_AT_START = ("pypdf",)


def test_creating_the_app_does_not_load_libraries_that_only_some_requests_need(tmp_path):
    code = (
        "import sys\n"
        "from portal.factory import create_app\n"
        f"create_app(SQLALCHEMY_DATABASE_URI='sqlite:///{tmp_path / 'start.db'}')\n"
        f"print(','.join(name for name in {NOT_AT_START!r} if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""

"""The set-up commands explain a missing tool in one line instead of failing obscurely."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def check_tools(**env) -> subprocess.CompletedProcess:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    return subprocess.run(
        [make, "--no-print-directory", "-s", "check-tools", *[f"{k}={v}" for k, v in env.items()]],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )


def test_missing_python_is_named_with_what_to_install():
    result = check_tools(PYTHON="/nonexistent/python3.11")
    assert result.returncode != 0
    assert "Python 3.11 is missing: install python3.11" in result.stdout


def test_wrong_python_version_is_named():
    other = shutil.which("sh")
    result = check_tools(PYTHON=other)
    assert result.returncode != 0
    assert "is not Python 3.11: install Python 3.11" in result.stdout


def test_missing_npm_is_named_with_what_to_install(tmp_path):
    python = Path(sys.executable).resolve()  # the real interpreter, not a pyenv shim
    (tmp_path / "python3.11").symlink_to(python)
    make = shutil.which("make")
    result = subprocess.run(
        [make, "-s", "check-tools", f"PYTHON={tmp_path / 'python3.11'}"],
        cwd=ROOT, capture_output=True, text=True, check=False,
        env={"PATH": f"{tmp_path}:/usr/bin/nonexistent", "HOME": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "npm is missing: install Node.js 20 with npm" in result.stdout

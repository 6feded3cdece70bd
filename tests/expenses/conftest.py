"""Expense test fixtures: a private receipts folder per test, and an app that keeps receipts there."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask


@pytest.fixture
def receipts_dir(tmp_path: Path) -> Path:
    return tmp_path / "receipts"


@pytest.fixture
def app(make_app, receipts_dir: Path) -> Flask:
    return make_app(EXPENSES_RECEIPT_DIR=str(receipts_dir))

"""Counting the SQL statements a page runs, for the tests that keep that number constant as data grows."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

from portal.extensions import db


def statements_of(app: Flask, request: Callable[[], TestResponse]) -> tuple[int, TestResponse]:
    """Call `request` (a client call) and return how many SQL statements it ran, with its response."""
    count = 0

    def counter(*_args, **_kwargs):
        nonlocal count
        count += 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            response = request()
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
    return count, response


def page_statements(app: Flask, client: FlaskClient, url: str) -> tuple[int, str]:
    """GET `url` (it must answer 200) and return how many SQL statements it ran, with the page's text."""
    count, response = statements_of(app, lambda: client.get(url))
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return count, response.get_data(as_text=True)

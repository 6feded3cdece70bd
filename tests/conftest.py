"""Fixtures: a real database (SQLite, or PostgreSQL from PORTAL_TEST_DATABASE_URL), a real SMTP
server, the Flask app and client, a plain SQLAlchemy session, and `login_as(role)`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

import portal.models  # noqa: F401  (every table on Base.metadata)
from portal.config import TestConfig
from portal.core.accounts import Role, User
from portal.core.db import Base
from portal.extensions import db, limiter
from portal.factory import create_app
from tests import builders
from tests.smtp import SMTPServer

POSTGRES_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal-test.db'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine
    Base.metadata.drop_all(engine)
    engine.dispose()


def _empty_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_database(engine: Engine) -> Iterator[None]:
    yield
    _empty_tables(engine)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A plain SQLAlchemy Session: no Flask anywhere (service and query tests)."""
    with Session(engine) as plain:
        yield plain


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server: SMTPServer) -> Iterator[SMTPServer]:
    """The real SMTP server the app sends to, with an empty inbox; restarted if a test stopped it."""
    smtp_server.inbox.messages.clear()
    if smtp_server._controller is None:
        smtp_server.start()
    yield smtp_server
    if smtp_server._controller is None:
        smtp_server.start()


@pytest.fixture
def make_app(database_url: str, smtp_server: SMTPServer) -> Iterator[Callable[..., Flask]]:
    """Build an app on the test database; keyword arguments override configuration keys."""
    built: list[Flask] = []

    def build(**overrides) -> Flask:
        settings = {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_server.port,
            **overrides,
        }
        app = create_app(TestConfig, **settings)
        with app.app_context():
            limiter.reset()
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login_as(app: Flask, client: FlaskClient) -> Callable[..., User]:
    """Create a person with the given role(s), sign them in through the sign-in page, return them."""

    def sign_in(*roles: Role, **overrides) -> User:
        with app.app_context():
            user = builders.make_user(db.session, roles=roles or (Role.VOLUNTEER,), **overrides)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
        response = client.post("/sign-in", data={"email": user.email, "password": builders.PASSWORD})
        assert response.status_code == 302, "sign-in failed in the login_as fixture"
        return user

    return sign_in

"""Migrations build exactly the schema the models describe, and go down and up again cleanly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from portal.config import TestConfig
from portal.extensions import db
from portal.factory import create_app


@pytest.fixture
def empty_database_url(database_url: str, tmp_path) -> Iterator[str]:
    """A brand-new empty database of the same kind as the test database."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"portal_migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_from_empty_matches_the_models_and_downgrades_to_base_and_back(empty_database_url):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        try:
            upgrade()
            with db.engine.connect() as connection:
                drift = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert drift == [], f"models and migrations differ: {drift}"

            downgrade(revision="base")
            leftover = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
            assert leftover == set()

            upgrade()
            assert "users" in inspect(db.engine).get_table_names()
        finally:
            db.session.remove()
            db.engine.dispose()

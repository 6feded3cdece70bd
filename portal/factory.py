"""The application factory: the one place where configuration, extensions and blueprints are wired."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

import portal.models  # noqa: F401  (puts every table on Base.metadata before anything uses it)
from portal import demo, web
from portal.config import Config
from portal.core import cli as core_cli
from portal.extensions import csrf, db, limiter, login_manager, mail, migrate
from portal.wiring import connect_handlers

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: type[Config] | Config = Config, **overrides) -> Flask:
    """Build the portal. `overrides` replace configuration keys (tests pass the database URL)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config)
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("PORTAL_SECRET_KEY must be set outside development")
    register_extensions(app)
    register_web(app)
    register_commands(app)
    connect_handlers()
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)


def register_web(app: Flask) -> None:
    web.register(app)


def register_commands(app: Flask) -> None:
    core_cli.register(app)
    demo.register(app)

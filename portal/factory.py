"""The application factory: the one place where configuration, extensions and blueprints are wired."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import portal.models  # noqa: F401  (puts every table on Base.metadata before anything uses it)
from portal import demo, web
from portal.config import MIN_SECRET_KEY_BITS, Config, secret_key_bits
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
    check_secret_key(app)
    if app.config.get("PROXY_COUNT"):
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    register_extensions(app)
    register_web(app)
    register_commands(app)
    connect_handlers()
    return app


def check_secret_key(app: Flask) -> None:
    """Refuse to start without a secret key, and outside development and tests without a strong one
    (32 random bytes)."""
    key = app.config.get("SECRET_KEY")
    if not key:
        raise RuntimeError("PORTAL_SECRET_KEY must be set outside development")
    if app.config.get("ENV_NAME") not in {"development", "test"} and secret_key_bits(str(key)) < MIN_SECRET_KEY_BITS:
        raise RuntimeError(
            "PORTAL_SECRET_KEY is too weak for production: use at least 32 random bytes, for example "
            "the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )


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

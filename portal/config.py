"""Configuration classes, read from PORTAL_* environment variables."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"PORTAL_{name}", default)


def _flag(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings for development and production; production refuses to start without a secret key."""

    ENV_NAME = _env("ENV", "development")
    DEVELOPMENT = ENV_NAME == "development"

    SECRET_KEY = _env("SECRET_KEY") or ("dev-only-secret-not-for-production" if DEVELOPMENT else None)
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE / 'portal.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Sessions: HttpOnly and SameSite always; Secure wherever the site is served over HTTPS.
    SESSION_COOKIE_NAME = "portal_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SECURE_COOKIES", not DEVELOPMENT)
    IDLE_TIMEOUT = timedelta(minutes=int(_env("IDLE_TIMEOUT_MINUTES", "30")))
    PERMANENT_SESSION_LIFETIME = IDLE_TIMEOUT
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session, which has its own timeout
    MAX_CONTENT_LENGTH = int(_env("MAX_UPLOAD_MB", "10")) * 1024 * 1024
    # Uploaded files live outside static/, served only through permission-checked routes.
    EXPENSES_RECEIPT_DIR = _env("RECEIPT_DIR", str(INSTANCE / "receipts"))
    COURSEWORK_UPLOAD_DIR = _env("COURSEWORK_DIR", str(INSTANCE / "uploads" / "coursework"))

    # Sign-in throttling (Flask-Limiter). Failed attempts only are counted.
    RATELIMIT_STORAGE_URI = _env("REDIS_URL") or "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    LOGIN_LIMIT_PER_ACCOUNT = _env("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = _env("LOGIN_LIMIT_PER_ADDRESS", "20 per 15 minutes")

    # Mail: development writes files to instance/mail; otherwise SMTP.
    MAIL_TRANSPORT = _env("MAIL_TRANSPORT", "files" if DEVELOPMENT else "smtp")
    MAIL_FILE_DIR = str(INSTANCE / "mail")
    MAIL_SERVER = _env("MAIL_SERVER", "localhost")
    MAIL_PORT = int(_env("MAIL_PORT", "25"))
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_USE_TLS = _flag("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _flag("MAIL_USE_SSL", False)
    MAIL_DEFAULT_SENDER = _env("MAIL_SENDER", "RJ Volunteer Portal <no-reply@rj-portal.invalid>")
    MAIL_SUPPRESS_SEND = False

    SERVICE_NAME = _env("SERVICE_NAME", "RJ Volunteer Portal")
    # Absolute base for links in e-mails (jobs run outside a request).
    BASE_URL = _env("BASE_URL", "http://127.0.0.1:5000")
    PASSWORD_RESET_HOURS = int(_env("PASSWORD_RESET_HOURS", "2"))
    INVITATION_DAYS = int(_env("INVITATION_DAYS", "7"))
    AUDIT_PAGE_SIZE = 50


class TestConfig(Config):
    """Settings for the test suite; the database URL is supplied by the fixtures."""

    TESTING = True
    ENV_NAME = "test"
    DEVELOPMENT = False
    SECRET_KEY = "test-secret"
    SESSION_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_TRANSPORT = "smtp"
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 8025
    BASE_URL = "http://localhost"
    # Tests that do not choose their own folder never write uploads into the project.
    EXPENSES_RECEIPT_DIR = str(Path(tempfile.gettempdir()) / "portal-test-receipts")
    COURSEWORK_UPLOAD_DIR = str(Path(tempfile.gettempdir()) / "portal-test-coursework")

"""Configuration classes, read from PORTAL_* environment variables."""

from __future__ import annotations

import math
import os
import string
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"PORTAL_{name}", default)


def _flag(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str) -> list[str] | None:
    value = _env(name)
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def secret_key_bits(key: str) -> float:
    """A generous estimate of a secret key's entropy in bits: its length times the bits of the smallest
    usual alphabet it is drawn from (hex, URL-safe base64, printable). A repeated or short key scores low."""
    if len(set(key)) < 8:
        return 0.0
    hex_digits = set(string.hexdigits)
    base64_chars = set(string.ascii_letters + string.digits + "-_+/=")
    alphabet = 16 if set(key) <= hex_digits else 64 if set(key) <= base64_chars else 95
    return len(key) * math.log2(alphabet)


MIN_SECRET_KEY_BITS = 256  # 32 bytes, what `secrets.token_urlsafe(32)` gives


def _default_trusted_hosts(base_url: str, development: bool) -> list[str]:
    hosts = [urlsplit(base_url).hostname or "localhost"]
    if development:
        hosts += ["localhost", "127.0.0.1"]
    return list(dict.fromkeys(hosts))


class Config:
    """Settings for development and production; production refuses to start without a secret key."""

    ENV_NAME = _env("ENV", "development")
    DEVELOPMENT = ENV_NAME == "development"

    SECRET_KEY = _env("SECRET_KEY") or ("dev-only-secret-not-for-production" if DEVELOPMENT else None)
    SERVICE_NAME = _env("SERVICE_NAME", "RJ Volunteer Portal")
    # Absolute base for every link the portal hands out (e-mails, feeds); never the request's Host.
    BASE_URL = _env("BASE_URL", "http://127.0.0.1:5000")
    # Requests for any other host are refused (400), so a forged Host header reaches nothing.
    TRUSTED_HOSTS = _list("TRUSTED_HOSTS") or _default_trusted_hosts(BASE_URL, DEVELOPMENT)
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host (0: none trusted).
    PROXY_COUNT = int(_env("PROXY_COUNT", "0"))

    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE / 'portal.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Sessions: HttpOnly and SameSite always; Secure wherever the site is served over HTTPS.
    SESSION_COOKIE_NAME = "portal_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SECURE_COOKIES", not DEVELOPMENT)
    IDLE_TIMEOUT = timedelta(minutes=int(_env("IDLE_TIMEOUT_MINUTES", "30")))
    PERMANENT_SESSION_LIFETIME = IDLE_TIMEOUT
    # However active, a signed-in session ends this long after signing in (checked on the server).
    ABSOLUTE_SESSION_LIFETIME = timedelta(hours=float(_env("SESSION_LIFETIME_HOURS", "12")))
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
    # Failed sign-ins: a tight limit per account from one address, a looser one per address, and a slow
    # one per account from anywhere, so someone guessing from elsewhere cannot lock the owner out for long.
    LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS = _env("LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = _env("LOGIN_LIMIT_PER_ADDRESS", "20 per 15 minutes")
    LOGIN_LIMIT_PER_ACCOUNT = _env("LOGIN_LIMIT_PER_ACCOUNT", "50 per hour")

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
    TRUSTED_HOSTS = ["localhost", "127.0.0.1"]
    # Tests that do not choose their own folder never write uploads into the project.
    EXPENSES_RECEIPT_DIR = str(Path(tempfile.gettempdir()) / "portal-test-receipts")
    COURSEWORK_UPLOAD_DIR = str(Path(tempfile.gettempdir()) / "portal-test-coursework")

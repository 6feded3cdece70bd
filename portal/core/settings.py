"""Site-wide settings stored in the database (admin-editable rules, and the demo-database flag)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.core.db import Base, utcnow

DEMO_DATABASE = "database.is_demo"


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def get_setting(session: Session, key: str, default: Any = None) -> Any:
    """The stored value of `key`, or `default` when it was never set."""
    row = session.get(Setting, key)
    return default if row is None else row.value


def get_settings(session: Session, defaults: dict[str, Any]) -> dict[str, Any]:
    """The stored value of each key of `defaults` (its default when never set), in one query."""
    stored = dict(session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(list(defaults)))).all())
    return {key: stored.get(key, default) for key, default in defaults.items()}


def set_setting(session: Session, key: str, value: Any) -> None:
    """Store `value` under `key` (flushed, not committed)."""
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
    session.flush()

"""Data versions: a token per kind of data that changes in the same transaction as the data, so that an
expensive aggregate over it can be kept in memory until the data changes (issue 15: the coordinator home's
vetting counts aggregate every check of every volunteer).

`track(name, *models)` makes every flush that adds, changes or deletes one of those models give `name` a
new random token, in the flushing transaction. `cached(session, name, key, compute)` reads the token
first and answers from this process's cache when `compute` already ran for the same token and key;
otherwise it computes and keeps the answer. Reading the token before computing means an answer is never
filed under a token older than the data it saw, and a token is random (never a counter), so a database
emptied and refilled (as the tests do) never meets an answer from its previous life.

Writes that bypass the ORM's flush (Core `insert()` / `update()` on a tracked table, COPY) must call
`bump(session, name)` themselves. With no token stored yet, nothing is cached.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from cachetools import LRUCache
from sqlalchemy import String, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.core.db import Base

T = TypeVar("T")

CACHE_SIZE = 256


class DataVersion(Base):
    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


_tracked: dict[type, set[str]] = {}
_cache: LRUCache = LRUCache(maxsize=CACHE_SIZE)
_lock = threading.Lock()


def track(name: str, *models: type) -> None:
    """Give `name` a new token whenever a flush adds, changes or deletes an instance of `models`."""
    for model in models:
        _tracked.setdefault(model, set()).add(name)


def bump(session: Session, name: str) -> None:
    """Give `name` a new token in the session's transaction (an upsert: one row per name)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(DataVersion).values(name=name, token=secrets.token_hex(16))
    session.execute(statement.on_conflict_do_update(index_elements=["name"],
                                                    set_={"token": statement.excluded.token}))


def token(session: Session, name: str) -> str | None:
    """The current token of `name`, or None when its data has never changed through a tracked flush."""
    return session.scalar(select(DataVersion.token).where(DataVersion.name == name))


def cached(session: Session, name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, remembered in this process for `key` until `name`'s data changes. The answer is shared
    between callers: treat it as read-only."""
    current = token(session, name)
    if current is None:
        return compute()
    entry = (name, current, key)
    with _lock:
        if entry in _cache:
            return _cache[entry]
    answer = compute()
    with _lock:
        _cache[entry] = answer
    return answer


@event.listens_for(Session, "before_flush")
def _bump_changed(session: Session, _context, _instances) -> None:
    if not _tracked:
        return
    names: set[str] = set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        names |= _tracked.get(type(instance), set())
    for name in sorted(names):
        bump(session, name)

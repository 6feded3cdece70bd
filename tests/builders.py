"""Builders for test data: plain functions that flush (never commit) and have valid defaults."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy.orm import Session

from portal.core import account_services
from portal.core.accounts import Role, User
from portal.core.passwords import hash_password

PASSWORD = "kettle-orchard-lantern-42"
# Hashing is deliberately slow; every builder-made account shares one precomputed hash.
PASSWORD_HASH = hash_password(PASSWORD)
FIXED_NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
_counter = itertools.count(1)


def make_user(
    session: Session,
    *,
    roles: tuple[Role, ...] | list[Role] = (Role.VOLUNTEER,),
    email: str | None = None,
    name: str | None = None,
    password_hash: str | None = PASSWORD_HASH,
    now: dt.datetime = FIXED_NOW,
) -> User:
    """A person with the given roles and the shared test password."""
    number = next(_counter)
    user = account_services.create_user(
        session,
        email=email or f"person{number}@example.org",
        name=name or f"Test Person {number}",
        roles=roles,
        password_hash=password_hash,
        now=now,
    )
    return user

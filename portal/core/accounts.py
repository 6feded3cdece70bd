"""People who sign in, their roles, their signed-in sessions, and the single-use tokens for password
resets, invitations and sign-up confirmations.

`User` implements Flask-Login's four-member protocol by duck typing, so this module needs no Flask.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, false, func, select
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from portal.core.db import Base, string_enum, utcnow
from portal.core.search import trigram_index


class Role(enum.StrEnum):
    """What a person may do; one person may hold several roles."""

    APPLICANT = "applicant"
    VOLUNTEER = "volunteer"
    TRAINER = "trainer"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.capitalize()


ROLE_ORDER = [Role.ADMIN, Role.COORDINATOR, Role.TRAINER, Role.VOLUNTEER, Role.APPLICANT]


class TokenPurpose(enum.StrEnum):
    PASSWORD_RESET = "password_reset"
    INVITATION = "invitation"
    SIGN_UP = "sign_up"


def new_session_token() -> str:
    return secrets.token_urlsafe(16)


def normalise_email(email: str) -> str:
    """E-mail addresses are compared without surrounding spaces and without case."""
    return email.strip().lower()


class User(Base):
    """A person with an account. Deactivated people cannot sign in and are signed out everywhere."""

    __tablename__ = "users"
    # The volunteer list and allocation search people by part of their name or e-mail address; the
    # admin's people list pages in (is_deactivated, name, id) order from an index-only scan.
    __table_args__ = (trigram_index("ix_users_name_trgm", "name"), trigram_index("ix_users_email_trgm", "email"),
                      Index("ix_users_listing", "is_deactivated", "name", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_deactivated: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Part of the login id: changing it signs the person out of every browser at their next request.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None]
    deactivated_at: Mapped[dt.datetime | None]

    role_links: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return not self.is_deactivated

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def roles(self) -> set[Role]:
        return {link.role for link in self.role_links}

    def has_role(self, *roles: Role) -> bool:
        """True when the person holds any of `roles`."""
        return bool(self.roles.intersection(roles))

    @property
    def sorted_roles(self) -> list[Role]:
        return [role for role in ROLE_ORDER if role in self.roles]

    @property
    def primary_role(self) -> Role | None:
        """The role whose home page the person lands on: the most senior they hold."""
        ordered = self.sorted_roles
        return ordered[0] if ordered else None


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(
        string_enum(Role, 20), primary_key=True
    )
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="role_links")


class AccountToken(Base):
    """A single-use, expiring token sent by e-mail. Only its SHA-256 digest is stored."""

    __tablename__ = "account_tokens"
    __table_args__ = (UniqueConstraint("token_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


class SignInSession(Base):
    """One signed-in browser. The cookie carries a random key; only its SHA-256 digest is stored here.

    Signing out ends the row, so a copied cookie stops working at once; a session also ends a fixed
    time after it began (`ABSOLUTE_SESSION_LIFETIME`), however active it is.
    """

    __tablename__ = "sign_in_sessions"
    __table_args__ = (UniqueConstraint("key_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_digest: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[dt.datetime | None]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_signed_in(user: Any) -> bool:
    """True for an active account (not anonymous, not deactivated); permissions start from this."""
    return (
        user is not None
        and not getattr(user, "is_anonymous", False)
        and not getattr(user, "is_deactivated", True)
    )


def is_coordinator(user: Any) -> bool:
    """True for an active account holding the coordinator role."""
    return is_signed_in(user) and user.has_role(Role.COORDINATOR)


def find_user_by_email(session: Session, email: str) -> User | None:
    """The account with this e-mail address (any case, surrounding spaces ignored), or None."""
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def find_signed_in_user(
    session: Session, login_id: str, session_key: str | None, *, now: dt.datetime, lifetime: dt.timedelta
) -> User | None:
    """The active user whose `get_id()` is `login_id`, signed in with the live session `session_key`.

    None when the id is stale (password changed, deactivated), when the session was ended by signing
    out, or when it began more than `lifetime` before `now`. One query, roles included.
    """
    user_id, _, token = login_id.partition(":")
    if not user_id.isdigit() or len(user_id) > 10 or not token or not session_key:
        return None
    # The roles come in the same statement: every signed-in request asks for them, and a second round trip
    # to the database on every page is a measurable share of a page's cost (issue 15, throughput).
    user = session.scalar(
        select(User)
        .join(SignInSession, SignInSession.user_id == User.id)
        .options(joinedload(User.role_links))
        .where(
            User.id == int(user_id),
            SignInSession.key_digest == digest(session_key),
            SignInSession.ended_at.is_(None),
            SignInSession.started_at > now - lifetime,
        )
    )
    if user is None or user.is_deactivated or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def count_users(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0

"""The audit trail: who did what to which object, written in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.core.accounts import User
from portal.core.db import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(80), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(80), index=True)
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(lazy="joined")

    @property
    def subject_label(self) -> str:
        if self.subject_type is None:
            return ""
        return f"{self.subject_type} {self.subject_id}" if self.subject_id else self.subject_type


def _subject_key(subject: Any) -> tuple[str | None, int | None]:
    if subject is None:
        return None, None
    if isinstance(subject, tuple):
        return subject[0], subject[1]
    table = getattr(subject, "__tablename__", None) or type(subject).__name__.lower()
    return table, getattr(subject, "id", None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def record(
    session: Session,
    actor: User | None,
    action: str,
    subject: Any = None,
    *,
    at: dt.datetime | None = None,
    **details: Any,
) -> AuditEntry:
    """Add an audit entry to `session` (flushed with the change it describes, never committed here).

    `subject` is a mapped object (its table and id are kept), a `(type, id)` tuple, or None.
    Details must not hold passwords or tokens.
    """
    subject_type, subject_id = _subject_key(subject)
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        details=_jsonable(details),
        at=at or utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditFilter:
    actor_email: str | None = None
    action: str | None = None
    subject_type: str | None = None
    subject_id: int | None = None
    from_date: dt.date | None = None
    to_date: dt.date | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    page: int
    pages: int
    total: int


def list_entries(session: Session, filters: AuditFilter, *, page: int = 1, per_page: int = 50) -> AuditPage:
    """Audit entries newest first, filtered, one page at a time (dates are UTC calendar days)."""
    query = select(AuditEntry)
    if filters.actor_email:
        query = query.join(User, AuditEntry.actor_id == User.id).where(
            User.email.contains(filters.actor_email.strip().lower())
        )
    if filters.action:
        query = query.where(AuditEntry.action.startswith(filters.action.strip()))
    if filters.subject_type:
        query = query.where(AuditEntry.subject_type == filters.subject_type.strip())
    if filters.subject_id is not None:
        query = query.where(AuditEntry.subject_id == filters.subject_id)
    if filters.from_date:
        start = dt.datetime.combine(filters.from_date, dt.time(), tzinfo=dt.UTC)
        query = query.where(AuditEntry.at >= start)
    if filters.to_date:
        end = dt.datetime.combine(filters.to_date + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        query = query.where(AuditEntry.at < end)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    entries = list(
        session.scalars(
            query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return AuditPage(entries=entries, page=page, pages=pages, total=total)


def list_actions(session: Session) -> list[str]:
    """Every action name recorded so far, for the filter's choices."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))

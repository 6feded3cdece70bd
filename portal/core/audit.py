"""The audit trail: who did what to which object, written in the same transaction as the change.

Two reads: `list_slice` pages the whole log by keyset (newest first, `before=` / `after=` an entry's id,
no count), so a page deep in a million entries costs what the first page costs; `list_entries` counts
and pages by number, for one object's history (a case's views), which stays small. Each filter has an
index that ends in (at, id), the order both reads use.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, Select, String, func, select, tuple_
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from portal.core.accounts import User
from portal.core.db import Base, utcnow
from portal.core.paging import MAX_PER_PAGE, PageWindow


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    # Newest first is (at, id) descending; each filter's index ends in that order, so a page is a short
    # index range scan however many entries there are (actor_id's also serves the foreign key).
    __table_args__ = (
        Index("ix_audit_entries_at_id", "at", "id"),
        Index("ix_audit_entries_action_at_id", "action", "at", "id"),
        Index("ix_audit_entries_actor_id_at_id", "actor_id", "at", "id"),
        Index("ix_audit_entries_subject_at_id", "subject_type", "subject_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(80))
    subject_type: Mapped[str | None] = mapped_column(String(80))
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


@dataclass(frozen=True)
class AuditSlice:
    """One page of the log, newest first. `newer` is the id to pass as `after=` for the page of newer
    entries and `older` the id to pass as `before=` for older ones; None when there are none that way."""

    entries: list[AuditEntry]
    newer: int | None
    older: int | None


def _filtered(filters: AuditFilter) -> Select:
    query = select(AuditEntry)
    if filters.actor_email:
        query = query.join(User, AuditEntry.actor_id == User.id).where(
            User.email.contains(filters.actor_email.strip().lower(), autoescape=True)
        )
    if filters.action:
        query = query.where(AuditEntry.action == filters.action.strip())
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
    return query


_NEWEST_FIRST = (AuditEntry.at.desc(), AuditEntry.id.desc())


def _position() -> Any:
    """An entry's place in the log's order, compared as a row value so one index range scan answers it."""
    return tuple_(AuditEntry.at, AuditEntry.id)


def list_entries(session: Session, filters: AuditFilter, *, page: int = 1, per_page: int = 50) -> AuditPage:
    """Audit entries newest first, filtered, counted and paged by number (a page past the end gives the
    last page; dates are UTC calendar days). For one object's history; the whole log uses `list_slice`."""
    query = _filtered(filters)
    window = PageWindow.of(session.scalar(select(func.count()).select_from(query.subquery())) or 0, page, per_page)
    entries = list(session.scalars(query.order_by(*_NEWEST_FIRST).limit(window.per_page).offset(window.offset)))
    return AuditPage(entries=entries, page=window.page, pages=window.pages, total=window.total)


def list_slice(
    session: Session, filters: AuditFilter, *, before: int | None = None, after: int | None = None,
    per_page: int = 50,
) -> AuditSlice:
    """At most `per_page` filtered entries newest first: those just older than entry `before`, or just
    newer than entry `after` (used only without `before`), or the newest. Paging by (at, id) means
    entries written between two page loads neither repeat nor go missing on older pages. A cursor
    naming no entry, or one with nothing beyond it, gives the newest page. At most three statements:
    the cursor, the page (actors joined), and the newest page when the cursor ran out.
    """
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    # The log shows who acted, not their roles: skip loading roles for a page of actors.
    query = _filtered(filters).options(joinedload(AuditEntry.actor).lazyload(User.role_links))
    cursor = before if before is not None else after
    mark = None
    if cursor is not None:
        mark = session.execute(select(AuditEntry.at, AuditEntry.id).where(AuditEntry.id == cursor)).first()
    if mark is not None and before is not None:
        rows = list(session.scalars(
            query.where(_position() < tuple(mark)).order_by(*_NEWEST_FIRST).limit(per_page + 1)
        ))
        if rows:
            return AuditSlice(rows[:per_page], newer=rows[0].id, older=_last_if_more(rows, per_page))
    elif mark is not None:
        rows = list(session.scalars(
            query.where(_position() > tuple(mark)).order_by(AuditEntry.at, AuditEntry.id).limit(per_page + 1)
        ))
        if len(rows) > per_page:
            shown = rows[:per_page][::-1]
            return AuditSlice(shown, newer=shown[0].id, older=shown[-1].id)
    rows = list(session.scalars(query.order_by(*_NEWEST_FIRST).limit(per_page + 1)))
    return AuditSlice(rows[:per_page], newer=None, older=_last_if_more(rows, per_page))


def _last_if_more(rows: list[AuditEntry], per_page: int) -> int | None:
    """The id of the page's oldest entry when `rows` (fetched one past a page) holds more beyond it."""
    return rows[per_page - 1].id if len(rows) > per_page else None

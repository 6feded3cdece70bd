"""Reads over people's accounts for the admin pages: the people list, filtered and a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.core.accounts import Role, User, UserRole
from portal.core.paging import Page, PageWindow
from portal.core.search import clean_term, contains


@dataclass(frozen=True)
class PeopleFilter:
    search: str | None = None  # part of the name or e-mail address, any case
    role: Role | None = None


def list_people(session: Session, filters: PeopleFilter, *, page: int = 1, per_page: int = 50) -> Page[User]:
    """People matching `filters`, active and invited before deactivated, then by name; one page (a page
    past the end gives the last). Three statements whatever the size: the count, the page, and the
    page's roles (`User.role_links` loads by selectin), so nothing is queried per row."""
    query = select(User)
    term = clean_term(filters.search)
    if term:
        query = query.where(or_(contains(User.name, term), contains(User.email, term)))
    if filters.role is not None:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == filters.role)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    window = PageWindow.of(total, page, per_page)
    order = (User.is_deactivated, User.name, User.id)
    # The page's ids first (an index-only scan of ix_users_listing, however deep the page), then their rows:
    # sorting every name for a page deep in 20,000 people took 100 ms.
    ids = query.with_only_columns(User.id).order_by(*order).limit(window.per_page).offset(window.offset).subquery()
    rows = session.scalars(select(User).join(ids, User.id == ids.c.id).order_by(*order))
    return Page(list(rows), window)

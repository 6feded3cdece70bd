"""One page of a list: the page arithmetic every paginated list shares (Flask-free).

`PageWindow.of(total, page, per_page)` clamps a requested page into range (a page past the end gives
the last page, a page below 1 the first), so a hostile `?page=` never fails and never runs an
unbounded query. Lists build their own rows for the window (`offset`, `per_page`) and return a `Page`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_PER_PAGE = 200


@dataclass(frozen=True)
class PageWindow:
    """Which rows a page shows: `page` of `pages` (at least 1), `per_page` rows from `offset`."""

    page: int
    pages: int
    per_page: int
    total: int

    @classmethod
    def of(cls, total: int, page: int, per_page: int) -> PageWindow:
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        pages = max(1, -(-total // per_page))
        return cls(page=min(max(1, page), pages), pages=pages, per_page=per_page, total=total)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first(self) -> int:
        """The 1-based position of the page's first row (0 on an empty list)."""
        return self.offset + 1 if self.total else 0


@dataclass(frozen=True)
class Page(Generic[T]):
    """The rows of one page with their window."""

    rows: list[T]
    window: PageWindow

    @property
    def last(self) -> int:
        """The 1-based position of the page's last row (0 on an empty list)."""
        return self.window.offset + len(self.rows)

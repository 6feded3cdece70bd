"""Searching names, e-mail addresses and references by a few letters anywhere in them, ignoring case.

`contains(column, term)` is `column ILIKE '%term%'` with the term's `%`, `_` and `\\` matched literally.
On PostgreSQL the searched columns carry trigram indexes (`trigram_index`: GIN with pg_trgm's
`gin_trgm_ops`), which serve exactly that predicate, so a search reads the matching rows' index
entries instead of every row. SQLite has no trigrams: there the index is an ordinary one and the
search scans the table, which is fine at the sizes SQLite is used for.
"""

from __future__ import annotations

from sqlalchemy import DDL, Index, event
from sqlalchemy.sql.elements import ColumnElement

LIKE_ESCAPE = "\\"
SEARCH_MAX_LENGTH = 100

_TRIGRAM_EXTENSION = DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql")


def clean_term(raw: str | None) -> str:
    """The search term as typed, with control characters dropped, runs of spaces made one and at most
    `SEARCH_MAX_LENGTH` characters; "" when nothing is left."""
    printable = "".join(character for character in raw or "" if character.isprintable())
    return " ".join(printable.split())[:SEARCH_MAX_LENGTH]


def contains_pattern(term: str) -> str:
    """A LIKE pattern (escape character `LIKE_ESCAPE`) that finds `term` anywhere, wildcards taken literally."""
    escaped = term.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"


def contains(column, term: str) -> ColumnElement[bool]:
    """`column` holds `term` somewhere, ignoring case; served by the column's trigram index on PostgreSQL."""
    return column.ilike(contains_pattern(term), escape=LIKE_ESCAPE)


def trigram_index(name: str, column: str) -> Index:
    """A GIN trigram index on `column` for `contains` searches (an ordinary index on SQLite). Creating it
    on PostgreSQL first creates the pg_trgm extension if the database lacks it, so
    `Base.metadata.create_all` works on a fresh database; migrations create the extension themselves."""
    index = Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})
    event.listen(index, "before_create", _TRIGRAM_EXTENSION)
    return index

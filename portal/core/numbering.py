"""Readable yearly reference numbers (RJ-2026-00042, APP-2026-00017) that are never given twice."""

from __future__ import annotations

from sqlalchemy import Table, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def take_yearly_number(session: Session, counters: Table, year: int) -> int:
    """The next number for `year` from a counters table with columns `year` and `last_number`.

    One UPDATE both increments and locks the year's counter row until commit (a PostgreSQL row lock;
    SQLite's write lock), so two records made at the same moment wait for each other and never share
    a number. The first number of a year inserts the row in a savepoint; if another transaction
    inserted it first, its row is incremented instead.
    """
    for _attempt in range(3):
        taken = session.execute(
            update(counters)
            .where(counters.c.year == year)
            .values(last_number=counters.c.last_number + 1)
            .returning(counters.c.last_number)
        ).scalar_one_or_none()
        if taken is not None:
            return taken
        try:
            with session.begin_nested():
                session.execute(insert(counters).values(year=year, last_number=1))
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"could not take a number for {year} from {counters.name}")

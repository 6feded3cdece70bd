"""Database plumbing shared by the bench scripts: create the bench database, bulk-load rows (COPY or
batched Core inserts), reset the sequences, and VACUUM ANALYZE after a load.

Every bench runs on its own PostgreSQL database (never the demo or a test database); these helpers
assume psycopg 3 under SQLAlchemy.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Connection, Engine, make_url


def ensure_database(url: str) -> None:
    """Create the bench database if it does not exist (connecting to `postgres` to do so)."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
            print(f"Created database {target.database}")
    admin.dispose()


def copy_rows(engine: Engine, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:
    """COPY rows (tuples in `columns` order) into a table in one stream and commit; returns how many.
    COPY applies no Python-side column defaults: list every NOT NULL column without a server default."""
    count = 0
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        raw.commit()
    finally:
        raw.close()
    return count


def timed_copy(engine: Engine, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:
    """`copy_rows`, printing the row count and the time taken."""
    begun = time.perf_counter()
    count = copy_rows(engine, table, columns, rows)
    print(f"  {table}: {count:,} rows in {time.perf_counter() - begun:.1f} s", flush=True)
    return count


def insert_rows(connection: Connection, model, rows: list[dict], *, batch: int = 5_000) -> None:
    """Core `insert()` of dicts in batches of `batch` (executemany; Python-side defaults apply),
    printing the row count and the time taken. The caller owns the transaction."""
    begun = time.perf_counter()
    for start in range(0, len(rows), batch):
        connection.execute(insert(model), rows[start:start + batch])
    print(f"  {model.__tablename__}: {len(rows):,} rows in {time.perf_counter() - begun:.1f} s", flush=True)


def reset_sequences(connection: Connection, tables: Iterable[str]) -> None:
    """Move each table's id sequence past its largest id, after rows were loaded with explicit ids."""
    for table in tables:
        connection.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM {table}),"
            " false)"
        ))


def vacuum_analyze(engine: Engine) -> None:
    """What autovacuum does after a bulk load (statistics, and the visibility map that lets index-only
    scans skip the table), done at once so the figures do not depend on when it wakes up, or on a
    server that runs with autovacuum off. VACUUM cannot run in a transaction."""
    begun = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    print(f"  VACUUM ANALYZE in {time.perf_counter() - begun:.1f} s", flush=True)

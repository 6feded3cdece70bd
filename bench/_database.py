"""Database plumbing shared by the bench scripts: the bench database's URL, creating it and the
models' tables (`prepare_schema`), loading the data once and recording it (`load_once`), bulk-loading
rows (COPY or batched Core inserts), resetting the sequences, and VACUUM ANALYZE after a load.

Every bench runs on its own PostgreSQL database (never the demo or a test database); these helpers
assume psycopg 3 under SQLAlchemy.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Executable, create_engine, insert, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session

import portal.models  # noqa: F401  (every table on Base.metadata)
from portal.core import settings
from portal.core.db import Base


def bench_parser(doc: str, scale_help: str, *, runs: int | None = None,
                 runs_help: str | None = None) -> argparse.ArgumentParser:
    """The command line of a bench that loads its own database: its docstring's first paragraph,
    --scale (the fraction of the full volume, `scale_help` says what 1.0 is), --reset, and --runs
    (default `runs`) if given."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help=scale_help)
    parser.add_argument("--reset", action="store_true", help="drop the bench tables and load again")
    if runs is not None:
        parser.add_argument("--runs", type=int, default=runs, help=runs_help)
    return parser


def bench_url(default: str) -> str:
    """PORTAL_BENCH_DATABASE_URL, else `default`; a bench runs on PostgreSQL only."""
    url = os.environ.get("PORTAL_BENCH_DATABASE_URL", default)
    if not url.startswith("postgresql"):
        raise SystemExit("The bench needs PostgreSQL (PORTAL_BENCH_DATABASE_URL)")
    return url


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


def prepare_schema(url: str, reset: bool) -> Engine:
    """An engine on the bench database, created if missing, with every table of the models: with
    `reset`, the tables (and Alembic's version table) are dropped first, so the data is loaded again."""
    ensure_database(url)
    engine = create_engine(url)
    if reset:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    return engine


def load_once(engine: Engine, setting: str, wanted: Any, *, existing: Executable, what: str,
              mismatch: Callable[[Any], str], loading: str, reusing: str, load: Callable[[], None]) -> bool:
    """Load the bench data unless it is loaded already; True if it was loaded now.

    The setting `setting` records what was loaded (`wanted`: the volume, or whatever else tells one
    load from another). Equal to `wanted`: print `reusing` and load nothing. Not set: the database must
    hold none of the bench's rows (`existing`, a statement whose scalar is truthy when it does: "holds
    `what` it did not load"); then print `loading`, call `load` and record `wanted`. Set to something
    else: stop with `mismatch(loaded)`."""
    with Session(engine) as session:
        loaded = settings.get_setting(session, setting)
        foreign = loaded is None and session.scalar(existing)
    if loaded == wanted:
        print(reusing, flush=True)
        return False
    if foreign:
        raise SystemExit(f"The bench database holds {what} it did not load; use --reset")
    if loaded is not None:
        raise SystemExit(mismatch(loaded))
    print(loading, flush=True)
    begun = time.perf_counter()
    load()
    with Session(engine) as session:
        settings.set_setting(session, setting, wanted)
        session.commit()
    print(f"Loaded in {time.perf_counter() - begun:.1f} s", flush=True)
    return True


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

"""Engine creation: one place that knows how to talk to SQLite and PostgreSQL."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import create_engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str) -> Engine:
    """An engine with the per-connection settings each backend needs."""
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 driver begins a transaction only before a write, so the SELECTs of one
    # "transaction" would each see another database state; _sqlite_begin issues BEGIN instead.
    dbapi_connection.isolation_level = None
    # Foreign keys are off by default in SQLite; WAL lets readers go on while a re-seed writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def snapshot_reads(engine: Engine) -> Engine:
    """The engine whose transactions read one consistent state, even while a re-seed commits.

    PostgreSQL's default READ COMMITTED takes a new snapshot per statement; REPEATABLE READ keeps
    the first one. A SQLite transaction (a real BEGIN, see make_engine) reads one WAL snapshot.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="REPEATABLE READ")
    return engine


# An arbitrary constant: the PostgreSQL advisory lock serialising migrate-and-seed.
PREPARE_LOCK_KEY = 7_301_984


@contextmanager
def exclusive(engine: Engine) -> Iterator[None]:
    """Hold a lock across processes and machines sharing this database, for migrate and seed.

    SQLite: an flock on a file beside the database (every process sharing a SQLite file is on one
    machine). PostgreSQL: a session-level advisory lock, which every replica sees.
    """
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.lock", "a+") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PREPARE_LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PREPARE_LOCK_KEY})
            connection.commit()

"""Engine creation: one place that knows how to talk to SQLite and PostgreSQL."""

from __future__ import annotations

import fcntl
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import create_engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(
    url: str, *, statement_timeout: float | None = None, connect_timeout: int = 3
) -> Engine:
    """An engine with the per-connection settings each backend needs.

    `statement_timeout` (seconds) bounds each statement (PostgreSQL) or each wait for a lock
    (SQLite's busy timeout): the serving engine sets it, so an outage answers 503 in seconds
    instead of hanging. Migrate and seed leave it unset (30 s of busy wait on SQLite).
    """
    if not is_sqlite(url):
        connect_args: dict[str, Any] = {
            "connect_timeout": connect_timeout,
            # Shown in pg_stat_activity, so a process waiting for a lock can name its holder.
            "application_name": f"monograph pid {os.getpid()} on {socket.gethostname()}"[:63],
        }
        if statement_timeout is not None:
            given = make_url(url).query.get("options", "")  # keep the URL's own options
            timeout = f"-c statement_timeout={int(statement_timeout * 1000)}"
            connect_args["options"] = f"{given} {timeout}".strip()
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_timeout=statement_timeout or 30,
            connect_args=connect_args,
        )
    busy_timeout = statement_timeout if statement_timeout is not None else 30.0
    database = make_url(url).database
    if database and database != ":memory:":
        if is_read_only_file(Path(database)):
            return _read_only_sqlite_engine(Path(database), busy_timeout)
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout})
    event.listen(engine, "connect", _sqlite_pragmas(busy_timeout))
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def is_read_only_file(database: Path) -> bool:
    """An existing SQLite file this process may not write (or whose folder it may not write)."""
    return database.is_file() and not (
        os.access(database, os.W_OK) and os.access(database.parent, os.W_OK)
    )


def _read_only_sqlite_engine(database: Path, busy_timeout: float) -> Engine:
    """A database served as it is: opened immutable, since a WAL database can be opened read-only
    only where its -shm file can be created, and nobody can write it from here anyway."""

    def connect() -> sqlite3.Connection:
        uri = f"file:{database}?mode=ro&immutable=1"
        return sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=busy_timeout)

    engine = create_engine("sqlite://", creator=connect)
    event.listen(engine, "connect", _sqlite_pragmas(busy_timeout, wal=False))
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(busy_timeout: float, wal: bool = True) -> Any:
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # The sqlite3 driver begins a transaction only before a write, so the SELECTs of one
        # "transaction" would each see another database state; _sqlite_begin issues BEGIN.
        dbapi_connection.isolation_level = None
        # Foreign keys are off by default in SQLite; WAL lets readers go on while a re-seed
        # writes.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    return set_pragmas


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
MIGRATE_AND_SEED_LOCK_KEY = 7_301_984


class LockTimeoutError(RuntimeError):
    """Another process held the migrate-and-seed lock for longer than we may wait."""


def holder_description() -> str:
    """Who this process is, as the other processes waiting for its lock will read it."""
    since = datetime.now(UTC).isoformat(timespec="seconds")
    return f"pid {os.getpid()} on {socket.gethostname()} since {since}"


@contextmanager
def migrate_and_seed_lock(engine: Engine, wait_seconds: float = 120.0) -> Iterator[None]:
    """Hold a lock across processes and machines sharing this database, for migrate and seed.

    SQLite: an flock on a file beside the database (every process sharing a SQLite file is on one
    machine), into which the holder writes who it is. PostgreSQL: a session-level advisory lock,
    which every replica sees. Waiting longer than `wait_seconds` raises LockTimeoutError naming
    the holder, so a stuck seed never makes every new replica wait forever, silently.
    """
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.lock", "a+") as lock_file:
            _flock_within(lock_file, wait_seconds)
            lock_file.truncate(0)
            lock_file.write(holder_description() + "\n")
            lock_file.flush()
            try:
                yield
            finally:
                lock_file.truncate(0)
                fcntl.flock(lock_file, fcntl.LOCK_UN)
        return
    with engine.connect() as connection:
        _advisory_lock_within(connection, wait_seconds)
        try:
            yield
        finally:
            connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATE_AND_SEED_LOCK_KEY}
            )
            connection.commit()


def _flock_within(lock_file: Any, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                lock_file.seek(0)
                holder = lock_file.read().strip() or "a process that did not say who it is"
                raise LockTimeoutError(
                    f"another process has held the lock {lock_file.name} for over "
                    f"{wait_seconds:g} s: {holder}. If it is stuck, stop it and start again."
                ) from None
            time.sleep(0.1)


_ADVISORY_HOLDER = text(
    "SELECT a.pid, a.application_name, a.client_addr, a.backend_start, a.state"
    " FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = :key"
)


def _advisory_lock_within(connection: Any, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    key = {"key": MIGRATE_AND_SEED_LOCK_KEY}
    while not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar():
        connection.commit()
        if time.monotonic() >= deadline:
            row = connection.execute(_ADVISORY_HOLDER, key).first()
            connection.commit()
            if row is None:
                holder = "a session that has just let go"
            else:
                since = row.backend_start.isoformat(timespec="seconds")
                holder = (
                    f"PostgreSQL backend pid {row.pid} ({row.application_name or 'no name'}, "
                    f"from {row.client_addr or 'a local socket'}, connected since {since}, "
                    f"{row.state})"
                )
            raise LockTimeoutError(
                f"another process has held the migrate-and-seed lock for over {wait_seconds:g} s: "
                f"{holder}. If it is stuck, stop it (or SELECT pg_terminate_backend(pid))."
            )
        time.sleep(0.2)
    connection.commit()

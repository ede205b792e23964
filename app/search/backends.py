"""Full-text search over the index, one backend per SQL dialect behind one interface.

Both answer a `SearchRequest` with the same `SearchResult`: the page of hits (ranked, with a
snippet whose matches are wrapped in <mark>...</mark>), the total and the dataset version the
database held when it answered, so the caller can pair hits with the matching catalog snapshot.
The calls are blocking: run them in a worker thread, never on the event loop, with one exception:
SQLite's FTS5 answers in a fraction of a millisecond, less than a thread hop and a session cost,
so `SqliteSearch.search_inline` runs on the caller's thread and gives up (None) on any database
error or lock wait longer than a few milliseconds, for the caller to run `search` in a thread.
"""

from __future__ import annotations

import fcntl
import functools
import html
import os
import sqlite3
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app.domain.described import described
from app.search.query import fts5_match, tsquery

MARK_START = "<mark>"
MARK_END = "</mark>"
# The engines mark matches with these private-use characters; the passage is HTML-escaped, and
# only then do they become <mark> tags: stored text never reaches a client as markup.
_MATCH_START = "\ue000"
_MATCH_END = "\ue001"


@described(
    {
        "relevance": "Best match first (ties in the monograph's order).",
        "label": "By label, A to Z.",
        "-label": "By label, Z to A.",
        "position": "In the monograph's own order: drug, section, then the source's order.",
    }
)
class SearchSort(StrEnum):
    """The order of search hits."""

    relevance = "relevance"
    label = "label"
    label_desc = "-label"
    position = "position"


@dataclass(frozen=True)
class SearchRequest:
    terms: tuple[str, ...]
    drug: str | None
    section: str | None
    sort: SearchSort
    limit: int
    offset: int


class Hit(NamedTuple):  # a tuple, not a dataclass: one is made per hit, and tuples are cheap
    drug: str
    section: str
    key: str
    label: str
    score: float
    snippet: str


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int
    version: str | None


class SearchBackend(Protocol):
    def search(self, request: SearchRequest) -> SearchResult: ...


def _filter_values(request: SearchRequest) -> dict[str, Any]:
    values = {"drug": request.drug, "section": request.section}
    return {name: value for name, value in values.items() if value is not None}


def _where(filtered: frozenset[str]) -> str:
    """The statement's conditions on the filters given values (names of _filter_values)."""
    clauses = {"drug": "f.drug_slug = :drug", "section": "f.section = :section"}
    return "".join(f" AND {clause}" for name, clause in clauses.items() if name in filtered)


def _order(sort: SearchSort, relevance: str) -> str:
    # f.id follows drug, section and position: the unique tie-breaker of every order.
    return {
        SearchSort.relevance: f"{relevance}, f.id",
        SearchSort.label: "lower(f.label), f.id",
        SearchSort.label_desc: "lower(f.label) DESC, f.id",
        SearchSort.position: "f.id",
    }[sort]


VERSION = "(SELECT version FROM dataset WHERE id = 1)"


def safe_html(passage: str) -> str:
    """The passage with everything escaped except the <mark> tags around its matches."""
    escaped = html.escape(passage, quote=True)
    return escaped.replace(_MATCH_START, MARK_START).replace(_MATCH_END, MARK_END)


class _SqlBackend:
    """Runs a page query and a count query; each reads the dataset version in the same statement.

    The page statement's columns are, in order: drug slug, section, key, label, score, then the
    passages (`passage` picks the snippet), and the dataset version last. Rows are read by
    position: SQLite's driver gives plain tuples, and naming each row's columns cost more than
    the rest of building a hit."""

    page_sql: str
    count_sql: str

    def __init__(self, engine: Engine):
        self.engine = engine

    def query_params(self, request: SearchRequest) -> dict[str, Any]:
        raise NotImplementedError

    @staticmethod
    def passage(row: Any) -> str:
        """The row's snippet, matches marked: the note's passage if the note matches (it reads
        best), else the label's, else the rest's; the note's when no column holds a match."""
        raise NotImplementedError

    def statements(self, request: SearchRequest) -> tuple[str, str, dict[str, Any]]:
        """The page query, the count query and their parameters (the page's paging aside)."""
        params = _filter_values(request)
        page_sql, count_sql = self._sql(frozenset(params), request.sort)
        return page_sql, count_sql, params | self.query_params(request)

    @classmethod
    @functools.cache  # per backend class: two classes, a dozen statements each
    def _sql(cls, filtered: frozenset[str], sort: SearchSort) -> tuple[str, str]:
        """The page and count statements for these filters and order, written once: formatting
        them cost a tenth of a search."""
        where, order = _where(filtered), _order(sort, "score DESC")
        page_sql = cls.page_sql.format(where=where, order=order, version=VERSION)
        return page_sql, cls.count_sql.format(where=where, version=VERSION)

    def search(self, request: SearchRequest) -> SearchResult:
        page_sql, count_sql, params = self.statements(request)
        with self.engine.connect() as connection:
            rows = connection.execute(
                text(page_sql), {**params, "limit": request.limit, "offset": request.offset}
            ).all()
            total, version = total_and_version(
                rows,
                request,
                (count_sql, params),
                lambda sql, values: connection.execute(text(sql), values).one(),
            )
        return _result(rows, total, version, self.passage)


FirstRow = Callable[[str, dict[str, Any]], Any]


def total_and_version(
    rows: Sequence[Any],
    request: SearchRequest,
    count: tuple[str, dict[str, Any]],
    first_row: FirstRow,
) -> tuple[int, str | None]:
    """The total of hits and the dataset version, read in the page's transaction.

    Fewer hits than asked for, from the start, are all the hits, and each row carries the version
    it was read at: the count query runs only for a full page or a later one (`first_row` runs a
    statement and gives its first row)."""
    if request.offset == 0 and len(rows) < request.limit:
        if rows:
            return len(rows), rows[0][-1]
        (version,) = first_row(f"SELECT {VERSION}", {})
        return 0, version
    total, version = first_row(*count)
    return int(total), version


def _result(
    rows: Sequence[Any], total: int, version: str | None, passage: Callable[[Any], str]
) -> SearchResult:
    hits = [Hit(r[0], r[1], r[2], r[3], float(r[4]), safe_html(passage(r))) for r in rows]
    if any(r[-1] != version for r in rows):
        version = None  # a re-seed committed between the two statements: no single version
    return SearchResult(hits, int(total), version)


# The index's columns, as FTS5 numbers them: the record id (not indexed), label, note, the rest.
_LABEL, _NOTE, _EXTRA = 1, 2, 3
# BM25's weight for each column, in that order.
_WEIGHTS = "0.0, 10.0, 4.0, 1.0"


def _fts5_snippet(column: int) -> str:
    return f"snippet(record_search, {column}, '{_MATCH_START}', '{_MATCH_END}', '…', 24)"


def _fts5_column_matches(column: int) -> str:
    """True when the column holds an instance of the query: BM25 over that column alone is then
    below zero (each instance adds to it, and only instances do), the instances snippet() marks.
    """
    weights = ", ".join("1.0" if index == column else "0.0" for index in range(4))
    return f"bm25(record_search, {weights}) < 0"


# One snippet per hit, of the column `passage` would choose: building one costs a pass over the
# column's text, and three per hit were half of the statement's time. CASE runs only its branch.
# A hit holds an instance of every term in some indexed column, so one whose note and label hold
# none holds them in the rest: testing the rest too would only cost another BM25.
_PASSAGE = (
    f"CASE WHEN {_fts5_column_matches(_NOTE)} THEN {_fts5_snippet(_NOTE)}"
    f" WHEN {_fts5_column_matches(_LABEL)} THEN {_fts5_snippet(_LABEL)}"
    f" ELSE {_fts5_snippet(_EXTRA)} END"
)


class SqliteSearch(_SqlBackend):
    """FTS5 with the porter stemmer; BM25 weighs the label 10, the note 4, the rest 1."""

    def __init__(self, engine: Engine):
        super().__init__(engine)
        self._kept: Any = None  # the pooled connection search_inline keeps (on the event loop)
        self._kept_identity: tuple[int, int] | None = None
        database = engine.url.database
        self._database = FileIdentity(database or "")
        self._wal_index = WalIndex(database) if database else None

    page_sql = (
        "SELECT f.drug_slug, f.section, f.key, f.label,"
        f" -bm25(record_search, {_WEIGHTS}) AS score,"
        f" {_PASSAGE} AS passage,"
        " {version} AS version"
        " FROM record_search JOIN record AS f ON f.id = record_search.record_id"
        " WHERE record_search MATCH :match{where}"
        " ORDER BY {order} LIMIT :limit OFFSET :offset"
    )
    count_sql = (
        "SELECT count(*), {version}"
        " FROM record_search JOIN record AS f ON f.id = record_search.record_id"
        " WHERE record_search MATCH :match{where}"
    )

    def query_params(self, request: SearchRequest) -> dict[str, Any]:
        return {"match": fts5_match(list(request.terms))}

    @staticmethod
    def passage(row: Any) -> str:
        return str(row[5])  # chosen by the statement (_PASSAGE)

    def search_inline(self, request: SearchRequest) -> SearchResult | None:
        """`search` on the caller's thread, through the driver, in one transaction (one WAL
        snapshot, as `search` reads); None on any database error, a lock wait included."""
        if self._wal_index is not None and self._wal_index.readers_locked_out():
            return None
        page_sql, count_sql, params = self.statements(request)
        try:
            connection = self._kept_connection()
            return _search_on(connection, page_sql, count_sql, params, request)
        except (SQLAlchemyError, sqlite3.Error):
            self.close()  # a new connection next time
            return None

    def _kept_connection(self) -> Any:
        """The connection inline searches use, taken from the pool once (with the engine's
        PRAGMAs) and kept: a checkout and its reset cost a quarter of a search. A new one when
        the database file is another file (replaced, not written; noticed within a second)."""
        identity = self._database.current()
        if self._kept is not None and self._kept_identity != identity:
            self.close()
        if self._kept is None:
            kept = self.engine.raw_connection()
            kept.cursor().execute(f"PRAGMA busy_timeout={INLINE_BUSY_TIMEOUT_MS}")
            self._kept, self._kept_identity = kept, identity
        return self._kept.dbapi_connection

    def close_wal_index(self) -> None:
        """Close the lock probe's descriptor. Only once no connection of this process has the
        database open (after the engine is disposed): closing it drops their locks (WalIndex)."""
        if self._wal_index is not None:
            self._wal_index.close()

    def close(self) -> None:
        """Close the kept connection (never back to the pool: its busy timeout is its own)."""
        if self._kept is not None:
            kept, self._kept = self._kept, None
            kept.invalidate()


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


# How long a file's identity, once found, is trusted before it is looked up again.
IDENTITY_RECHECK_SECONDS = 1.0


class FileIdentity:
    """The identity (device, inode) of the file at a path: whether it was replaced by another.

    Looked up at most once a second once the file is found, and on every call while it is not:
    a stat() per search was a twentieth of an uncached search in the server, where system calls
    cost several microseconds, and a file is replaced by an operator's hand, not by the service.
    """

    def __init__(self, path: str):
        self.path = path
        self._identity: tuple[int, int] | None = None
        self._found_at = 0.0

    def current(self) -> tuple[int, int] | None:
        now = time.monotonic()
        if self._identity is None or now - self._found_at >= IDENTITY_RECHECK_SECONDS:
            self._identity, self._found_at = _file_identity(self.path), now
        return self._identity


# The bytes of the -shm file a WAL reader locks to begin (WAL_READ_LOCK(0) to (4), at 120 + 3 + N:
# https://sqlite.org/walformat.html#the_wal_index_file_format).
WAL_READ_MARKS = range(123, 128)
# struct flock on Linux: l_type, l_whence, l_start, l_len, l_pid, padded to 32 bytes.
_FLOCK = "hhqqi4x"


class WalIndex:
    """The WAL index (`-shm` file) of a database, probed for locks without taking any.

    It tells when another process holds every WAL read mark, so that no read can begin. A reader
    then does not wait for the busy timeout: SQLite retries its read lock for about ten seconds,
    which on the event loop would stall every request of the worker. One F_GETLK per mark says so
    beforehand; the search then runs in a thread, under the guard.

    The file is opened once and its descriptor never closed: closing any descriptor of a file
    drops every POSIX lock the process holds on it, SQLite's own included (its connections' read
    marks, and the lock that tells other processes the index is in use). When the path names
    another file (the database was replaced), that one is opened, and the old descriptor is left
    open for the same reason: one descriptor per replacement.
    """

    def __init__(self, database: str):
        self.path = f"{database}-shm"
        self._file = FileIdentity(self.path)
        self._descriptor: int | None = None
        self._identity: tuple[int, int] | None = None

    def readers_locked_out(self) -> bool:
        descriptor = self._current_descriptor()
        if descriptor is None:
            return False  # no WAL index: not in WAL mode, or not opened yet
        for offset in WAL_READ_MARKS:
            probe = struct.pack(_FLOCK, fcntl.F_RDLCK, os.SEEK_SET, offset, 1, 0)
            holder = struct.unpack(_FLOCK, fcntl.fcntl(descriptor, fcntl.F_GETLK, probe))
            if holder[0] == fcntl.F_UNLCK:
                return False
        return True

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = self._identity = None

    def _current_descriptor(self) -> int | None:
        identity = self._file.current()
        if identity is None:
            return None
        if identity != self._identity:
            try:
                descriptor = os.open(self.path, os.O_RDONLY)
            except OSError:
                return None
            self._descriptor, self._identity = descriptor, _descriptor_identity(descriptor)
        return self._descriptor


def _descriptor_identity(descriptor: int) -> tuple[int, int]:
    found = os.fstat(descriptor)
    return found.st_dev, found.st_ino


# How long a search on the event loop may wait for a lock before giving up (to a thread).
INLINE_BUSY_TIMEOUT_MS = 5


def _search_on(
    connection: Any, page_sql: str, count_sql: str, params: dict[str, Any], request: SearchRequest
) -> SearchResult:
    cursor = connection.cursor()
    try:
        cursor.execute("BEGIN")  # app.db sets isolation_level None: no implicit transactions
        paging = {"limit": request.limit, "offset": request.offset}
        rows = cursor.execute(page_sql, {**params, **paging}).fetchall()
        total, version = total_and_version(
            rows,
            request,
            (count_sql, params),
            lambda sql, values: cursor.execute(sql, values).fetchone(),
        )
    finally:
        if connection.in_transaction:
            cursor.execute("ROLLBACK")
        cursor.close()
    return _result(rows, total, version, SqliteSearch.passage)


class PostgresSearch(_SqlBackend):
    """tsvector/tsquery, 'english' configuration; ts_rank weighs label (A), note (B), rest (C)."""

    page_sql = (
        "SELECT f.drug_slug, f.section, f.key, f.label,"
        " ts_rank(s.document, q.query, 1) AS score,"
        + ",".join(
            f" ts_headline('english', s.{column}, q.query, :headline) AS {name}"
            for column, name in (("note", "in_note"), ("label", "in_label"), ("extra", "in_extra"))
        )
        + ", {version} AS version"
        " FROM record_search AS s JOIN record AS f ON f.id = s.record_id,"
        " to_tsquery('english', :tsquery) AS q(query)"
        " WHERE s.document @@ q.query{where}"
        " ORDER BY {order} LIMIT :limit OFFSET :offset"
    )
    count_sql = (
        "SELECT count(*), {version}"
        " FROM record_search AS s JOIN record AS f ON f.id = s.record_id,"
        " to_tsquery('english', :tsquery) AS q(query)"
        " WHERE s.document @@ q.query{where}"
    )
    headline = f'StartSel="{_MATCH_START}", StopSel="{_MATCH_END}", MaxWords=24, MinWords=8'

    def query_params(self, request: SearchRequest) -> dict[str, Any]:
        return {"tsquery": tsquery(list(request.terms)), "headline": self.headline}

    @staticmethod
    def passage(row: Any) -> str:
        passages = (row.in_note, row.in_label, row.in_extra)
        return str(next((p for p in passages if _MATCH_START in p), row.in_note))


def backend_for(engine: Engine) -> SearchBackend:
    if engine.dialect.name == "sqlite":
        return SqliteSearch(engine)
    return PostgresSearch(engine)

"""SQLite's search on the event loop (`SqliteSearch.search_inline`): the same answers as the
threaded path, and a lock probe that leaves SQLite's own locks alone."""

from __future__ import annotations

import html
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import migrate_and_seed
from app.db import make_engine
from app.search import backends
from app.search.backends import SearchRequest, SearchSort, SqliteSearch, WalIndex
from app.search.query import fts5_match, search_terms

# Prints the pid of the process holding a lock that conflicts with a write lock on each byte.
LOCK_HOLDERS = """
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for offset in map(int, sys.argv[2:]):
    probe = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, offset, 1, 0)
    kind, _, _, _, pid = struct.unpack("hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, probe))
    print(pid if kind != fcntl.F_UNLCK else 0)
"""
# The WAL index's "in use" byte (DMS) and its first read mark, as SQLite lays them out.
DMS_BYTE, FIRST_READ_MARK = 128, 123


@pytest.fixture(scope="module")
def sqlite_search(
    tmp_path_factory: pytest.TempPathFactory, seed_dir: Path
) -> Iterator[SqliteSearch]:
    database = tmp_path_factory.mktemp("inline") / "inline.db"
    url = f"sqlite:///{database}"
    migrate_and_seed(url, seed_dir)
    engine = make_engine(url)
    backend = SqliteSearch(engine)
    yield backend
    backend.close()
    engine.dispose()
    backend.close_wal_index()


def source_queries(seed_dir: Path) -> list[str]:
    """Words of the source text, alone and in pairs, a few of each kind."""
    text = next((seed_dir / "sources").glob("*.txt")).read_text()
    words = list(dict.fromkeys(re.findall(r"[a-z]{4,}", text)))
    return [*words[:60], *(f"{a} {b}" for a, b in zip(words[60:100], words[100:140], strict=True))]


def test_inline_answers_equal_the_threaded_path(
    sqlite_search: SqliteSearch, seed_dir: Path
) -> None:
    compared = 0
    for query in source_queries(seed_dir):
        for sort in SearchSort:
            for limit, offset in ((1, 0), (3, 1), (100, 0)):
                wanted = SearchRequest(tuple(search_terms(query)), None, None, sort, limit, offset)
                inline = sqlite_search.search_inline(wanted)
                assert inline == sqlite_search.search(wanted), (query, sort, limit, offset)
                compared += len(inline.hits) if inline else 0
    assert compared > 500  # the queries found things, so the comparison compared hits


# Each column's snippet, for every hit: what the statement's one snippet must choose from.
EVERY_SNIPPET = (
    "SELECT f.key,"
    + ",".join(
        f" snippet(record_search, {column}, '<mark>', '</mark>', '…', 24)" for column in (2, 1, 3)
    )
    + " FROM record_search JOIN record AS f ON f.id = record_search.record_id"
    " WHERE record_search MATCH :match"
)


def test_each_snippet_is_of_the_note_if_it_matches_else_the_label_else_the_rest(
    sqlite_search: SqliteSearch, seed_dir: Path
) -> None:
    database = sqlite_search.engine.url.database
    assert database is not None
    reader = sqlite3.connect(database)
    chosen_from = {"note": 0, "label": 0, "rest": 0}
    try:
        for query in source_queries(seed_dir):
            terms = search_terms(query)
            wanted = SearchRequest(tuple(terms), None, None, SearchSort.relevance, 100, 0)
            result = sqlite_search.search_inline(wanted)
            assert result is not None
            match = fts5_match(terms)
            passages = {key: rest for key, *rest in reader.execute(EVERY_SNIPPET, {"match": match})}
            for hit in result.hits:
                note, label, rest = passages[hit.key]
                expected = next((p for p in (note, label, rest) if "<mark>" in p), note)
                assert hit.snippet == html.escape(expected).replace(
                    "&lt;mark&gt;", "<mark>"
                ).replace("&lt;/mark&gt;", "</mark>"), (query, hit.key)
                kind = "note" if expected is note else "label" if expected is label else "rest"
                chosen_from[kind] += 1
    finally:
        reader.close()
    assert all(count > 0 for count in chosen_from.values()), chosen_from  # each branch ran


def lock_holders(shm: str, *offsets: int) -> list[int]:
    found = subprocess.run(
        [sys.executable, "-c", LOCK_HOLDERS, shm, *map(str, offsets)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [int(line) for line in found.stdout.split()]


def test_probing_the_wal_index_leaves_the_locks_sqlite_holds(
    sqlite_search: SqliteSearch,
) -> None:
    """Closing a descriptor of a file drops every POSIX lock the process holds on it: a probe
    that opened and closed the -shm file would release the locks of SQLite's own connections."""
    database = sqlite_search.engine.url.database
    assert database is not None
    reader = sqlite3.connect(database, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM record").fetchone()  # a read mark, held until COMMIT
        shm = f"{database}-shm"
        me = os.getpid()
        assert me in lock_holders(shm, DMS_BYTE, *range(FIRST_READ_MARK, FIRST_READ_MARK + 5))
        probe = WalIndex(database)  # left open: closing it would drop the fixture's locks too
        for _ in range(3):
            assert probe.readers_locked_out() is False
        assert wanted_result_after_probe(sqlite_search)
        holders = lock_holders(shm, DMS_BYTE, *range(FIRST_READ_MARK, FIRST_READ_MARK + 5))
        assert holders[0] == me  # the "index in use" lock is still ours
        assert me in holders[1:]  # and so is the reader's read mark
    finally:
        reader.execute("COMMIT")
        reader.close()


def wanted_result_after_probe(sqlite_search: SqliteSearch) -> bool:
    wanted = SearchRequest(("baclofen",), None, None, SearchSort.relevance, 5, 0)
    result = sqlite_search.search_inline(wanted)
    return result is not None and len(result.hits) > 0


def test_the_probe_sees_every_read_mark_held_by_another_process(tmp_path: Path) -> None:
    database = tmp_path / "locked.db"
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (x)")
    probe = WalIndex(str(database))
    assert probe.readers_locked_out() is False
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR)\n"
            "fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 5, 123)\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
            f"{database}-shm",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        assert probe.readers_locked_out() is True
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert probe.readers_locked_out() is False
    connection.close()
    probe.close()


def test_a_file_identity_is_trusted_for_a_while_and_a_missing_file_looked_for_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "watched"
    watched = backends.FileIdentity(str(path))
    assert watched.current() is None
    path.write_text("first")  # looked for again: a file not found yet is not trusted missing
    first = watched.current()
    assert first is not None
    replacement = tmp_path / "replacement"
    replacement.write_text("second")
    os.replace(replacement, path)
    assert watched.current() == first  # within the interval: not looked up
    monkeypatch.setattr(backends, "IDENTITY_RECHECK_SECONDS", 0.0)
    assert watched.current() not in (None, first)

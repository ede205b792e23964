"""The search index of the list items (records): built by migration 0004 (which replaced 0002's
index of the facts), filled by the seed loader in its transaction; a dataset loaded before 0004
has no records, so 0004 unloads it and the next seed reloads it whole."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import func, inspect, select
from sqlmodel import Session

from app.cli import migrate_and_seed
from app.db import make_engine
from app.migrate import alembic_config, upgrade
from app.models import Dataset, Record
from app.search.backends import SearchRequest, SearchResult, SearchSort, backend_for
from app.search.index import INDEX_TABLE, record_search


def index_and_record_counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            indexed = session.execute(select(func.count()).select_from(record_search)).scalar_one()
            records = session.execute(select(func.count()).select_from(Record)).scalar_one()
        return int(indexed), int(records)
    finally:
        engine.dispose()


def search_tables(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        return [t for t in inspect(engine).get_table_names() if t.startswith(INDEX_TABLE)]
    finally:
        engine.dispose()


def hallucination_hits(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        request = SearchRequest(("hallucination",), None, None, SearchSort.relevance, 100, 0)
        result = backend_for(engine).search(request)
        with Session(engine) as session:
            assert result.version == session.get(Dataset, 1).version  # type: ignore[union-attr]
        return [hit.key for hit in result.hits]
    finally:
        engine.dispose()


def test_the_loader_indexes_every_record_once_even_when_reloading(
    fresh_database_url: str, seed_dir: Path
) -> None:
    migrate_and_seed(fresh_database_url, seed_dir, force=True)
    indexed, records = index_and_record_counts(fresh_database_url)
    assert indexed == records > 0
    first = hallucination_hits(fresh_database_url)
    assert first
    migrate_and_seed(fresh_database_url, seed_dir, force=True)
    assert index_and_record_counts(fresh_database_url) == (indexed, records)
    assert hallucination_hits(fresh_database_url) == first


def test_the_records_migration_unloads_an_older_dataset_and_the_next_seed_reloads_it(
    fresh_database_url: str, seed_dir: Path
) -> None:
    migrate_and_seed(fresh_database_url, seed_dir, force=True)
    before = hallucination_hits(fresh_database_url)
    command.downgrade(alembic_config(fresh_database_url), "0002")
    assert search_tables(fresh_database_url) == []  # FTS5's shadow tables included
    command.downgrade(alembic_config(fresh_database_url), "0001")
    upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    try:
        with Session(engine) as session:
            assert session.get(Dataset, 1) is None  # no records: nothing counts as loaded
    finally:
        engine.dispose()
    migrate_and_seed(fresh_database_url, seed_dir)  # not forced: it loads because nothing is loaded
    indexed, records = index_and_record_counts(fresh_database_url)
    assert indexed == records > 0
    assert hallucination_hits(fresh_database_url) == before


def test_a_database_with_no_dataset_answers_no_hits_and_no_version(
    fresh_database_url: str,
) -> None:
    upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    try:
        request = SearchRequest(("hallucination",), None, None, SearchSort.relevance, 10, 0)
        result = backend_for(engine).search(request)
    finally:
        engine.dispose()
    assert (result.hits, result.total, result.version) == ([], 0, None)


HOSTILE_TERMS = ["x'); DROP TABLE record; --", 'x"y', "x'y", 'a" OR "b', "c\\' & !d:*", "NEAR(e f)"]


def test_terms_reach_the_database_only_as_quoted_text(prepared_database: str) -> None:
    """The backends' query builders, on the real database, with terms no HTTP request can send
    (the API keeps letters and digits only): an unbalanced quote is no syntax error, and SQL and
    operators stay text."""
    engine = make_engine(prepared_database)
    try:
        for term in HOSTILE_TERMS:
            request = SearchRequest((term,), None, None, SearchSort.relevance, 10, 0)
            result = backend_for(engine).search(request)
            assert len(result.hits) <= result.total, term
        hits = hallucination_hits(prepared_database)
    finally:
        engine.dispose()
    indexed, records = index_and_record_counts(prepared_database)
    assert indexed == records > 0 and hits


def every_answer(url: str, queries: list[tuple[str, ...]]) -> list[SearchResult]:
    engine = make_engine(url)
    try:
        backend = backend_for(engine)
        return [
            backend.search(SearchRequest(terms, None, None, SearchSort.relevance, 50, 0))
            for terms in queries
        ]
    finally:
        engine.dispose()


def test_the_prefix_indexes_change_no_answer(fresh_database_url: str, seed_dir: Path) -> None:
    """Migration 0006 rebuilds SQLite's index with prefix indexes (1 to 25 characters): hits,
    scores, snippets and totals stay exactly as they were without them."""
    migrate_and_seed(fresh_database_url, seed_dir, force=True)
    text = next((seed_dir / "sources").glob("*.txt")).read_text()
    words = list(dict.fromkeys(text.split()))
    queries = [
        *((word,) for word in words[:150]),
        *((word[:length],) for word in words[:40] for length in range(1, 9)),
        *(tuple(pair) for pair in zip(words[150:190], words[190:230], strict=True)),
        ("pharmacokinetics" * 2,),  # a term longer than the longest prefix index
    ]
    with_prefixes = every_answer(fresh_database_url, queries)
    assert sum(len(result.hits) for result in with_prefixes) > 500
    command.downgrade(alembic_config(fresh_database_url), "0005")
    assert every_answer(fresh_database_url, queries) == with_prefixes
    upgrade(fresh_database_url)
    assert every_answer(fresh_database_url, queries) == with_prefixes
    engine = make_engine(fresh_database_url)
    try:
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                (created,) = connection.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name = 'record_search'"
                ).one()
            assert "prefix='1 2 3" in created
    finally:
        engine.dispose()

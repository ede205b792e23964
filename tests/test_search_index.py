"""The search index: built by migration 0002 (and removed by its downgrade), filled by the seed
loader in its transaction, and refilled from the loaded facts when 0002 runs on a seeded one."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import func, inspect, select
from sqlmodel import Session

from app.cli import prepare
from app.db import make_engine
from app.migrate import alembic_config, upgrade
from app.models import Dataset, Fact
from app.search.backends import SearchRequest, SearchSort, backend_for
from app.search.index import INDEX_TABLE, fact_search


def index_and_fact_counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            indexed = session.execute(select(func.count()).select_from(fact_search)).scalar_one()
            facts = session.execute(select(func.count()).select_from(Fact)).scalar_one()
        return int(indexed), int(facts)
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


def test_the_loader_indexes_every_fact_once_even_when_reloading(
    fresh_database_url: str, seed_dir: Path
) -> None:
    prepare(fresh_database_url, seed_dir, force=True)
    indexed, facts = index_and_fact_counts(fresh_database_url)
    assert indexed == facts > 0
    first = hallucination_hits(fresh_database_url)
    assert first
    prepare(fresh_database_url, seed_dir, force=True)
    assert index_and_fact_counts(fresh_database_url) == (indexed, facts)
    assert hallucination_hits(fresh_database_url) == first


def test_downgrade_removes_the_index_and_upgrade_refills_it_from_loaded_facts(
    fresh_database_url: str, seed_dir: Path
) -> None:
    prepare(fresh_database_url, seed_dir, force=True)
    before = hallucination_hits(fresh_database_url)
    command.downgrade(alembic_config(fresh_database_url), "0001")
    assert search_tables(fresh_database_url) == []  # FTS5's shadow tables included
    upgrade(fresh_database_url)
    indexed, facts = index_and_fact_counts(fresh_database_url)
    assert indexed == facts > 0
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


HOSTILE_TERMS = ["x'); DROP TABLE fact; --", 'x"y', "x'y", 'a" OR "b', "c\\' & !d:*", "NEAR(e f)"]


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
    indexed, facts = index_and_fact_counts(prepared_database)
    assert indexed == facts > 0 and hits

"""The seed loader: it validates everything, writes all or nothing, and is idempotent."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from app.db import make_engine
from app.migrate import upgrade
from app.models import Dataset as DatasetRow
from app.models import DrugAlias, Evidence, Fact, Record, Statement
from app.search.index import record_search
from app.seed.load import write_dataset
from app.seed.models import SeedError
from app.seed.reader import dataset_version, read_dataset

SECTION_FILE = "drugs/baclofen/withdrawal-symptoms.yaml"


@pytest.fixture
def seed_copy(seed_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "seed"
    shutil.copytree(seed_dir, copy)
    return copy


def edit_yaml(path: Path, change: Callable[[Any], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with Session(engine) as session:
        result = {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in (Fact, Evidence, Record, DrugAlias, Statement, DatasetRow)
        }
    engine.dispose()
    return result


def loaded_version(url: str) -> str | None:
    engine = make_engine(url)
    with Session(engine) as session:
        row = session.get(DatasetRow, 1)
    engine.dispose()
    return row.version if row else None


def load(url: str, seed: Path, force: bool = False) -> bool:
    engine = make_engine(url)
    try:
        return write_dataset(engine, read_dataset(seed), force=force).written
    finally:
        engine.dispose()


@pytest.fixture
def loaded_database(fresh_database_url: str, seed_dir: Path) -> str:
    upgrade(fresh_database_url)
    assert load(fresh_database_url, seed_dir)
    return fresh_database_url


def test_the_real_seed_is_valid(seed_dir: Path) -> None:
    dataset = read_dataset(seed_dir)
    assert dataset.fact_count() > 150
    assert re.fullmatch(r"[0-9a-f]{64}", dataset.version)


def test_the_version_is_the_content_of_every_data_file_wherever_it_lies(
    seed_copy: Path, seed_dir: Path
) -> None:
    """The same files elsewhere (another path, other mtimes) are one version; any byte changed
    in any data file, or a data file added, is another."""
    version = read_dataset(seed_dir).version
    assert read_dataset(seed_copy).version == version
    data_files = sorted(p for p in seed_copy.rglob("*") if p.suffix in (".yaml", ".txt"))
    assert len(data_files) >= 10
    seen = {version}
    for path in data_files:
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        seen.add(dataset_version(seed_copy))
        path.write_bytes(original)
    assert len(seen) == len(data_files) + 1
    assert dataset_version(seed_copy) == version
    (seed_copy / "drugs" / "baclofen" / "extra.txt").write_text("x", encoding="utf-8")
    assert dataset_version(seed_copy) != version


def test_loading_twice_writes_once_and_duplicates_nothing(
    loaded_database: str, seed_dir: Path
) -> None:
    before = counts(loaded_database)
    assert before["Fact"] == read_dataset(seed_dir).fact_count()
    assert load(loaded_database, seed_dir) is False
    assert load(loaded_database, seed_dir, force=True) is True
    assert counts(loaded_database) == before


def test_an_edited_seed_has_a_new_version(seed_copy: Path, seed_dir: Path) -> None:
    edit_yaml(seed_copy / SECTION_FILE, lambda facts: facts[0].update(label="Changed"))
    assert dataset_version(seed_copy) != dataset_version(seed_dir)


def _shift_offsets(facts: list[dict[str, Any]]) -> None:
    span = facts[0]["evidence"][0]
    span["start"] += 1
    span["end"] += 1


def _wrong_quote(facts: list[dict[str, Any]]) -> None:
    facts[1]["evidence"][0]["quote"] = "visual hallucinations?"


def _missing_label(facts: list[dict[str, Any]]) -> None:
    del facts[2]["label"]


def _duplicate_id(facts: list[dict[str, Any]]) -> None:
    facts[3]["id"] = facts[4]["id"]


def _unknown_attribute(facts: list[dict[str, Any]]) -> None:
    facts[5]["attributes"]["colour"] = "blue"


def _unknown_citation(facts: list[dict[str, Any]]) -> None:
    facts[6]["evidence"].append({"citation": "no-such-citation", "quote": "x", "verified": False})


def _cut_word(facts: list[dict[str, Any]]) -> None:
    span = facts[7]["evidence"][0]
    span["end"] -= 1
    span["quote"] = span["quote"][:-1]


def _start_mid_word(facts: list[dict[str, Any]]) -> None:
    span = facts[8]["evidence"][0]
    span["start"] += 1
    span["quote"] = span["quote"][1:]


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (_shift_offsets, "does not match the text"),
        (_wrong_quote, "does not match the text"),
        (_missing_label, "label: Field required"),
        (_duplicate_id, "duplicate fact id"),
        (_unknown_attribute, "colour: Extra inputs are not permitted"),
        (_unknown_citation, "unknown citation 'no-such-citation'"),
        (_cut_word, "cuts a word"),
        (_start_mid_word, "cuts a word"),
    ],
)
def test_a_bad_record_is_named_and_nothing_is_written(
    break_it: Callable[[Any], None], expected: str, seed_copy: Path, loaded_database: str
) -> None:
    before_counts, before_version = counts(loaded_database), loaded_version(loaded_database)
    edit_yaml(seed_copy / SECTION_FILE, break_it)

    with pytest.raises(SeedError) as refused:
        load(loaded_database, seed_copy, force=True)

    problems = [str(p) for p in refused.value.problems]
    assert any(SECTION_FILE in p and expected in p for p in problems), problems
    assert counts(loaded_database) == before_counts
    assert loaded_version(loaded_database) == before_version


def test_every_bad_record_is_listed_at_once(seed_copy: Path) -> None:
    def break_two(facts: list[dict[str, Any]]) -> None:
        _shift_offsets(facts)
        _missing_label(facts)

    edit_yaml(seed_copy / SECTION_FILE, break_two)
    with pytest.raises(SeedError) as refused:
        read_dataset(seed_copy)
    assert len(refused.value.problems) >= 2
    assert "nothing was written" in str(refused.value)


def test_an_unknown_section_file_is_refused(seed_copy: Path) -> None:
    shutil.copy(seed_copy / SECTION_FILE, seed_copy / "drugs/baclofen/contraindications.yaml")
    with pytest.raises(SeedError, match="unknown section 'contraindications'"):
        read_dataset(seed_copy)


def test_a_gap_between_statements_is_refused(seed_copy: Path) -> None:
    path = seed_copy / "sources/baclofen-wikipedia.statements.yaml"

    def drop_second(statements: list[dict[str, Any]]) -> None:
        del statements[1]

    edit_yaml(path, drop_second)
    with pytest.raises(SeedError, match="statements must follow each other"):
        read_dataset(seed_copy)


def test_a_statement_nobody_cites_is_refused(seed_copy: Path) -> None:
    """Coverage: a statement of the source cited by no fact and given no reason fails the load."""
    path = seed_copy / "sources/baclofen-wikipedia.statements.yaml"
    statements = yaml.safe_load(path.read_text(encoding="utf-8"))
    target = statements[0]

    def overlaps(evidence: dict[str, Any]) -> bool:
        return "start" in evidence and (
            evidence["start"] < target["end"] and target["start"] < evidence["end"]
        )

    def drop_citations(facts: list[dict[str, Any]]) -> None:
        facts[:] = [f for f in facts if not any(overlaps(e) for e in f["evidence"])]

    for section_file in (seed_copy / "drugs/baclofen").glob("*.yaml"):
        if section_file.name != "drug.yaml":
            edit_yaml(section_file, drop_citations)
    with pytest.raises(SeedError, match=f"id={target['id']}"):
        read_dataset(seed_copy)


STATEMENTS_FILE = "sources/baclofen-wikipedia.statements.yaml"


def test_a_statement_whose_quote_is_not_the_text_at_its_offsets_is_refused(
    seed_copy: Path,
) -> None:
    def misquote(statements: list[dict[str, Any]]) -> None:
        statements[3]["quote"] = statements[4]["quote"]

    edit_yaml(seed_copy / STATEMENTS_FILE, misquote)
    with pytest.raises(SeedError) as refused:
        read_dataset(seed_copy)
    problems = [str(p) for p in refused.value.problems]
    assert any(STATEMENTS_FILE in p and "does not match the text" in p for p in problems), problems


def index_rows(url: str) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return int(
                session.execute(select(func.count()).select_from(record_search)).scalar_one()
            )
    finally:
        engine.dispose()


def fail_index_inserts(url: str) -> None:
    """Make the database refuse rows for the search index, the last thing the loader writes.

    A fault in the database, as a full disk would make it; the loader's code is untouched. On
    SQLite the index is an FTS5 table whose rows land in its real table record_search_content.
    """
    engine = make_engine(url)
    statements = (
        [
            "CREATE TRIGGER refuse_index BEFORE INSERT ON record_search_content"
            " BEGIN SELECT RAISE(ABORT, 'the index refuses rows'); END"
        ]
        if engine.dialect.name == "sqlite"
        else [
            "CREATE FUNCTION refuse_index() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'the index refuses rows'; END $$",
            "CREATE TRIGGER refuse_index BEFORE INSERT ON record_search"
            " FOR EACH ROW EXECUTE FUNCTION refuse_index()",
        ]
    )
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def test_a_failure_while_indexing_leaves_the_loaded_dataset_whole(
    loaded_database: str, seed_copy: Path
) -> None:
    before = (counts(loaded_database), loaded_version(loaded_database), index_rows(loaded_database))
    assert before[2] == before[0]["Record"]
    edit_yaml(seed_copy / SECTION_FILE, lambda facts: facts[0].update(label="Changed"))
    fail_index_inserts(loaded_database)

    with pytest.raises(DBAPIError) as refused:
        load(loaded_database, seed_copy, force=True)
    # The statement that failed is the index fill (SQLite's message does not carry the reason).
    assert "INSERT INTO record_search " in str(refused.value)

    after = (counts(loaded_database), loaded_version(loaded_database), index_rows(loaded_database))
    assert after == before

"""The schema the migrations build is the models' schema, with the same names, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from app.db import make_engine
from app.migrate import upgrade
from app.models import Citation, Dataset, Drug, Evidence, Fact, Source
from app.search.index import include_in_autogenerate


@pytest.fixture
def migrated(fresh_database_url: str) -> Iterator[Engine]:
    upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    yield engine
    engine.dispose()


def test_the_migrations_build_exactly_the_models(migrated: Engine) -> None:
    with migrated.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_in_autogenerate}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_constraints_carry_the_naming_convention(migrated: Engine) -> None:
    schema = inspect(migrated)
    checks = {c["name"] for c in schema.get_check_constraints("evidence")}
    foreign_keys = {fk["name"] for fk in schema.get_foreign_keys("evidence")}
    assert "ck_evidence_span_or_citation" in checks
    assert foreign_keys == {
        "fk_evidence_fact_id_fact",
        "fk_evidence_source_id_source",
        "fk_evidence_citation_id_citation",
    }
    assert schema.get_pk_constraint("fact")["name"] == "pk_fact"
    assert {u["name"] for u in schema.get_unique_constraints("fact")} == {"uq_fact_drug_slug"}


def _one_fact(session: Session, attributes: dict[str, object]) -> int:
    session.execute(
        insert(Source).values(
            id="s", title="t", url="u", license="l", license_url="lu", sha256="0" * 64, text="a b c"
        )
    )
    session.execute(insert(Citation).values(id="c", title="t", url="u"))
    session.execute(insert(Drug).values(slug="d", name="D", summary="s", source_id="s"))
    session.execute(
        insert(Fact).values(
            id=1,
            drug_slug="d",
            key="k",
            section="overview",
            position=0,
            label="L",
            note="N",
            attributes=attributes,
        )
    )
    return 1


def test_json_attributes_and_the_quoted_end_column_round_trip(migrated: Engine) -> None:
    attributes = {"term": "spasticité", "codes": [{"system": "HPO", "code": "HP:1"}], "n": 1.5}
    with Session(migrated) as session, session.begin():
        fact_id = _one_fact(session, attributes)
        session.execute(
            insert(Evidence).values(
                fact_id=fact_id, position=0, source_id="s", start=2, end=3, quote="b"
            )
        )
    with Session(migrated) as session:
        assert session.exec(select(Fact.attributes)).one() == attributes
        assert session.exec(select(Evidence.start, Evidence.end)).one() == (2, 3)


@pytest.mark.parametrize(
    "evidence",
    [
        {"source_id": "s", "start": 0, "end": 1, "citation_id": "c"},  # both kinds at once
        {"source_id": "s", "start": 0},  # a span without its end
        {},  # neither
    ],
)
def test_evidence_is_a_whole_span_or_a_citation(
    migrated: Engine, evidence: dict[str, object]
) -> None:
    with Session(migrated) as session, session.begin():
        _one_fact(session, {})
    with pytest.raises(IntegrityError), Session(migrated) as session, session.begin():
        session.execute(insert(Evidence).values(fact_id=1, position=0, quote="a", **evidence))


def test_load_times_come_back_in_utc(prepared_database: str) -> None:
    engine = make_engine(prepared_database)
    try:
        with Session(engine) as session:
            loaded_at = session.exec(select(Dataset.loaded_at)).one()
    finally:
        engine.dispose()
    assert loaded_at.utcoffset() == timedelta(0)

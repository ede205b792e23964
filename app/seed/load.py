"""Writing a validated dataset: all of it in one transaction, or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert
from sqlmodel import Session, SQLModel, select

from app.domain.names import normalize_name
from app.domain.sections import Section
from app.models import (
    Citation,
    CitationBase,
    Dataset,
    DatasetHistory,
    Drug,
    DrugAlias,
    DrugIdentifier,
    Evidence,
    Fact,
    IdentifierBase,
    Record,
    RecordFact,
    Source,
    SourceBase,
    Statement,
    StatementBase,
)
from app.search.index import clear_index, fill_index
from app.seed.models import CitationEvidence, DrugData, SeedDataset, SeedFact

# Children before parents, so deleting in this order never breaks a foreign key.
TABLES_IN_DELETE_ORDER: list[type[SQLModel]] = [
    RecordFact,
    Record,
    Evidence,
    DrugAlias,
    Fact,
    DrugIdentifier,
    Drug,
    Statement,
    Source,
    Citation,
    Dataset,
]


@dataclass(frozen=True)
class LoadResult:
    version: str
    written: bool
    facts: int
    # Set when a newer release was found loaded and kept: its version and release.
    kept_newer: tuple[str, int] | None = None
    # Set when --force replaced a newer release: its version and release.
    replaced_newer: tuple[str, int] | None = None


def loaded_version(session: Session) -> str | None:
    row = session.get(Dataset, 1)
    return row.version if row else None


def write_dataset(engine: Engine, dataset: SeedDataset, *, force: bool = False) -> LoadResult:
    """Replace whatever is loaded with `dataset` in one transaction; skip if already loaded.

    Readers see the old dataset or the new one, never a mix: the replacement commits at once.
    """
    with Session(engine) as session, session.begin():
        loaded = session.get(Dataset, 1)
        newer = _newer_release(loaded, dataset)
        if not force and loaded is not None and loaded.version == dataset.version:
            return LoadResult(dataset.version, written=False, facts=dataset.fact_count())
        if not force and newer is not None:
            return LoadResult(dataset.version, False, dataset.fact_count(), kept_newer=newer)
        clear_index(session)  # first: on PostgreSQL its rows reference the facts
        for table in TABLES_IN_DELETE_ORDER:
            session.execute(delete(table))
        rows = dict(_rows(dataset))
        for model, model_rows in rows.items():
            if model_rows:
                session.execute(insert(model), model_rows)
        fill_index(session, rows[Record], rows[RecordFact], rows[Fact], rows[Evidence])
        _record_history(session, rows[Dataset][0], forced=newer is not None)
    return LoadResult(dataset.version, True, dataset.fact_count(), replaced_newer=newer)


def _newer_release(loaded: Dataset | None, dataset: SeedDataset) -> tuple[str, int] | None:
    """The loaded dataset's (version, release) when its release is higher than `dataset`'s.

    Releases order versions (seed/dataset.yaml); equal releases are not ordered, so a load of
    the same release with other content replaces it (a curator's edit before a release).
    """
    if loaded is None or loaded.release is None or loaded.release <= dataset.release:
        return None
    return loaded.version, loaded.release


def _record_history(session: Session, loaded: dict[str, Any], *, forced: bool) -> None:
    """Keep every load, in order: the dataset table holds only the current one."""
    keys = ("version", "release", "loaded_at", "fact_count")
    session.execute(insert(DatasetHistory), [{**{k: loaded[k] for k in keys}, "forced": forced}])


def _rows(dataset: SeedDataset) -> list[tuple[type[SQLModel], list[dict[str, Any]]]]:
    sources = [
        dict(**s.source.model_dump(include=_fields(SourceBase)), sha256=s.sha256, text=s.text)
        for s in dataset.sources.values()
    ]
    statements = [
        dict(source_id=source_id, key=st.id, **st.model_dump(include=_fields(StatementBase)))
        for source_id, s in dataset.sources.items()
        for st in s.statements
    ]
    citations = [c.model_dump(include=_fields(CitationBase)) for c in dataset.citations.values()]
    Rows = list[dict[str, Any]]
    drugs: Rows = []
    identifiers: Rows = []
    aliases: Rows = []
    facts: Rows = []
    evidence: Rows = []
    records: Rows = []
    links: Rows = []
    for data in dataset.drugs:
        drug = data.drug
        drugs.append(
            dict(slug=drug.slug, name=drug.name, summary=drug.summary, source_id=drug.source)
        )
        identifiers += [
            dict(drug_slug=drug.slug, position=i, **x.model_dump(include=_fields(IdentifierBase)))
            for i, x in enumerate(drug.identifiers)
        ]
        aliases += _aliases(data)
        for section, section_facts in data.facts.items():
            for position, fact in enumerate(section_facts):
                fact_id = len(facts) + 1
                facts.append(
                    dict(
                        id=fact_id,
                        drug_slug=drug.slug,
                        key=fact.id,
                        section=section.value,
                        position=position,
                        label=fact.label,
                        note=fact.note,
                        attributes=fact.attributes,
                        former_keys=fact.former_ids,
                        ambiguity=_ambiguity(fact),
                    )
                )
                evidence += [_evidence_row(fact_id, i, e) for i, e in enumerate(fact.evidence)]
        fact_ids = {row["key"]: row["id"] for row in facts if row["drug_slug"] == drug.slug}
        for section, section_records in data.records.items():
            for position, record in enumerate(section_records):
                record_id = len(records) + 1
                records.append(
                    dict(
                        id=record_id,
                        drug_slug=drug.slug,
                        key=record.id,
                        section=section.value,
                        position=position,
                        label=record.label,
                        note=record.note,
                        attributes=record.attributes,
                    )
                )
                links += [
                    dict(record_id=record_id, fact_id=fact_ids[key], position=i)
                    for i, key in enumerate(record.facts)
                ]
    loaded = dict(
        id=1,
        version=dataset.version,
        loaded_at=datetime.now(UTC),
        fact_count=dataset.fact_count(),
        release=dataset.release,
    )
    return [
        (Citation, citations),
        (Source, sources),
        (Statement, statements),
        (Drug, drugs),
        (DrugIdentifier, identifiers),
        (DrugAlias, aliases),
        (Fact, facts),
        (Evidence, evidence),
        (Record, records),
        (RecordFact, links),
        (Dataset, [loaded]),
    ]


def _fields(base: type[SQLModel]) -> set[str]:
    """The fields a seed record shares with its table (their common base in app/models.py)."""
    return set(base.model_fields)


def _evidence_row(fact_id: int, position: int, evidence: Any) -> dict[str, Any]:
    if isinstance(evidence, CitationEvidence):
        return dict(
            fact_id=fact_id,
            position=position,
            citation_id=evidence.citation,
            source_id=None,
            start=None,
            end=None,
            quote=evidence.text,
            kind=evidence.kind.value,
            verified=evidence.verified,
            restores=evidence.restores,
            flags=None,
        )
    return dict(
        fact_id=fact_id,
        position=position,
        citation_id=None,
        source_id=evidence.source,
        start=evidence.start,
        end=evidence.end,
        quote=evidence.quote,
        kind=None,
        verified=None,
        restores=None,
        flags=[flag.value for flag in evidence.flags],
    )


def _ambiguity(fact: SeedFact) -> dict[str, Any] | None:
    return fact.ambiguity.model_dump(mode="json") if fact.ambiguity else None


def _aliases(data: DrugData) -> list[dict[str, Any]]:
    """The slug, the name and every name fact, normalised once (first kind wins on a clash)."""
    names = [(data.drug.slug, "slug"), (data.drug.name, "name")]
    names += [
        (fact.attributes["name"], fact.attributes["name_kind"])
        for fact in data.facts.get(Section.names, [])
    ]
    rows: dict[str, dict[str, Any]] = {}
    for name, kind in names:
        key = normalize_name(name)
        rows.setdefault(key, dict(drug_slug=data.drug.slug, name=name, normalized=key, kind=kind))
    return list(rows.values())


def current_version(engine: Engine) -> str | None:
    with Session(engine) as session:
        return session.exec(select(Dataset.version)).first()

"""The read side: an immutable in-memory snapshot of one dataset version.

The data is small and changes only when it is re-seeded, so each worker builds every representation
once per dataset version and answers reads from memory; the database is off the hot path. A
background task asks the database for its dataset version every few seconds and swaps in a new
snapshot when it changed: a request sees one version whole, never a mix.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from app.api.responses import ResponseCache
from app.api.schemas import (
    ITEM_MODELS,
    Coverage,
    DrugSummary,
    FactRef,
    SectionLink,
    SourceText,
    StatementCoverage,
)
from app.db import snapshot_reads
from app.domain.names import normalize_name
from app.domain.sections import Section
from app.models import (
    Citation,
    Dataset,
    Drug,
    DrugAlias,
    DrugIdentifier,
    Evidence,
    Fact,
    Source,
    Statement,
)
from app.outage import DatabaseGuard, DatabaseUnavailableError
from app.search.lookup import KnownName

logger = logging.getLogger("app.catalog")


@dataclass(frozen=True)
class DrugEntry:
    slug: str
    name: str
    summary: dict[str, Any]
    sections: dict[Section, list[dict[str, Any]]]
    by_id: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Catalog:
    version: str
    loaded_at: datetime
    fact_count: int
    drugs: dict[str, DrugEntry]
    aliases: dict[str, str]
    sources: dict[str, dict[str, Any]]
    coverage: dict[str, dict[str, Any]] = field(repr=False)
    names: list[KnownName] = field(default_factory=list, repr=False)
    # The responses built from this snapshot (see app.api.responses): they die with it.
    responses: ResponseCache = field(default_factory=ResponseCache, repr=False, compare=False)

    def resolve(self, name: str) -> DrugEntry | None:
        """The drug a slug, name, brand or synonym names, in any letter case."""
        slug = self.aliases.get(normalize_name(name))
        return self.drugs.get(slug) if slug else None


def load_catalog(engine: Engine) -> Catalog | None:
    """Build the snapshot from the database, or None when no dataset is loaded.

    Every query reads the same database state, so a re-seed committing meanwhile cannot mix in.
    """
    with Session(snapshot_reads(engine)) as session:
        dataset = session.get(Dataset, 1)
        if dataset is None:
            return None
        citations = {c.id: c for c in session.exec(select(Citation))}
        sources = list(session.exec(select(Source)))
        evidence_by_fact: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for evidence in session.exec(select(Evidence).order_by(col(Evidence.position))):
            evidence_by_fact[evidence.fact_id].append(_evidence(evidence, citations))
        facts_by_drug: dict[str, list[Fact]] = defaultdict(list)
        for fact in session.exec(select(Fact).order_by(col(Fact.section), col(Fact.position))):
            facts_by_drug[fact.drug_slug].append(fact)
        identifiers: dict[str, list[DrugIdentifier]] = defaultdict(list)
        for identifier in session.exec(
            select(DrugIdentifier).order_by(col(DrugIdentifier.position))
        ):
            identifiers[identifier.drug_slug].append(identifier)
        drugs = {
            drug.slug: _drug_entry(
                drug,
                dataset.version,
                facts_by_drug[drug.slug],
                evidence_by_fact,
                identifiers[drug.slug],
            )
            for drug in session.exec(select(Drug).order_by(col(Drug.slug)))
        }
        alias_rows = list(session.exec(select(DrugAlias).order_by(col(DrugAlias.id))))
        aliases = {a.normalized: a.drug_slug for a in alias_rows}
        statements = session.exec(select(Statement).order_by(col(Statement.start))).all()
        spans = [
            (e["source"], e["start"], e["end"], fact)
            for facts in facts_by_drug.values()
            for fact in facts
            for e in evidence_by_fact[fact.id or 0]
            if e["type"] == "source_span"
        ]
        return Catalog(
            version=dataset.version,
            loaded_at=dataset.loaded_at,
            fact_count=dataset.fact_count,
            drugs=drugs,
            aliases=aliases,
            sources={s.id: _source(s) for s in sources},
            coverage={
                s.id: _coverage(s, [st for st in statements if st.source_id == s.id], spans)
                for s in sources
            },
            names=_known_names(drugs, alias_rows),
        )


def _known_names(drugs: dict[str, DrugEntry], aliases: list[DrugAlias]) -> list[KnownName]:
    """Every drug's slug and display name, then its other names with their kind (for lookup)."""
    names = [KnownName(d.slug, d.slug, "slug") for d in drugs.values()]
    names += [KnownName(d.slug, d.name, "name") for d in drugs.values()]
    names += [
        KnownName(a.drug_slug, a.name, a.kind) for a in aliases if a.kind not in ("slug", "name")
    ]
    return names


def _evidence(evidence: Evidence, citations: dict[str, Citation]) -> dict[str, Any]:
    if evidence.citation_id is not None:
        citation = citations[evidence.citation_id]
        return {
            "type": "external_citation",
            "external": True,
            "citation": citation.id,
            "title": citation.title,
            "url": citation.url,
            "quote": evidence.quote,
        }
    return {
        "type": "source_span",
        "source": evidence.source_id,
        "start": evidence.start,
        "end": evidence.end,
        "quote": evidence.quote,
        "source_url": f"/v1/sources/{evidence.source_id}",
    }


def _drug_entry(
    drug: Drug,
    version: str,
    facts: list[Fact],
    evidence_by_fact: dict[int, list[dict[str, Any]]],
    identifiers: list[DrugIdentifier],
) -> DrugEntry:
    sections: dict[Section, list[dict[str, Any]]] = {section: [] for section in Section}
    for fact in facts:
        section = Section(fact.section)
        assert fact.id is not None
        item = ITEM_MODELS[section].model_validate(
            {
                "id": fact.key,
                "section": section,
                "label": fact.label,
                "note": fact.note,
                "evidence": evidence_by_fact[fact.id],
                **fact.attributes,
            }
        )
        sections[section].append(item.model_dump(mode="json"))
    names = [item["name"] for item in sections[Section.names]]
    summary = DrugSummary(
        slug=drug.slug,
        name=drug.name,
        summary=drug.summary,
        source=drug.source_id,
        dataset_version=version,
        identifiers=[i.model_dump(exclude={"id", "drug_slug", "position"}) for i in identifiers],
        names=names,
        sections=[
            SectionLink(
                section=section, href=f"/v1/drugs/{drug.slug}/{section.value}", count=len(items)
            )
            for section, items in sections.items()
            if section is not Section.overview
        ],
        overview=sections[Section.overview],
    )
    by_id = {item["id"]: item for items in sections.values() for item in items}
    return DrugEntry(drug.slug, drug.name, summary.model_dump(mode="json"), sections, by_id)


def _coverage(
    source: Source, statements: list[Statement], spans: list[tuple[str, int, int, Fact]]
) -> dict[str, Any]:
    """Each statement with the facts citing it, and the share of the text the evidence covers."""
    own = [(start, end, fact) for source_id, start, end, fact in spans if source_id == source.id]
    covered = [False] * len(source.text)
    for start, end, _ in own:
        covered[start:end] = [True] * (end - start)
    visible = [i for i, ch in enumerate(source.text) if not ch.isspace()]
    rows = []
    for st in statements:
        citing = {
            (f.drug_slug, f.section, f.key): f
            for start, end, f in own
            if start < st.end and st.start < end
        }
        rows.append(
            StatementCoverage(
                id=st.key,
                start=st.start,
                end=st.end,
                text=source.text[st.start : st.end],
                uncited_reason=None if citing else st.uncited_reason,
                cited_by=[
                    FactRef(
                        drug=drug,
                        section=Section(section),
                        id=key,
                        href=f"/v1/drugs/{drug}/{section}/{key}",
                    )
                    for drug, section, key in sorted(citing)
                ],
            )
        )
    cited = sum(1 for row in rows if row.cited_by)
    with_reason = sum(1 for row in rows if not row.cited_by and row.uncited_reason)
    return Coverage(
        source=source.id,
        statements_total=len(rows),
        statements_cited=cited,
        statements_with_reason=with_reason,
        statements_unaccounted=len(rows) - cited - with_reason,
        characters_covered_share=round(sum(covered[i] for i in visible) / max(len(visible), 1), 4),
        statements=rows,
    ).model_dump(mode="json")


def _source(source: Source) -> dict[str, Any]:
    return SourceText(
        id=source.id,
        title=source.title,
        url=source.url,
        license=source.license,
        license_url=source.license_url,
        sha256=source.sha256,
        length=len(source.text),
        text=source.text,
    ).model_dump(mode="json")


class CatalogStore:
    """Holds the current snapshot and replaces it when the database has a new dataset version."""

    def __init__(self, engine: Engine, check_seconds: float, guard: DatabaseGuard | None = None):
        self.engine = engine
        self.check_seconds = check_seconds
        self.catalog: Catalog | None = None
        # Every database call made while serving goes through it (app/outage.py).
        self.guard = guard or DatabaseGuard(timeout=30.0, retry_after=5)

    def refresh(self) -> bool:
        """Reload if the database's dataset version differs from ours; True if it changed."""
        with Session(self.engine) as session:
            version = session.exec(select(Dataset.version)).first()
        if version is None or (self.catalog and self.catalog.version == version):
            return False
        catalog = load_catalog(self.engine)
        if catalog is None:
            return False
        self.catalog = catalog
        logger.info("serving dataset %s (%d facts)", catalog.version[:12], catalog.fact_count)
        return True

    async def wait_until_loaded(self, timeout: float) -> None:
        """Block start-up until a dataset is loaded: a worker never serves an empty catalog."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                await asyncio.to_thread(self.refresh)
            except DBAPIError as error:  # not migrated yet: another process is preparing it
                logger.info("waiting for the database: %s", type(error).__name__)
            if self.catalog is not None:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError("no dataset is loaded: run `monograph seed` first")
            await asyncio.sleep(0.2)

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(self.check_seconds)
            try:
                # Only the version check is bounded: building a new snapshot is CPU work that
                # may take a while on a busy machine without the database being at fault.
                version = await self.guard.call(self.database_version)
                if version is not None and (
                    self.catalog is None or version != self.catalog.version
                ):
                    await asyncio.to_thread(self.refresh)
            except DatabaseUnavailableError:  # logged once per outage by the guard
                pass
            except Exception:  # anything else must not kill the watcher either
                logger.exception("could not check the dataset version")

    def database_version(self) -> str | None:
        with Session(self.engine) as session:
            return session.exec(select(Dataset.version)).first()

    async def check_database(self) -> None:
        def ping() -> None:
            with Session(self.engine) as session:
                session.exec(select(Dataset.version)).first()

        await self.guard.call(ping)

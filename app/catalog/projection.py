"""Projection: the database's tables turned into a snapshot (app/catalog/snapshot.py).

The data is small and changes only when it is re-seeded, so each worker builds every representation
once per dataset version and answers reads from memory; the database is off the hot path.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.catalog.snapshot import Catalog, DrugEntry
from app.db import snapshot_reads
from app.domain.sections import FACT_ATTRIBUTES, Section
from app.models import (
    Citation,
    Dataset,
    Drug,
    DrugAlias,
    DrugIdentifier,
    Evidence,
    Fact,
    Record,
    RecordFact,
    Source,
    Statement,
)
from app.schemas import (
    ITEM_MODELS,
    Coverage,
    DrugSummary,
    ExternalCitation,
    FactItem,
    FactRef,
    FactsLink,
    Identifier,
    RecordRef,
    SectionLink,
    SourceSpan,
    SourceText,
    StatementCoverage,
)
from app.search.lookup import KnownName, NameIndex


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
        records_by_drug: dict[str, list[Record]] = defaultdict(list)
        for record in session.exec(select(Record).order_by(col(Record.id))):
            records_by_drug[record.drug_slug].append(record)
        links: dict[int, list[int]] = defaultdict(list)
        for link in session.exec(
            select(RecordFact).order_by(col(RecordFact.record_id), col(RecordFact.position))
        ):
            links[link.record_id].append(link.fact_id)
        identifiers: dict[str, list[DrugIdentifier]] = defaultdict(list)
        for identifier in session.exec(
            select(DrugIdentifier).order_by(col(DrugIdentifier.position))
        ):
            identifiers[identifier.drug_slug].append(identifier)
        drugs = {
            drug.slug: _drug_entry(
                drug,
                dataset.version,
                _Statements(facts_by_drug[drug.slug], evidence_by_fact),
                records_by_drug[drug.slug],
                links,
                identifiers[drug.slug],
            )
            for drug in session.exec(select(Drug).order_by(col(Drug.slug)))
        }
        alias_rows = list(session.exec(select(DrugAlias).order_by(col(DrugAlias.id))))
        statements = session.exec(select(Statement).order_by(col(Statement.start))).all()
        spans = [
            (e["source"], e["start"], e["end"], fact.drug_slug, fact.key)
            for facts in facts_by_drug.values()
            for fact in facts
            for e in evidence_by_fact[fact.id or 0]
            if e["type"] == "source_span"
        ]
        return Catalog(
            version=dataset.version,
            loaded_at=dataset.loaded_at,
            fact_count=dataset.fact_count,
            record_count=sum(len(records) for records in records_by_drug.values()),
            drugs=drugs,
            sources={s.id: _source(s) for s in sources},
            coverage={
                s.id: _coverage(s, [st for st in statements if st.source_id == s.id], spans, drugs)
                for s in sources
            },
            names=NameIndex(_known_names(drugs, alias_rows)),
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
    """One evidence row as the API serves it: an external citation or a span of a source."""
    if evidence.citation_id is not None:
        citation = citations[evidence.citation_id]
        is_value = evidence.kind == "value"
        return ExternalCitation.model_validate(
            {
                "type": "external_citation",
                "external": True,
                "citation": citation.id,
                "title": citation.title,
                "url": citation.url,
                "kind": evidence.kind,
                "quote": None if is_value else evidence.quote,
                "value": evidence.quote if is_value else None,
                "verified": evidence.verified,
                "restores": evidence.restores or [],
            }
        ).model_dump(mode="json")
    return SourceSpan.model_validate(
        {
            "type": "source_span",
            "source": evidence.source_id,
            "start": evidence.start,
            "end": evidence.end,
            "quote": evidence.quote,
            "source_url": f"/v1/sources/{evidence.source_id}",
            "flags": evidence.flags or [],
        }
    ).model_dump(mode="json")


@dataclass(frozen=True)
class _Statements:
    """One drug's fact rows with their evidence, as the snapshot is built from them."""

    rows: list[Fact]
    evidence: dict[int, list[dict[str, Any]]]


def _drug_entry(
    drug: Drug,
    version: str,
    statements: _Statements,
    records: list[Record],
    links: dict[int, list[int]],
    identifiers: list[DrugIdentifier],
) -> DrugEntry:
    fact_rows = {fact.id: fact for fact in statements.rows}
    sections: dict[Section, list[dict[str, Any]]] = {section: [] for section in Section}
    holder: dict[str, RecordRef] = {}
    for record in records:
        section = Section(record.section)
        gathered = [fact_rows[fact_id] for fact_id in links[record.id or 0]]
        ref = RecordRef(
            id=record.key, section=section, href=f"/v1/drugs/{drug.slug}/{section}/{record.key}"
        )
        holder |= {fact.key: ref for fact in gathered}
        sections[section].append(_item(section, record, gathered, statements.evidence))
    facts = [
        _fact(drug.slug, fact, statements.evidence, holder[fact.key]) for fact in statements.rows
    ]
    names = [item["name"] for item in sections[Section.names]]
    summary = DrugSummary(
        slug=drug.slug,
        name=drug.name,
        summary=drug.summary,
        source=drug.source_id,
        dataset_version=version,
        identifiers=[Identifier.model_validate(i, from_attributes=True) for i in identifiers],
        names=names,
        sections=[
            SectionLink(
                section=section, href=f"/v1/drugs/{drug.slug}/{section.value}", count=len(items)
            )
            for section, items in sections.items()
            if section is not Section.overview
        ],
        facts=FactsLink(href=f"/v1/drugs/{drug.slug}/facts", count=len(facts)),
        overview=sections[Section.overview],
    )
    by_id = {item["id"]: item for items in sections.values() for item in items}
    moved = {key: ref.href for key, ref in holder.items() if key not in by_id}
    former = {former: fact.key for fact in statements.rows for former in fact.former_keys}
    moved |= {old: holder[new].href for old, new in former.items()}
    return DrugEntry(
        drug.slug,
        drug.name,
        document=summary.model_dump(mode="json"),
        sections=sections,
        by_id=by_id,
        facts=facts,
        fact_by_id={fact["id"]: fact for fact in facts},
        moved=moved,
        former_fact_ids=former,
    )


def _item(
    section: Section,
    record: Record,
    facts: list[Fact],
    evidence: dict[int, list[dict[str, Any]]],
) -> dict[str, Any]:
    """A list item: the record's fields, its facts' ids and their evidence, each piece once."""
    gathered_evidence = {
        _evidence_key(e): e for fact in facts for e in evidence[fact.id or 0]
    }.values()
    extra: dict[str, Any] = {}
    if section is Section.routes:
        extra["details"] = [
            {
                "id": fact.key,
                "aspect": fact.attributes["aspect"],
                "label": fact.label,
                "note": fact.note,
                "evidence": evidence[fact.id or 0],
            }
            for fact in facts
            if fact.attributes["aspect"] != "overview"
        ]
    item = ITEM_MODELS[section].model_validate(
        {
            "id": record.key,
            "section": section,
            "label": record.label,
            "note": record.note,
            "evidence": list(gathered_evidence),
            "facts": [fact.key for fact in facts],
            # A thing one of whose statements the source leaves open is open too.
            "ambiguity": next((fact.ambiguity for fact in facts if fact.ambiguity), None),
            **record.attributes,
            **extra,
        }
    )
    return item.model_dump(mode="json")


def _evidence_key(evidence: dict[str, Any]) -> str:
    return repr(sorted(evidence.items()))


def _fact(
    drug: str, fact: Fact, evidence: dict[int, list[dict[str, Any]]], record: RecordRef
) -> dict[str, Any]:
    return FactItem(
        id=fact.key,
        section=Section(fact.section),
        label=fact.label,
        note=fact.note,
        # Through the section's model: defaults and computed fields (a code's URL) as in the lists.
        attributes=FACT_ATTRIBUTES[Section(fact.section)]
        .model_validate(fact.attributes)
        .model_dump(mode="json"),
        evidence=evidence[fact.id or 0],
        ambiguity=fact.ambiguity,
        record=record,
        href=f"/v1/drugs/{drug}/facts/{fact.key}",
    ).model_dump(mode="json")


def _coverage(
    source: Source,
    statements: list[Statement],
    spans: list[tuple[str, int, int, str, str]],
    drugs: dict[str, DrugEntry],
) -> dict[str, Any]:
    """Each statement with the facts citing it, and the share of the text the evidence covers."""
    own = [
        (start, end, (drug, key))
        for source_id, start, end, drug, key in spans
        if source_id == source.id
    ]
    covered = [False] * len(source.text)
    for start, end, _ in own:
        covered[start:end] = [True] * (end - start)
    visible = [i for i, ch in enumerate(source.text) if not ch.isspace()]
    rows = []
    for st in statements:
        citing = {fact for start, end, fact in own if start < st.end and st.start < end}
        rows.append(
            StatementCoverage(
                id=st.key,
                start=st.start,
                end=st.end,
                text=source.text[st.start : st.end],
                uncited_reason=None if citing else st.uncited_reason,
                cited_by=[
                    _fact_ref(drug, drugs[drug].fact_by_id[key])
                    for drug, key in sorted(
                        citing,
                        key=lambda ref: (
                            ref[0],
                            drugs[ref[0]].fact_by_id[ref[1]]["section"],
                            ref[1],
                        ),
                    )
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


def _fact_ref(drug: str, fact: dict[str, Any]) -> FactRef:
    return FactRef(
        drug=drug,
        section=fact["section"],
        id=fact["id"],
        href=fact["href"],
        record=RecordRef.model_validate(fact["record"]),
    )


def _source(source: Source) -> dict[str, Any]:
    return SourceText(**source.model_dump(), length=len(source.text)).model_dump(mode="json")

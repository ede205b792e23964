"""Records: one per real-world thing, each gathering the statement-level facts that state it.

The source states some things more than once (dizziness in the lead and again among the side
effects; cerebral palsy as a use, then as an intrathecal use). In the sections that group their
facts (`RECORD_ATTRIBUTES`), the seed declares each record under `records/<section>.yaml`: its id,
label, note, typed attributes and the ids of the facts it gathers. The checks here make the
grouping trustworthy: every fact belongs to exactly one record of its own section, and each record's
qualifiers (codes, standing, routes, contexts, frequency...) are the ones its facts support.
In every other section a fact is one thing, so it is its own record (models.identity_records).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from app.domain.sections import (
    FREQUENCY_RANK,
    RECORD_ATTRIBUTES,
    STANDING_RANK,
    IndicationStanding,
    Route,
    Section,
)
from app.seed.models import ReportProblem, SeedFact, SeedRecord

# Path segments under a section that are not item ids.
RESERVED_IDS = frozenset({"facets"})


class RecordChecker:
    """Checks one drug's records against its facts, reporting each problem with its place."""

    def __init__(
        self, facts: dict[Section, list[SeedFact]], report: ReportProblem, drug_folder: str
    ):
        self.facts = facts
        self.report = report
        self.drug_folder = drug_folder
        self.fact_section = {f.id: s for s, section_facts in facts.items() for f in section_facts}
        self.by_id = {f.id: f for section_facts in facts.values() for f in section_facts}

    def check_section(self, where_file: str, section: Section, records: list[SeedRecord]) -> None:
        owner: dict[str, str] = {}
        for record in records:
            where = f"{where_file} id={record.id}"
            gathered = [
                self.by_id[fact_id]
                for fact_id in record.facts
                if self._belongs(where, section, record, fact_id, owner)
            ]
            if (record.label is None or record.note is None) and len(record.facts) != 1:
                self.report(where, "declares no label or note, yet gathers more than one fact")
            if gathered:
                for reason in disagreements(section, record, gathered):
                    self.report(where, reason)
        for fact in self.facts.get(section, []):
            if fact.id not in owner:
                self.report(
                    where_file,
                    f"fact {fact.id!r} belongs to no record: add it to the record of the thing "
                    "it states",
                )

    def _belongs(
        self,
        where: str,
        section: Section,
        record: SeedRecord,
        fact_id: str,
        owner: dict[str, str],
    ) -> bool:
        fact_section = self.fact_section.get(fact_id)
        if fact_section is None:
            self.report(where, f"gathers {fact_id!r}, which is no fact of the drug")
            return False
        if fact_section is not section:
            self.report(
                where,
                f"gathers {fact_id!r}, a fact of {fact_section.value!r}, not of {section.value!r}",
            )
            return False
        if fact_id in owner:
            self.report(
                where,
                f"gathers {fact_id!r}, which record {owner[fact_id]!r} gathers too: "
                "a fact belongs to one record",
            )
            return False
        owner[fact_id] = record.id
        return True

    def check_ids(self, records: dict[Section, list[SeedRecord]]) -> None:
        """Record ids are unique, never reserved words, and never another record's fact's id;
        former fact ids name nothing that exists now (they only redirect)."""
        seen: set[str] = set()
        for section, section_records in records.items():
            where_file = f"{self.drug_folder}/records/{section.value}.yaml"
            for record in section_records:
                where = f"{where_file} id={record.id}"
                if record.id in seen:
                    self.report(where, f"duplicate record id {record.id!r}")
                seen.add(record.id)
                if record.id.removeprefix(f"{section.value}-") in RESERVED_IDS:
                    self.report(where, f"{record.id!r} is reserved for a route")
                if record.id in self.by_id and record.id not in record.facts:
                    self.report(
                        where, f"{record.id!r} is the id of a fact this record does not gather"
                    )
        current = seen | set(self.by_id)
        for fact in self.by_id.values():
            for former in fact.former_ids:
                if former in current:
                    self.report(
                        f"{self.drug_folder} fact {fact.id}",
                        f"former id {former!r} is the id of a current fact or record",
                    )
                current.add(former)


# ----- qualifiers: what a record says must be what its facts say ------------------------------


def disagreements(section: Section, record: SeedRecord, facts: list[SeedFact]) -> list[str]:
    """Why the record's qualifiers do not follow from its facts (empty when they do)."""
    if section not in RECORD_ATTRIBUTES:
        return []
    found = _union_mismatch("codes", record.attributes, [f.attributes for f in facts])
    check = _SECTION_CHECKS.get(section)
    if check is not None:
        found += check(record.attributes, [f.attributes for f in facts])
    return found


Attributes = dict[str, Any]


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _union_mismatch(field: str, record: Attributes, facts: list[Attributes]) -> list[str]:
    declared = {_key(v) for v in record.get(field, [])}
    stated = {_key(v) for fact in facts for v in fact.get(field, [])}
    if declared == stated:
        return []
    return [
        f"{field} {sorted(declared)} differ from its facts' {sorted(stated)}: "
        f"a record carries exactly the {field} of its facts"
    ]


def _indication(record: Attributes, facts: list[Attributes]) -> list[str]:
    statuses = {IndicationStanding(f["status"]) for f in facts}
    problems = []
    if IndicationStanding.not_recommended in statuses and len(statuses) > 1:
        problems.append("gathers a use that is not recommended with uses that are")
    strongest = min(statuses, key=STANDING_RANK.index)
    if record.get("status") != strongest.value:
        problems.append(
            f"status {record.get('status')!r} is not its facts' strongest, {strongest.value!r}"
        )
    # A use stated without a route is the drug's oral use; a use advised against has no route.
    routes = (
        set()
        if strongest is IndicationStanding.not_recommended
        else {f.get("route") or Route.oral.value for f in facts}
    )
    if set(record.get("routes", [])) != routes:
        problems.append(f"routes {record.get('routes')} differ from its facts' {sorted(routes)}")
    return problems


def _route(record: Attributes, facts: list[Attributes]) -> list[str]:
    others = sorted({f["route"] for f in facts if f["route"] != record.get("route")})
    return [f"gathers facts about another route: {others}"] if others else []


def _adverse_effect(record: Attributes, facts: list[Attributes]) -> list[str]:
    problems = []
    contexts = {f["context"] for f in facts}
    if set(record.get("contexts", [])) != contexts:
        declared = record.get("contexts")
        problems.append(f"contexts {declared} differ from its facts' {sorted(contexts)}")
    ranks = [r.value for r in FREQUENCY_RANK]
    stated = [str(f["frequency"]) for f in facts if f.get("frequency")]
    best = min(stated, key=ranks.index) if stated else None
    if record.get("frequency") != best:
        problems.append(f"frequency {record.get('frequency')!r} is not its facts' best, {best!r}")
    problems += _single_value("seriousness", record, facts)
    if bool(record.get("absent")) != all(f.get("absent", False) for f in facts):
        problems.append("absent must be true exactly when every fact denies the effect")
    return problems


def _pharmacology(record: Attributes, facts: list[Attributes]) -> list[str]:
    problems = _single_value("topic", record, facts) + _single_value("action", record, facts)
    problems += _union_mismatch("affinities", record, facts)
    problems += _union_mismatch("genes", record, facts)
    return problems


def _name(record: Attributes, facts: list[Attributes]) -> list[str]:
    return _single_value("name", record, facts) + _single_value("name_kind", record, facts)


def _single_value(field: str, record: Attributes, facts: list[Attributes]) -> list[str]:
    """The record's value is the one value its facts state (or unset when none states one)."""
    stated = {f.get(field) for f in facts} - {None}
    expected = next(iter(stated)) if len(stated) == 1 else None
    if len(stated) > 1:
        return [f"its facts state different {field} values: {sorted(map(str, stated))}"]
    if record.get(field) != expected:
        return [f"{field} {record.get(field)!r} differs from its facts' {expected!r}"]
    return []


_SECTION_CHECKS: dict[Section, Callable[[Attributes, list[Attributes]], list[str]]] = {
    Section.indications: _indication,
    Section.routes: _route,
    Section.adverse_effects: _adverse_effect,
    Section.pharmacology: _pharmacology,
    Section.names: _name,
}

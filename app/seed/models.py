"""The seed's shapes: one model per kind of YAML record, and the dataset they make once read.

Each model checks one record on its own (fields, patterns, lengths); the reader
(app/seed/reader.py) builds them from the files, and app/seed/checks.py and app/seed/records.py
check them against each other. The seed's format is seed/README.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, model_validator
from sqlmodel import SQLModel
from sqlmodel._compat import (
    SQLModelConfig,  # the type of a SQLModel's model_config (pinned sqlmodel)
)

from app.domain.evidence import Ambiguity, EvidenceKind, SpanFlag
from app.domain.sections import Section
from app.models import CitationBase, IdentifierBase, SourceBase, StatementBase

# The seed's layout (seed/README.md).
DRUG_FILE = "drug.yaml"
RECORDS_FOLDER = "records"
MANIFEST_FILE = "dataset.yaml"

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class SeedModel(SQLModel):
    """A record of the seed: no field it does not declare, never changed once read.

    A SQLModel (never a table), so that a seed record can share a base with its table and its
    API model (app/models.py).
    """

    # Read from YAML mappings only (SQLModel would also read attributes of any object).
    model_config = SQLModelConfig(from_attributes=False, extra="forbid", frozen=True)


class SeedSource(SourceBase, SeedModel):
    id: str = Field(pattern=ID_PATTERN)
    file: str = Field(description="The text's file, relative to the seed folder.")


class SeedCitation(CitationBase, SeedModel):
    id: str = Field(pattern=ID_PATTERN)


class SpanEvidence(SeedModel):
    source: str
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    quote: str = Field(min_length=1)
    flags: list[SpanFlag] = []


class CitationEvidence(SeedModel):
    """An external citation: the cited work's words (`quote`) or a value read off it (`value`)."""

    citation: str
    kind: EvidenceKind = EvidenceKind.quote
    quote: str | None = Field(default=None, min_length=1)
    value: str | None = Field(default=None, min_length=1)
    verified: bool
    restores: list[str] = []

    @model_validator(mode="after")
    def _text_matches_kind(self) -> CitationEvidence:
        given = self.quote if self.kind is EvidenceKind.quote else self.value
        other = self.value if self.kind is EvidenceKind.quote else self.quote
        if given is None or other is not None:
            kind = self.kind.value
            raise ValueError(f"a {kind} citation gives `{kind}` and only that")
        return self

    @property
    def text(self) -> str:
        return self.quote if self.quote is not None else self.value or ""


def _evidence_tag(item: Any) -> str:
    fields = item if isinstance(item, dict) else vars(item)
    return "citation" if "citation" in fields else "span"


SeedEvidence = Annotated[
    Annotated[SpanEvidence, Tag("span")] | Annotated[CitationEvidence, Tag("citation")],
    Discriminator(_evidence_tag),
]


class SeedFact(SeedModel):
    id: str = Field(pattern=ID_PATTERN, max_length=200)
    label: str = Field(min_length=1)
    note: str = Field(min_length=1)
    attributes: dict[str, Any]
    evidence: list[SeedEvidence] = Field(min_length=1)
    ambiguity: Ambiguity | None = None
    former_ids: list[str] = Field(
        default=[], description="Ids this fact was served under before it moved or was merged."
    )


class SeedIdentifier(IdentifierBase, SeedModel):
    pass


class SeedDrug(SeedModel):
    slug: str = Field(pattern=ID_PATTERN)
    name: str
    source: str
    summary: str
    identifiers: list[SeedIdentifier] = []


class SeedStatement(StatementBase, SeedModel):
    id: str = Field(pattern=ID_PATTERN)
    quote: str


class SeedRecord(SeedModel):
    """One real-world thing (an effect, a use, a route...) and the facts that state it."""

    id: str = Field(pattern=ID_PATTERN, max_length=200)
    label: str | None = Field(
        default=None, min_length=1, description="Omitted: the label of its only fact."
    )
    note: str | None = Field(
        default=None, min_length=1, description="Omitted: the note of its only fact."
    )
    attributes: dict[str, Any]
    facts: list[str] = Field(min_length=1, description="Ids of the facts it gathers, in order.")

    def with_text_of(self, facts: dict[str, SeedFact]) -> SeedRecord:
        """The record with the label and note of its only fact where it declares none."""
        if self.label is not None and self.note is not None:
            return self
        only = facts[self.facts[0]]
        return self.model_copy(
            update={"label": self.label or only.label, "note": self.note or only.note}
        )


def identity_records(facts: Iterable[SeedFact]) -> list[SeedRecord]:
    """A section that does not group its facts: each fact is its own record."""
    return [
        SeedRecord(id=f.id, label=f.label, note=f.note, attributes=f.attributes, facts=[f.id])
        for f in facts
    ]


class DrugManifest(SeedModel):
    sections: list[Section] = Field(min_length=1)


class SeedManifest(SeedModel):
    """dataset.yaml: the release (raise it with each published change) and what must be there."""

    release: int = Field(ge=1, strict=True)
    drugs: dict[str, DrugManifest] = Field(min_length=1)


@dataclass(frozen=True)
class SeedProblem:
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class SeedError(Exception):
    def __init__(self, problems: list[SeedProblem]):
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"the seed has {len(problems)} bad record(s); nothing was written:\n{listing}"
        )


@dataclass
class DrugData:
    drug: SeedDrug
    facts: dict[Section, list[SeedFact]] = field(default_factory=dict)
    # Every section's list items: the declared records, or one record per fact (identity_records).
    records: dict[Section, list[SeedRecord]] = field(default_factory=dict)


@dataclass
class SourceData:
    source: SeedSource
    text: str
    sha256: str
    statements: list[SeedStatement]


@dataclass
class SeedDataset:
    version: str
    sources: dict[str, SourceData]
    citations: dict[str, SeedCitation]
    drugs: list[DrugData]
    # The release declared in dataset.yaml: orders versions, so no load replaces a newer one.
    release: int = 0

    def fact_count(self) -> int:
        return sum(len(facts) for data in self.drugs for facts in data.facts.values())

    def record_count(self) -> int:
        return sum(len(records) for data in self.drugs for records in data.records.values())

    def citation_evidence(self) -> list[CitationEvidence]:
        return [
            evidence
            for data in self.drugs
            for facts in data.facts.values()
            for fact in facts
            for evidence in fact.evidence
            if isinstance(evidence, CitationEvidence)
        ]

    def evidence_kinds(self) -> dict[str, int]:
        """How many external evidence items are verbatim quotes, values, and unverified."""
        items = self.citation_evidence()
        return {
            "quotes": sum(e.kind is EvidenceKind.quote for e in items),
            "values": sum(e.kind is EvidenceKind.value for e in items),
            "unverified": sum(not e.verified for e in items),
        }


# How a check reports a problem: where (file and record) and why.
ReportProblem = Callable[[str, str], None]

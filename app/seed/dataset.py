"""Reading and validating the seed dataset: every problem is found and reported, nothing is written.

The dataset is the folder `seed/` (see seed/README.md). `read_dataset` parses and checks all of it
and returns a `Dataset` only when every record is sound; otherwise it raises `SeedError`
listing each bad record with the file, the record and the reason.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from app.domain.evidence import (
    OTHER_MICRO_SIGN,
    SPAN_FLAG_MARKERS,
    Ambiguity,
    EvidenceKind,
    SpanFlag,
)
from app.domain.sections import FACT_ATTRIBUTES, RECORD_ATTRIBUTES, Section
from app.seed.records import ID_PATTERN, RecordChecker, SeedRecord, identity_records
from app.seed.reduction import STOPWORDS_FILE, read_stopwords
from app.seed.restoration import check_article_quote

DRUG_FILE = "drug.yaml"
RECORDS_FOLDER = "records"
# The citation that stands for the article the source text was made from: its quotes are checked
# by the source's own reduction (app/seed/reduction.py).
ARTICLE_CITATION = "wikipedia-article"
# Remarks about the source text belong in the evidence's fields, never in a label or a note.
SOURCE_REMARK = re.compile(
    r"source text|the source (marks|says|lost|flags)|the article (marks|flags)|restored from"
    r"|(is|are|was|were) restored|(was|were|is|are) lost|lost from|sentence's last word"
    r"|needing (a )?citation|needing clarification|citation needed|clarification needed",
    re.IGNORECASE,
)


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


R = TypeVar("R", bound=BaseModel)
M = TypeVar("M", bound=BaseModel)


class SeedSource(Record):
    id: str = Field(pattern=ID_PATTERN)
    title: str
    url: str
    license: str
    license_url: str
    file: str


class SeedCitation(Record):
    id: str = Field(pattern=ID_PATTERN)
    title: str
    url: str


class SpanEvidence(Record):
    source: str
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    quote: str = Field(min_length=1)
    flags: list[SpanFlag] = []


class CitationEvidence(Record):
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


class SeedFact(Record):
    id: str = Field(pattern=ID_PATTERN, max_length=200)
    label: str = Field(min_length=1)
    note: str = Field(min_length=1)
    attributes: dict[str, Any]
    evidence: list[SeedEvidence] = Field(min_length=1)
    ambiguity: Ambiguity | None = None
    former_ids: list[str] = Field(
        default=[], description="Ids this fact was served under before it moved or was merged."
    )


class SeedIdentifier(Record):
    system: str
    value: str
    url: str
    note: str | None = None


class SeedDrug(Record):
    slug: str = Field(pattern=ID_PATTERN)
    name: str
    source: str
    summary: str
    identifiers: list[SeedIdentifier] = []


class SeedStatement(Record):
    id: str = Field(pattern=ID_PATTERN)
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    quote: str
    uncited_reason: str | None = None


@dataclass(frozen=True)
class Problem:
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class SeedError(Exception):
    def __init__(self, problems: list[Problem]):
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
class Dataset:
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


def dataset_version(seed_dir: Path) -> str:
    """SHA-256 over the seed's data files (paths and contents): any edit makes a new version."""
    digest = hashlib.sha256()
    for path in sorted(_data_files(seed_dir)):
        digest.update(path.relative_to(seed_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _data_files(seed_dir: Path) -> Iterator[Path]:
    for pattern in ("*.yaml", "*.txt"):
        yield from (path for path in seed_dir.rglob(pattern) if path.is_file())


def read_dataset(seed_dir: Path) -> Dataset:
    """Parse and check the whole seed; raise SeedError listing every bad record."""
    reader = _Reader(seed_dir)
    dataset = reader.read()
    if reader.problems:
        raise SeedError(reader.problems)
    return dataset


class _Reader:
    def __init__(self, seed_dir: Path):
        self.seed_dir = seed_dir
        self.problems: list[Problem] = []
        self._stopwords: frozenset[str] | None = None

    def problem(self, where: str, reason: str) -> None:
        self.problems.append(Problem(where, reason))

    # ----- parsing ------------------------------------------------------------------------

    def load_yaml(self, path: Path) -> Any:
        where = self.rel(path)
        if not path.is_file():
            self.problem(where, "file is missing")
            return None
        text = self.read_utf8(path)
        if text is None:
            return None
        try:
            return yaml.load(text, Loader=yaml.CSafeLoader)
        except yaml.YAMLError as error:
            self.problem(where, f"not valid YAML: {error}")
            return None

    def rel(self, path: Path) -> str:
        return path.relative_to(self.seed_dir).as_posix()

    def parse_list(self, path: Path, model: type[R]) -> list[tuple[str, R]]:
        raw = self.load_yaml(path)
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(self.rel(path), "must be a YAML list of records")
            return []
        parsed = []
        for index, item in enumerate(raw):
            where = _record_where(self.rel(path), index, item)
            record = self.validate(where, model, item)
            if record is not None:
                parsed.append((where, record))
        return parsed

    def validate(self, where: str, model: type[M], item: Any) -> M | None:
        try:
            return model.model_validate(item)
        except ValidationError as error:
            for detail in error.errors():
                location = ".".join(str(part) for part in detail["loc"]) or "record"
                self.problem(where, f"{location}: {detail['msg']}")
            return None

    # ----- the whole dataset --------------------------------------------------------------

    def read(self) -> Dataset:
        manifest = self.read_manifest()
        citations = self.read_citations()
        sources = self.read_sources()
        drugs = [self.read_drug(folder) for folder in self.drug_folders()]
        drug_data = [data for data in drugs if data is not None]
        self.check_unique_fact_ids(drug_data)
        self.check_references(drug_data, sources, citations)
        self.check_coverage(drug_data, sources)
        self.check_micro_sign()
        self.check_manifest(manifest)
        release = manifest.release if manifest else 0
        return Dataset(dataset_version(self.seed_dir), sources, citations, drug_data, release)

    def read_citations(self) -> dict[str, SeedCitation]:
        citations: dict[str, SeedCitation] = {}
        for where, citation in self.parse_list(self.seed_dir / "citations.yaml", SeedCitation):
            if citation.id in citations:
                self.problem(where, f"duplicate citation id {citation.id!r}")
            citations[citation.id] = citation
        return citations

    def read_sources(self) -> dict[str, SourceData]:
        sources: dict[str, SourceData] = {}
        for where, source in self.parse_list(self.seed_dir / "sources.yaml", SeedSource):
            if source.id in sources:
                self.problem(where, f"duplicate source id {source.id!r}")
                continue
            path = self.seed_dir / source.file
            if not self.is_inside_seed(path):
                self.problem(where, f"source file {source.file!r} is outside the seed folder")
                continue
            if not path.is_file():
                self.problem(where, f"source file {source.file!r} is missing")
                continue
            data = path.read_bytes()
            text = self.read_utf8(path)
            if text is None:
                continue
            statements_path = path.with_name(f"{source.id}.statements.yaml")
            statements = [s for _, s in self.parse_list(statements_path, SeedStatement)]
            self.check_statements(self.rel(statements_path), text, statements)
            sources[source.id] = SourceData(
                source, text, hashlib.sha256(data).hexdigest(), statements
            )
        return sources

    def drug_folders(self) -> list[Path]:
        drugs_dir = self.seed_dir / "drugs"
        folders = sorted(p for p in drugs_dir.iterdir() if p.is_dir()) if drugs_dir.is_dir() else []
        if not folders:
            self.problem("drugs/", "no drug folder found")
        return folders

    def read_drug(self, folder: Path) -> DrugData | None:
        where = self.rel(folder / DRUG_FILE)
        drug = self.validate(where, SeedDrug, self.load_yaml(folder / DRUG_FILE))
        if drug is None:
            return None
        if drug.slug != folder.name:
            self.problem(where, f"slug {drug.slug!r} differs from its folder name {folder.name!r}")
        data = DrugData(drug)
        for path in sorted(folder.glob("*.yaml")):
            if path.name == DRUG_FILE:
                continue
            try:
                section = Section(path.stem)
            except ValueError:
                known = ", ".join(s.value for s in Section)
                self.problem(self.rel(path), f"unknown section {path.stem!r} (known: {known})")
                continue
            data.facts[section] = self.read_facts(path, section)
        self.read_records(folder, data)
        return data

    def read_records(self, folder: Path, data: DrugData) -> None:
        """The declared records of the grouped sections; every other section's facts stand alone."""
        records_dir = folder / RECORDS_FOLDER
        for path in sorted(records_dir.glob("*.yaml")):
            if path.stem not in {s.value for s in RECORD_ATTRIBUTES}:
                grouped = ", ".join(s.value for s in RECORD_ATTRIBUTES)
                self.problem(
                    self.rel(path), f"section {path.stem!r} does not group its facts ({grouped} do)"
                )
        checker = RecordChecker(data.facts, self.problem, self.rel(folder))
        for section in Section:
            facts = data.facts.get(section, [])
            if section not in RECORD_ATTRIBUTES:
                data.records[section] = identity_records(facts)
                continue
            path = records_dir / f"{section.value}.yaml"
            records = self.read_record_list(path, section) if facts or path.exists() else []
            checker.check_section(self.rel(path), section, records)
            known = checker.by_id.keys()
            data.records[section] = [
                r.with_text_of(checker.by_id) for r in records if set(r.facts) <= known
            ]
        checker.check_ids(data.records)

    def read_record_list(self, path: Path, section: Section) -> list[SeedRecord]:
        model = RECORD_ATTRIBUTES[section]
        records = []
        for where, record in self.parse_list(path, SeedRecord):
            if not record.id.startswith(f"{section.value}-"):
                self.problem(where, f"id must start with the section name {section.value + '-'!r}")
            self.check_plain_text(where, record.label, record.note)
            if self.validate(where, model, record.attributes) is not None:
                records.append(record)
        return records

    def read_facts(self, path: Path, section: Section) -> list[SeedFact]:
        attributes_model = FACT_ATTRIBUTES[section]
        facts = []
        for where, fact in self.parse_list(path, SeedFact):
            if not fact.id.startswith(f"{section.value}-"):
                self.problem(where, f"id must start with the section name {section.value + '-'!r}")
            attributes = self.validate(where, attributes_model, fact.attributes)
            if attributes is None:
                continue
            if not any(isinstance(e, SpanEvidence) for e in fact.evidence):
                self.problem(where, "has no span of a source text among its evidence")
            self.check_plain_words(where, fact)
            if fact.ambiguity and getattr(attributes, "absent", None) is not None:
                self.problem(
                    where,
                    "is ambiguous, so `absent` must be null: it would pick one of the readings",
                )
            facts.append(fact)
        return facts

    def check_plain_words(self, where: str, fact: SeedFact) -> None:
        """A label or note is for a reader: what the source lost is said by the evidence."""
        self.check_plain_text(where, fact.label, fact.note)
        plain = f"{fact.label} {fact.note}".casefold()
        for evidence in fact.evidence:
            if isinstance(evidence, CitationEvidence):
                for word in evidence.restores:
                    if not re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", plain):
                        self.problem(
                            where,
                            f"restores {word!r} from {evidence.citation}, "
                            "but neither the label nor the note says it",
                        )

    def check_plain_text(self, where: str, label: str | None, note: str | None) -> None:
        for name, text in (("label", label), ("note", note)):
            remark = SOURCE_REMARK.search(text or "")
            if remark:
                self.problem(
                    where,
                    f"{name} remarks on the source text ({remark.group(0)!r}): keep it plain and "
                    "say it in the evidence (`restores` on a citation, `flags` on a span)",
                )

    # ----- cross-record checks ------------------------------------------------------------

    def check_unique_fact_ids(self, drugs: list[DrugData]) -> None:
        for data in drugs:
            seen: set[str] = set()
            for section, facts in data.facts.items():
                for fact in facts:
                    if fact.id in seen:
                        self.problem(
                            f"drugs/{data.drug.slug}/{section.value}.yaml id={fact.id}",
                            f"duplicate fact id {fact.id!r}",
                        )
                    seen.add(fact.id)

    def check_references(
        self,
        drugs: list[DrugData],
        sources: dict[str, SourceData],
        citations: dict[str, SeedCitation],
    ) -> None:
        for data in drugs:
            if data.drug.source not in sources:
                self.problem(
                    f"drugs/{data.drug.slug}/{DRUG_FILE}", f"unknown source {data.drug.source!r}"
                )
            for section, facts in data.facts.items():
                for fact in facts:
                    where = f"drugs/{data.drug.slug}/{section.value}.yaml id={fact.id}"
                    for evidence in fact.evidence:
                        if isinstance(evidence, CitationEvidence):
                            if evidence.citation not in citations:
                                self.problem(where, f"unknown citation {evidence.citation!r}")
                        elif evidence.source not in sources:
                            self.problem(where, f"unknown source {evidence.source!r}")
                        else:
                            self.check_span(where, sources[evidence.source].text, evidence)
                            self.check_flags(where, evidence)
                    self.check_article_quotes(where, fact, sources.get(data.drug.source))

    def check_flags(self, where: str, span: SpanEvidence) -> None:
        """A span carries a flag exactly when it holds the article's marker for it."""
        for flag, marker in SPAN_FLAG_MARKERS.items():
            marked = marker in span.quote
            if marked != (flag in span.flags):
                state, must = ("holds", "must") if marked else ("does not hold", "must not")
                self.problem(
                    where,
                    f"span {span.start}..{span.end} {state} the article's marker {marker!r}, "
                    f"so its flags {must} include {flag.value!r}",
                )

    def check_article_quotes(self, where: str, fact: SeedFact, source: SourceData | None) -> None:
        if source is None or self.stopwords is None:
            return
        spans = [
            e for e in fact.evidence if isinstance(e, SpanEvidence) and e.source == source.source.id
        ]
        for evidence in fact.evidence:
            if (
                isinstance(evidence, CitationEvidence)
                and evidence.citation == ARTICLE_CITATION
                and evidence.kind is EvidenceKind.quote
            ):
                refusal = check_article_quote(evidence, spans, source.text, self.stopwords)
                if refusal:
                    self.problem(where, refusal)

    @property
    def stopwords(self) -> frozenset[str] | None:
        if self._stopwords is None:
            path = self.seed_dir / STOPWORDS_FILE
            if not path.is_file():
                self.problem(STOPWORDS_FILE, "file is missing (the source's stop-word list)")
                self._stopwords = frozenset()
            else:
                self._stopwords = read_stopwords(path)
        return self._stopwords or None

    def check_micro_sign(self) -> None:
        """One micro sign, U+03BC as in the source text, so that every comparison is exact."""
        for path in sorted(self.seed_dir.rglob("*.yaml")):
            # Bad UTF-8 is a problem of its own (the manifest check names it): read what decodes.
            text = path.read_bytes().decode("utf-8", errors="replace")
            for number, line in enumerate(text.splitlines(), 1):
                if OTHER_MICRO_SIGN in line:
                    self.problem(
                        f"{self.rel(path)} line {number}",
                        "uses U+00B5 MICRO SIGN; write micro as U+03BC (μ) as the source text does",
                    )

    def check_span(self, where: str, text: str, span: SpanEvidence | SeedStatement) -> None:
        if span.end > len(text) or span.start >= span.end:
            self.problem(
                where,
                f"span {span.start}..{span.end} is outside the text (length {len(text)}) or empty",
            )
            return
        actual = text[span.start : span.end]
        if actual != span.quote:
            self.problem(
                where,
                f"quote {span.quote!r} does not match the text at "
                f"{span.start}..{span.end}, which reads {actual!r}",
            )
        elif not _on_word_boundaries(text, span.start, span.end):
            self.problem(where, f"span {span.start}..{span.end} cuts a word")

    def check_statements(self, where: str, text: str, statements: list[SeedStatement]) -> None:
        expected_start = 0
        seen: set[str] = set()
        for statement in statements:
            here = f"{where} id={statement.id}"
            if statement.id in seen:
                self.problem(here, f"duplicate statement id {statement.id!r}")
            seen.add(statement.id)
            self.check_span(here, text, statement)
            if statement.start != expected_start:
                self.problem(
                    here,
                    f"starts at {statement.start}, expected {expected_start}: "
                    "statements must follow each other with one space between",
                )
            expected_start = statement.end + 1
        if statements and statements[-1].end != len(text):
            self.problem(
                where, f"the last statement ends at {statements[-1].end}, the text at {len(text)}"
            )

    def check_coverage(self, drugs: list[DrugData], sources: dict[str, SourceData]) -> None:
        spans = cited_spans(drugs)
        for source_id, data in sources.items():
            for statement in data.statements:
                cited = any(
                    s.start < statement.end and statement.start < s.end
                    for s in spans.get(source_id, [])
                )
                if not cited and not statement.uncited_reason:
                    self.problem(
                        f"sources/{source_id}.statements.yaml id={statement.id}",
                        f"statement {statement.quote!r}: no fact cites it, no uncited_reason",
                    )

    # ----- the manifest, file references and encoding (dataset.yaml) ---------------------------

    def read_manifest(self) -> SeedManifest | None:
        where = MANIFEST_FILE
        known = len(self.problems)
        raw = self.load_yaml(self.seed_dir / MANIFEST_FILE)
        if raw is None:
            if len(self.problems) == known:  # read, but nothing in it
                self.problem(where, "is empty: it declares the release and the required sections")
            return None
        return self.validate(where, SeedManifest, raw)

    def check_manifest(self, manifest: SeedManifest | None) -> None:
        """Every declared drug and section is there and holds facts; no section file is empty."""
        drugs_dir = self.seed_dir / "drugs"
        declared = manifest.drugs if manifest else {}
        for slug, drug in declared.items():
            if not (drugs_dir / slug / DRUG_FILE).is_file():
                self.problem(f"drugs/{slug}/{DRUG_FILE}", f"{MANIFEST_FILE} requires drug {slug!r}")
                continue
            for section in drug.sections:
                if not (drugs_dir / slug / f"{section.value}.yaml").is_file():
                    self.problem(
                        f"drugs/{slug}/{section.value}.yaml",
                        f"file is missing: {MANIFEST_FILE} requires section {section.value!r}",
                    )
        for path in sorted(drugs_dir.glob("*/*.yaml")) if drugs_dir.is_dir() else []:
            if path.name != DRUG_FILE and path.is_file() and self.holds_no_records(path):
                self.problem(self.rel(path), "is empty: a section file holds at least one fact")

    def holds_no_records(self, path: Path) -> bool:
        try:
            text = path.read_text(encoding="utf-8")
            return yaml.load(text, Loader=yaml.CSafeLoader) in (None, [])
        except (yaml.YAMLError, UnicodeDecodeError):
            return False  # reported by the reading itself

    def is_inside_seed(self, path: Path) -> bool:
        """A reference resolves inside the seed folder: no `..`, absolute path or symlink out."""
        return path.resolve().is_relative_to(self.seed_dir.resolve())

    def read_utf8(self, path: Path) -> str | None:
        """The file's text, or None with a problem naming the file and the first bad byte."""
        data = path.read_bytes()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            self.problem(
                self.rel(path),
                f"is not valid UTF-8: byte 0x{data[error.start]:02x} at offset {error.start} "
                f"(line {line})",
            )
            return None


MANIFEST_FILE = "dataset.yaml"


class DrugManifest(Record):
    sections: list[Section] = Field(min_length=1)


class SeedManifest(Record):
    """dataset.yaml: the release (raise it with each published change) and what must be there."""

    release: int = Field(ge=1, strict=True)
    drugs: dict[str, DrugManifest] = Field(min_length=1)


def cited_spans(drugs: list[DrugData]) -> dict[str, list[SpanEvidence]]:
    spans: dict[str, list[SpanEvidence]] = {}
    for data in drugs:
        for facts in data.facts.values():
            for fact in facts:
                for evidence in fact.evidence:
                    if isinstance(evidence, SpanEvidence):
                        spans.setdefault(evidence.source, []).append(evidence)
    return spans


def _on_word_boundaries(text: str, start: int, end: int) -> bool:
    return (start == 0 or text[start - 1].isspace()) and (end == len(text) or text[end].isspace())


def _record_where(file: str, index: int, item: Any) -> str:
    record_id = item.get("id") if isinstance(item, dict) else None
    return f"{file}[{index}]" + (f" id={record_id}" if record_id else "")

"""Reading and validating the seed dataset: every problem is found and reported, nothing is written.

The dataset is the folder `seed/` (see seed/README.md). `read_dataset` parses and checks all of it
and returns a `Dataset` only when every record is sound; otherwise it raises `SeedError`
listing each bad record with the file, the record and the reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.domain.sections import SECTION_ATTRIBUTES, Section

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
DRUG_FILE = "drug.yaml"


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


R = TypeVar("R", bound=Record)
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


class CitationEvidence(Record):
    citation: str
    quote: str = Field(min_length=1)


class SeedFact(Record):
    id: str = Field(pattern=ID_PATTERN, max_length=200)
    label: str = Field(min_length=1)
    note: str = Field(min_length=1)
    attributes: dict[str, Any]
    evidence: list[SpanEvidence | CitationEvidence] = Field(min_length=1)


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
        return data

    def read_facts(self, path: Path, section: Section) -> list[SeedFact]:
        attributes_model = SECTION_ATTRIBUTES[section]
        facts = []
        for where, fact in self.parse_list(path, SeedFact):
            if not fact.id.startswith(f"{section.value}-"):
                self.problem(where, f"id must start with the section name {section.value + '-'!r}")
            if self.validate(where, attributes_model, fact.attributes) is None:
                continue
            if not any(isinstance(e, SpanEvidence) for e in fact.evidence):
                self.problem(where, "has no span of a source text among its evidence")
            facts.append(fact)
        return facts

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

"""Reading and validating the seed dataset: every problem is found and reported, nothing is written.

The dataset is the folder `seed/` (see seed/README.md). `read_dataset` parses and checks all of it
and returns a `SeedDataset` only when every record is sound; otherwise it raises `SeedError`
listing each bad record with the file, the record and the reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from app.domain.evidence import OTHER_MICRO_SIGN
from app.domain.sections import FACT_ATTRIBUTES, RECORD_ATTRIBUTES, Section
from app.seed.checks import SeedChecks
from app.seed.models import (
    DRUG_FILE,
    MANIFEST_FILE,
    RECORDS_FOLDER,
    DrugData,
    SeedCitation,
    SeedDataset,
    SeedDrug,
    SeedError,
    SeedFact,
    SeedManifest,
    SeedProblem,
    SeedRecord,
    SeedSource,
    SeedStatement,
    SourceData,
    SpanEvidence,
    identity_records,
)
from app.seed.records import RecordChecker
from app.seed.reduction import STOPWORDS_FILE, read_stopwords

R = TypeVar("R", bound=BaseModel)
M = TypeVar("M", bound=BaseModel)


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


def read_dataset(seed_dir: Path) -> SeedDataset:
    """Parse and check the whole seed; raise SeedError listing every bad record."""
    reader = _Reader(seed_dir)
    dataset = reader.read()
    if reader.problems:
        raise SeedError(reader.problems)
    return dataset


class _Reader:
    def __init__(self, seed_dir: Path):
        self.seed_dir = seed_dir
        self.problems: list[SeedProblem] = []
        self._stopwords: frozenset[str] | None = None
        self.checks = SeedChecks(self.problem, lambda: self.stopwords)

    def problem(self, where: str, reason: str) -> None:
        self.problems.append(SeedProblem(where, reason))

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

    def read(self) -> SeedDataset:
        manifest = self.read_manifest()
        citations = self.read_citations()
        sources = self.read_sources()
        drugs = [self.read_drug(folder) for folder in self.drug_folders()]
        drug_data = [data for data in drugs if data is not None]
        self.checks.unique_fact_ids(drug_data)
        self.checks.references(drug_data, sources, citations)
        self.checks.coverage(drug_data, sources)
        self.check_micro_sign()
        self.check_manifest(manifest)
        release = manifest.release if manifest else 0
        return SeedDataset(dataset_version(self.seed_dir), sources, citations, drug_data, release)

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
            self.checks.statements(self.rel(statements_path), text, statements)
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

    def check_id_prefix(self, where: str, item_id: str, section: Section) -> None:
        """Facts' and records' ids start with their section's name, so that an id says where
        the item lives."""
        prefix = f"{section.value}-"
        if not item_id.startswith(prefix):
            self.problem(where, f"id must start with the section name {prefix!r}")

    def read_record_list(self, path: Path, section: Section) -> list[SeedRecord]:
        model = RECORD_ATTRIBUTES[section]
        records = []
        for where, record in self.parse_list(path, SeedRecord):
            self.check_id_prefix(where, record.id, section)
            self.checks.plain_text(where, record.label, record.note)
            if self.validate(where, model, record.attributes) is not None:
                records.append(record)
        return records

    def read_facts(self, path: Path, section: Section) -> list[SeedFact]:
        attributes_model = FACT_ATTRIBUTES[section]
        facts = []
        for where, fact in self.parse_list(path, SeedFact):
            self.check_id_prefix(where, fact.id, section)
            attributes = self.validate(where, attributes_model, fact.attributes)
            if attributes is None:
                continue
            if not any(isinstance(e, SpanEvidence) for e in fact.evidence):
                self.problem(where, "has no span of a source text among its evidence")
            self.checks.plain_words(where, fact)
            if fact.ambiguity and getattr(attributes, "absent", None) is not None:
                self.problem(
                    where,
                    "is ambiguous, so `absent` must be null: it would pick one of the readings",
                )
            facts.append(fact)
        return facts

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


def _record_where(file: str, index: int, item: Any) -> str:
    record_id = item.get("id") if isinstance(item, dict) else None
    return f"{file}[{index}]" + (f" id={record_id}" if record_id else "")

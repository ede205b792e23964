"""Bulk exports of the whole dataset: JSON, NDJSON and CSV, streamed from a catalog snapshot.

Every record is exactly the item its list endpoint serves (GET /v1/drugs/{drug}/{section}),
evidence included; each export lists them drug by drug, section by section, in the lists' order.
The same generators feed the HTTP export (GET /v1/export) and `monograph export`, so the files
written offline are byte for byte the ones served.

- NDJSON: one line per record, `{"drug": slug, "section": section, "record": item}`.
- JSON: one document: the dataset version, each drug's summary, the source texts and the records
  (each as an NDJSON line's object).
- CSV (records.csv): one row per record: `drug`, `section`, `id`, `label`, `note`, then
  `attributes` (the section's own fields as a JSON object), `facts` and `evidence` (JSON arrays).
  Its second file, evidence.csv (format `evidence-csv`): one row per evidence entry of a record,
  with its position in the record's evidence list, one column per evidence field (lists,
  objects and booleans as JSON).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import orjson

from app.domain.described import described
from app.domain.sections import Section

if TYPE_CHECKING:  # only the type: `monograph serve` must not import the HTTP layer early
    from app.catalog import Catalog

# Bumped when a format's layout changes: part of the ETag, with the dataset version.
FORMAT_REVISION = "1"
RECORD_COLUMNS = ["drug", "section", "id", "label", "note", "attributes", "facts", "evidence"]
_COMMON_FIELDS = {"id", "section", "label", "note", "facts", "evidence"}
EVIDENCE_LEAD_COLUMNS = ["drug", "section", "record", "position"]
# The evidence fields every export names first, in this order; any other field follows, sorted.
EVIDENCE_FIELDS = [
    "type",
    "source",
    "start",
    "end",
    "quote",
    "source_url",
    "external",
    "citation",
    "title",
    "url",
]


@described(
    {
        "json": "One JSON document: drugs, sources and every record.",
        "ndjson": "One record a line, each with its drug and section.",
        "csv": "One row per record; its evidence is the `evidence-csv` file.",
        "evidence-csv": "One row per piece of evidence, with its record's drug, section and id.",
    }
)
class ExportFormat(StrEnum):
    """What form the export takes."""

    json = "json"
    ndjson = "ndjson"
    csv = "csv"
    evidence_csv = "evidence-csv"  # the second file of the CSV export: one row per evidence


MEDIA_TYPES = {
    ExportFormat.json: "application/json",
    ExportFormat.ndjson: "application/x-ndjson",
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.evidence_csv: "text/csv; charset=utf-8",
}
FILE_NAMES = {
    ExportFormat.json: "monograph.json",
    ExportFormat.ndjson: "records.ndjson",
    ExportFormat.csv: "records.csv",
    ExportFormat.evidence_csv: "evidence.csv",
}


def etag(catalog: Catalog, fmt: ExportFormat, section: Section | None) -> str:
    """A strong validator: the body is a function of exactly these."""
    key = "|".join([FORMAT_REVISION, catalog.version, fmt, section or ""])
    return '"' + hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + '"'


def records(catalog: Catalog, section: Section | None = None) -> Iterator[dict[str, Any]]:
    """Every record with its drug and section, in the lists' order."""
    for drug in catalog.drugs.values():
        for each, items in drug.sections.items():
            if section is None or each is section:
                for item in items:
                    yield {"drug": drug.slug, "section": each.value, "record": item}


def chunks(catalog: Catalog, fmt: ExportFormat, section: Section | None = None) -> Iterator[bytes]:
    """The export's bytes, a piece at a time."""
    writers = {
        ExportFormat.json: json_chunks,
        ExportFormat.ndjson: ndjson_chunks,
        ExportFormat.csv: records_csv_chunks,
        ExportFormat.evidence_csv: evidence_csv_chunks,
    }
    return writers[fmt](catalog, section)


def ndjson_chunks(catalog: Catalog, section: Section | None = None) -> Iterator[bytes]:
    for record in records(catalog, section):
        yield orjson.dumps(record) + b"\n"


def json_chunks(catalog: Catalog, section: Section | None = None) -> Iterator[bytes]:
    head = {
        "dataset_version": catalog.version,
        "section": section.value if section else None,
        "drugs": [drug.document for drug in catalog.drugs.values()],
        "sources": [catalog.sources[key] for key in sorted(catalog.sources)],
    }
    # The head without its closing brace, then the records one by one.
    yield orjson.dumps(head)[:-1] + b',"records":['
    for index, record in enumerate(records(catalog, section)):
        yield (b"," if index else b"") + orjson.dumps(record)
    yield b"]}\n"


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def records_csv_chunks(catalog: Catalog, section: Section | None = None) -> Iterator[bytes]:
    return _csv(
        RECORD_COLUMNS,
        (
            [
                entry["drug"],
                entry["section"],
                entry["record"]["id"],
                entry["record"]["label"],
                entry["record"]["note"],
                _json({k: v for k, v in entry["record"].items() if k not in _COMMON_FIELDS}),
                _json(entry["record"]["facts"]),
                _json(entry["record"]["evidence"]),
            ]
            for entry in records(catalog, section)
        ),
    )


def evidence_columns(catalog: Catalog, section: Section | None = None) -> list[str]:
    """The known evidence fields, then any other field some evidence entry has (sorted)."""
    seen = {
        key for entry in records(catalog, section) for e in entry["record"]["evidence"] for key in e
    }
    extra = sorted(seen - set(EVIDENCE_FIELDS))
    return EVIDENCE_LEAD_COLUMNS + EVIDENCE_FIELDS + extra


def evidence_csv_chunks(catalog: Catalog, section: Section | None = None) -> Iterator[bytes]:
    columns = evidence_columns(catalog, section)
    fields = columns[len(EVIDENCE_LEAD_COLUMNS) :]
    return _csv(
        columns,
        (
            [
                entry["drug"],
                entry["section"],
                entry["record"]["id"],
                str(position),
                *(_cell(evidence.get(field)) for field in fields),
            ]
            for entry in records(catalog, section)
            for position, evidence in enumerate(entry["record"]["evidence"])
        ),
    )


def _cell(value: Any) -> str:
    """A CSV cell: empty for absent, JSON for lists, objects and booleans, text otherwise."""
    if value is None:
        return ""
    if isinstance(value, (bool, list, dict)):
        return _json(value)
    return str(value)


def _csv(columns: list[str], rows: Iterable[list[str]], batch: int = 200) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % batch == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()

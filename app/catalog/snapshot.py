"""The snapshot: one dataset version, whole, as every representation the API serves of it.

Built once per dataset version (app/catalog/projection.py) and never changed after: a request
reads one snapshot, never a mix of two versions. The items are the public JSON, ready to send.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.domain.sections import Section
from app.search.lookup import NameIndex


@dataclass(frozen=True)
class DrugEntry:
    slug: str
    name: str
    # The drug's whole document as GET /v1/drugs/{drug} serves it (a DrugSummary); the
    # one-sentence Drug.summary is its `summary` field.
    document: dict[str, Any]
    # Each section's list items (records), in the seed's order, and every item by its id.
    sections: dict[Section, list[dict[str, Any]]]
    by_id: dict[str, dict[str, Any]]
    # The statement-level facts, by section then position, and by id.
    facts: list[dict[str, Any]] = field(default_factory=list)
    fact_by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Where an id that is not an item's id now lives: a gathered fact's or a moved fact's
    # former id -> the href of the item that holds it (served as a redirect).
    moved: dict[str, str] = field(default_factory=dict)
    former_fact_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    version: str
    loaded_at: datetime
    fact_count: int
    record_count: int
    drugs: dict[str, DrugEntry]
    sources: dict[str, dict[str, Any]]
    coverage: dict[str, dict[str, Any]] = field(repr=False)
    names: NameIndex = field(default_factory=NameIndex, repr=False)

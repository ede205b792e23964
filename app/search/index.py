"""The full-text index: one row per record (list item), written by the seed loader.

The table is built by migration 0004 in each dialect's own form (an FTS5 virtual table on SQLite,
a table with a generated tsvector and a GIN index on PostgreSQL), so it is not a SQLModel table;
both forms take the same columns written here: the label, the note, and the rest (the attributes'
text, and the labels, notes and evidence quotes of the facts the record gathers, so that a word of
any supporting statement finds the record). They are apart so that ranking can weigh them and the
snippet can come from the note, the most readable text, whenever the note matches.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import column, delete, insert, table
from sqlmodel import Session

INDEX_TABLE = "record_search"

record_search = table(
    INDEX_TABLE, column("record_id"), column("label"), column("note"), column("extra")
)
EXTRA_SEPARATOR = " · "


def include_in_autogenerate(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's include_object hook: the index and FTS5's shadow tables (record_search_data...)
    are dialect-specific DDL of migration 0004, not models; never propose to drop them."""
    return not (type_ == "table" and (name or "").startswith(INDEX_TABLE))


# Attribute keys whose values are identifiers, not words anyone searches for.
_NOT_TEXT = frozenset({"codes", "url", "system", "code"})


def clear_index(session: Session) -> None:
    session.execute(delete(record_search))


def fill_index(
    session: Session,
    records: list[dict[str, Any]],
    links: list[dict[str, Any]],
    facts: list[dict[str, Any]],
    evidence: list[dict[str, Any]],
) -> None:
    """Index each record's label, note and attribute text, and its facts' words and quotes."""
    quotes: dict[int, list[str]] = defaultdict(list)
    for row in evidence:
        quotes[row["fact_id"]].append(row["quote"])
    facts_by_id = {fact["id"]: fact for fact in facts}
    gathered: dict[int, list[str]] = defaultdict(list)
    for link in links:
        fact = facts_by_id[link["fact_id"]]
        gathered[link["record_id"]] += [fact["label"], fact["note"], *quotes[fact["id"]]]
    rows = [
        {
            "record_id": record["id"],
            "label": record["label"],
            "note": record["note"],
            "extra": EXTRA_SEPARATOR.join(
                dict.fromkeys([*_attribute_text(record["attributes"]), *gathered[record["id"]]])
            ),
        }
        for record in records
    ]
    if rows:
        session.execute(insert(record_search), rows)


def _attribute_text(value: Any) -> list[str]:
    """Every string inside the attributes (terms, conditions, agents, topics), as words."""
    if isinstance(value, str):
        return [value.replace("_", " ")]
    if isinstance(value, dict):
        return [t for k, v in value.items() if k not in _NOT_TEXT for t in _attribute_text(v)]
    if isinstance(value, list):
        return [t for v in value for t in _attribute_text(v)]
    return []

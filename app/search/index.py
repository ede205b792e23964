"""The full-text index: one row per fact, written by the seed loader in its own transaction.

The table is built by migration 0002 in each dialect's own form (an FTS5 virtual table on SQLite,
a table with a generated tsvector and a GIN index on PostgreSQL), so it is not a SQLModel table;
both forms take the same columns written here: the label, the note, and the rest (the attributes'
text and the evidence quotes). They are apart so that ranking can weigh them and the snippet can
come from the note, the most readable text, whenever the note matches.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import column, delete, insert, table
from sqlmodel import Session

INDEX_TABLE = "fact_search"

fact_search = table(
    INDEX_TABLE, column("fact_id"), column("label"), column("note"), column("extra")
)
EXTRA_SEPARATOR = " · "


def include_in_autogenerate(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's include_object hook: the index and FTS5's shadow tables (fact_search_data...)
    are dialect-specific DDL of migration 0002, not models; never propose to drop them."""
    return not (type_ == "table" and (name or "").startswith(INDEX_TABLE))


# Attribute keys whose values are identifiers, not words anyone searches for.
_NOT_TEXT = frozenset({"codes", "url", "system", "code"})


def clear_index(session: Session) -> None:
    session.execute(delete(fact_search))


def fill_index(
    session: Session, facts: list[dict[str, Any]], evidence: list[dict[str, Any]]
) -> None:
    """Index each fact's label, note, attribute text and evidence quotes."""
    quotes: dict[int, list[str]] = defaultdict(list)
    for row in evidence:
        quotes[row["fact_id"]].append(row["quote"])
    rows = [
        {
            "fact_id": fact["id"],
            "label": fact["label"],
            "note": fact["note"],
            "extra": EXTRA_SEPARATOR.join(
                [*_attribute_text(fact["attributes"]), *quotes[fact["id"]]]
            ),
        }
        for fact in facts
    ]
    if rows:
        session.execute(insert(fact_search), rows)


def _attribute_text(value: Any) -> list[str]:
    """Every string inside the attributes (terms, conditions, agents, topics), as words."""
    if isinstance(value, str):
        return [value.replace("_", " ")]
    if isinstance(value, dict):
        return [t for k, v in value.items() if k not in _NOT_TEXT for t in _attribute_text(v)]
    if isinstance(value, list):
        return [t for v in value for t in _attribute_text(v)]
    return []

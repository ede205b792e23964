"""full-text search index of the facts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00

SQLite: an FTS5 virtual table with the porter stemmer. PostgreSQL: a table whose tsvector is
generated from the label (weight A), the note (B) and the rest (C: attribute text and evidence
quotes) with the 'english' configuration, under a GIN index. Both take (fact_id, label, note,
extra); the seed loader fills them (app/search/index.py),
and this migration fills them from an already loaded dataset, so that upgrading a database whose
dataset is current (and so is not re-seeded) does not leave search empty.
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match app/search/index.py; kept here so that this migration never changes with the app.
NOT_TEXT = frozenset({"codes", "url", "system", "code"})


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE fact_search USING fts5("
            "fact_id UNINDEXED, label, note, extra, tokenize = 'porter unicode61 remove_diacritics 2')"
        )
    else:
        op.create_table(
            "fact_search",
            sa.Column("fact_id", sa.Integer(), nullable=False),
            sa.Column("label", sa.Text(), nullable=False),
            sa.Column("note", sa.Text(), nullable=False),
            sa.Column("extra", sa.Text(), nullable=False),
            sa.Column(
                "document",
                postgresql.TSVECTOR(),
                sa.Computed(
                    "setweight(to_tsvector('english', label), 'A') || "
                    "setweight(to_tsvector('english', note), 'B') || "
                    "setweight(to_tsvector('english', extra), 'C')",
                    persisted=True,
                ),
                nullable=False,
            ),
            sa.ForeignKeyConstraint(
                ["fact_id"], ["fact.id"], name=op.f("fk_fact_search_fact_id_fact")
            ),
            sa.PrimaryKeyConstraint("fact_id", name=op.f("pk_fact_search")),
        )
        op.create_index(
            "ix_fact_search_document", "fact_search", ["document"], postgresql_using="gin"
        )
    _index_loaded_facts()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE fact_search")  # also drops FTS5's shadow tables
    else:
        op.drop_index("ix_fact_search_document", table_name="fact_search")
        op.drop_table("fact_search")


def _index_loaded_facts() -> None:
    bind = op.get_bind()
    fact = sa.table(
        "fact", sa.column("id"), sa.column("label"), sa.column("note"), sa.column("attributes")
    )
    evidence = sa.table("evidence", sa.column("fact_id"), sa.column("position"), sa.column("quote"))
    quotes: dict[int, list[str]] = defaultdict(list)
    for fact_id, quote in bind.execute(
        sa.select(evidence.c.fact_id, evidence.c.quote).order_by(
            evidence.c.fact_id, evidence.c.position
        )
    ):
        quotes[fact_id].append(quote)
    rows = []
    for fact_id, label, note, attributes in bind.execute(sa.select(fact).order_by(fact.c.id)):
        if isinstance(attributes, str):
            attributes = json.loads(attributes)
        extra = " · ".join([*_attribute_text(attributes), *quotes[fact_id]])
        rows.append({"fact_id": fact_id, "label": label, "note": note, "extra": extra})
    if rows:
        columns = [sa.column(name) for name in ("fact_id", "label", "note", "extra")]
        bind.execute(sa.insert(sa.table("fact_search", *columns)), rows)


def _attribute_text(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.replace("_", " ")]
    if isinstance(value, dict):
        return [t for k, v in value.items() if k not in NOT_TEXT for t in _attribute_text(v)]
    if isinstance(value, list):
        return [t for v in value for t in _attribute_text(v)]
    return []

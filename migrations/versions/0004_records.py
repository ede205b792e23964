"""records: one list item per real-world thing, gathering the statement-level facts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:00:00

Adds `record` and `record_fact`, and `fact.former_keys` (ids a moved fact is redirected from).
The full-text index now holds the records (what the lists serve), so `fact_search` is replaced
by `record_search` in each dialect's form (see 0002). A dataset loaded before this revision has no
records: its `dataset` row is removed, so the next `monograph seed` (which `serve` runs) reloads
it, while running workers keep serving their snapshot until then.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drug_slug", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("section", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["drug_slug"], ["drug.slug"], name=op.f("fk_record_drug_slug_drug")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record")),
        sa.UniqueConstraint("drug_slug", "key", name=op.f("uq_record_drug_slug")),
    )
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_drug_slug"), ["drug_slug"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_section"), ["section"], unique=False)
    op.create_table(
        "recordfact",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("fact_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["fact_id"], ["fact.id"], name=op.f("fk_recordfact_fact_id_fact")),
        sa.ForeignKeyConstraint(
            ["record_id"], ["record.id"], name=op.f("fk_recordfact_record_id_record")
        ),
        sa.PrimaryKeyConstraint("record_id", "fact_id", name=op.f("pk_recordfact")),
        sa.UniqueConstraint("fact_id", name=op.f("uq_recordfact_fact_id")),
    )
    with op.batch_alter_table("fact", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("former_keys", sa.JSON(), nullable=False, server_default="[]")
        )
    _replace_search_index()
    op.execute("DELETE FROM dataset")


def downgrade() -> None:
    _drop_record_search()
    # Not in batch mode: on SQLite it would copy and drop `fact`, which the evidence references.
    op.drop_column("fact", "former_keys")
    op.drop_table("recordfact")
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_section"))
        batch_op.drop_index(batch_op.f("ix_record_drug_slug"))
    op.drop_table("record")
    op.execute("DELETE FROM dataset")  # the facts' index is gone: force a reload


def _replace_search_index() -> None:
    _drop_search_table("fact_search")
    _create_search_table("record_search", "record_id", "record")


def _drop_record_search() -> None:
    """Back to 0002's index of the facts, empty until the next seed."""
    _drop_search_table("record_search")
    _create_search_table("fact_search", "fact_id", "fact")


def _drop_search_table(name: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TABLE {name}")  # also drops FTS5's shadow tables
        return
    op.drop_index(f"ix_{name}_document", table_name=name)
    op.drop_table(name)


def _create_search_table(name: str, key: str, indexed: str) -> None:
    """The index in each dialect's form, as 0002 built it: FTS5 with the porter stemmer on
    SQLite; a generated, weighted tsvector under a GIN index on PostgreSQL."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE {name} USING fts5("
            f"{key} UNINDEXED, label, note, extra,"
            " tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        return
    op.create_table(
        name,
        sa.Column(key, sa.Integer(), nullable=False),
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
        sa.ForeignKeyConstraint([key], [f"{indexed}.id"], name=op.f(f"fk_{name}_{key}_{indexed}")),
        sa.PrimaryKeyConstraint(key, name=op.f(f"pk_{name}")),
    )
    op.create_index(f"ix_{name}_document", name, ["document"], postgresql_using="gin")

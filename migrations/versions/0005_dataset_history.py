"""dataset release and the history of loaded versions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 08:40:00

`dataset.release` orders dataset versions (a replica never replaces a higher release with a lower
one); `dataset_history` keeps one row per load, never deleted by a re-seed. A dataset loaded
before this migration has no release and counts as older than any.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataset") as batch_op:
        batch_op.add_column(sa.Column("release", sa.Integer(), nullable=True))
    op.create_table(
        "dataset_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("release", sa.Integer(), nullable=True),
        sa.Column("loaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("fact_count", sa.Integer(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_history")),
    )


def downgrade() -> None:
    op.drop_table("dataset_history")
    with op.batch_alter_table("dataset") as batch_op:
        batch_op.drop_column("release")

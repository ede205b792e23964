"""evidence kinds, verification, restored words, span flags; fact ambiguity

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:00:00

An external citation says whether it gives the cited work's words or a value read off it, whether
a stored copy confirmed it, and which words of the fact it restores; a span carries the source's
own maintenance flags; a fact whose source cannot tell "is" from "is not" carries its readings.
All nullable: the seed loader rewrites every row on the next load.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("verified", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("restores", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("flags", sa.JSON(), nullable=True))
    with op.batch_alter_table("fact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ambiguity", sa.JSON(), nullable=True))


def downgrade() -> None:
    # recreate="never": SQLite (3.35+) drops a column in place; recreating the tables would
    # drop `fact` under the foreign keys that point at it.
    with op.batch_alter_table("fact", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("ambiguity")
    with op.batch_alter_table("evidence", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("flags")
        batch_op.drop_column("restores")
        batch_op.drop_column("verified")
        batch_op.drop_column("kind")

"""prefix indexes for SQLite's full-text search

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 16:00:00

Every search term matches as a prefix (`"term"*`). Without a prefix index FTS5 answers one by
walking every indexed token that starts with it and merging their lists, and BM25 does that again
for each term's document count. With an index of every prefix length from 1 to 25 characters, the
search statement took a seventh less time on the benchmark's queries (docs/performance.md). The
index holds the same tokens, so every answer is the same; only SQLite's table is rebuilt, with
its rows (and their rowids) copied. PostgreSQL's index is left as it is.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# FTS5 takes at most 31 prefix lengths; a stemmed term longer than 25 characters is still found,
# by walking the tokens.
PREFIX_LENGTHS = " ".join(str(length) for length in range(1, 26))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_record_search(f", prefix='{PREFIX_LENGTHS}'")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_record_search("")


def _rebuild_record_search(options: str) -> None:
    """record_search made again, as 0004 made it plus `options`, holding the same rows."""
    op.execute(
        "CREATE VIRTUAL TABLE record_search_rebuilt USING fts5("
        "record_id UNINDEXED, label, note, extra,"
        f" tokenize = 'porter unicode61 remove_diacritics 2'{options})"
    )
    op.execute(
        "INSERT INTO record_search_rebuilt (rowid, record_id, label, note, extra)"
        " SELECT rowid, record_id, label, note, extra FROM record_search"
    )
    op.execute("DROP TABLE record_search")  # with FTS5's shadow tables
    op.execute("ALTER TABLE record_search_rebuilt RENAME TO record_search")

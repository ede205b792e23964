"""Database tables. Built by Alembic migrations (migrations/), never by create_all at start-up.

The schema is generic over drugs and sections: a drug has facts, each fact belongs to a section and
has typed attributes (validated against app.domain.sections at load) and one or more pieces of
evidence: a span of a source text or a quote from an external citation. API response models live
apart, in app/schemas.py.

Two ids: where a table has both, `id` is the internal integer the foreign keys use, never served,
and `key` is the public id (the `id` of the JSON, the last segment of a path). The column names are
the migrations'; the Python names follow them rather than need a migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, MetaData, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# Set before any table is declared, so constraint names are stable across SQLite and PostgreSQL.
SQLModel.metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class Dataset(SQLModel, table=True):
    """The loaded dataset: one row, replaced with everything else on each load."""

    id: int = Field(default=1, primary_key=True)
    version: str = Field(max_length=64, description="SHA-256 over the seed inputs.")
    loaded_at: datetime
    fact_count: int
    release: int | None = Field(default=None, description="The seed's release (dataset.yaml).")


class DatasetHistory(SQLModel, table=True):
    """Every dataset version ever loaded, in order; kept across loads (migration 0003)."""

    __tablename__ = "dataset_history"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=64)
    release: int | None = None
    loaded_at: datetime
    fact_count: int
    forced: bool = Field(description="Loaded with --force over a newer release.")


# Shapes declared once: a base holds the fields a table, a seed record and an API model share, with
# their descriptions (the OpenAPI document's); each subclass adds its own fields and narrows a
# field's column (a primary key, a length) or its seed validation (a pattern) where it must.


class SourceBase(SQLModel):
    """A source text's identity and licence."""

    id: str = Field(
        description="The source text's id.", schema_extra={"examples": ["baclofen-wikipedia"]}
    )
    title: str = Field(description="The source's title.")
    url: str = Field(description="Where the source was published.")
    license: str = Field(
        description="The licence the text is used under.",
        schema_extra={"examples": ["CC BY-SA 4.0"]},
    )
    license_url: str = Field(description="The licence's text.")


class IdentifierBase(SQLModel):
    """A drug's entry in an external registry or terminology."""

    system: str = Field(
        description="The registry (ATC, CAS, PubChemCID, ...).", schema_extra={"examples": ["ATC"]}
    )
    value: str = Field(
        description="The drug's id in that registry.", schema_extra={"examples": ["M03BX01"]}
    )
    url: str = Field(
        description="The entry's page.",
        schema_extra={"examples": ["https://atcddd.fhi.no/atc_ddd_index/?code=M03BX01"]},
    )
    note: str | None = Field(default=None, description="A remark on the identifier, if any.")


class CitationBase(SQLModel):
    """A publication a value or word the source text lost is restored from."""

    id: str = Field(description="The citation's id.", schema_extra={"examples": ["zvejniece-2015"]})
    title: str = Field(description="The cited publication.")
    url: str = Field(description="Where to read it.")


class StatementBase(SQLModel):
    """Where a statement of a source text lies, and why no fact cites it, if none does."""

    start: int = Field(ge=0, description="Where the statement starts (character offset).")
    end: int = Field(gt=0, description="Where it ends (exclusive).")
    uncited_reason: str | None = Field(
        default=None, description="Why no fact cites this statement, where none does."
    )


class Source(SourceBase, table=True):
    id: str = Field(primary_key=True, max_length=100)
    sha256: str = Field(max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))


class Citation(CitationBase, table=True):
    """An external citation: where a value the source text lost was restored from."""

    id: str = Field(primary_key=True, max_length=100)


class Drug(SQLModel, table=True):
    slug: str = Field(primary_key=True, max_length=100)
    name: str
    summary: str = Field(description="One sentence: what the drug is (served as `summary`).")
    source_id: str = Field(foreign_key="source.id")


class DrugIdentifier(IdentifierBase, table=True):
    __table_args__ = (UniqueConstraint("drug_slug", "system"),)

    id: int | None = Field(default=None, primary_key=True)
    drug_slug: str = Field(foreign_key="drug.slug", index=True)
    position: int
    system: str = Field(max_length=50)


class Fact(SQLModel, table=True):
    """A statement-level fact; `key` is its public id, `id` the internal one (module docstring)."""

    __table_args__ = (UniqueConstraint("drug_slug", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    drug_slug: str = Field(foreign_key="drug.slug", index=True)
    key: str = Field(max_length=200, description="Stable public id, unique per drug.")
    section: str = Field(max_length=50, index=True)
    position: int
    label: str
    note: str
    attributes: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    former_keys: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description="Ids the fact was served under before it moved or was merged (redirected).",
    )
    ambiguity: dict[str, Any] | None = Field(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description="The readings the source allows where it cannot tell is from is not.",
    )


class Record(SQLModel, table=True):
    """A list item: one real-world thing (an effect, a use, a route...), gathering its facts.

    In sections that group their facts the seed declares the records; elsewhere each fact is its
    own record. The section's list endpoint serves these, the facts stay reachable on their own.
    """

    __table_args__ = (UniqueConstraint("drug_slug", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    drug_slug: str = Field(foreign_key="drug.slug", index=True)
    key: str = Field(max_length=200, description="Stable public id, unique per drug.")
    section: str = Field(max_length=50, index=True)
    position: int
    label: str
    note: str
    attributes: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class RecordFact(SQLModel, table=True):
    """Which facts a record gathers, in order; a fact belongs to exactly one record."""

    __table_args__ = (UniqueConstraint("fact_id"),)

    record_id: int = Field(foreign_key="record.id", primary_key=True)
    fact_id: int = Field(foreign_key="fact.id", primary_key=True)
    position: int


class Evidence(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(
            '(source_id IS NOT NULL AND start IS NOT NULL AND "end" IS NOT NULL'
            " AND citation_id IS NULL) OR (citation_id IS NOT NULL AND source_id IS NULL)",
            name="span_or_citation",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    fact_id: int = Field(foreign_key="fact.id", index=True)
    position: int
    source_id: str | None = Field(default=None, foreign_key="source.id")
    start: int | None = None
    end: int | None = None
    citation_id: str | None = Field(default=None, foreign_key="citation.id")
    quote: str = Field(description="The span's words, or the citation's quote or value.")
    # A citation's kind ("quote" or "value"), whether a stored copy confirmed it, and the words of
    # the fact it restores; a span's maintenance flags. app/domain/evidence.py says what each means.
    kind: str | None = Field(default=None, max_length=10)
    verified: bool | None = None
    restores: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    flags: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class DrugAlias(SQLModel, table=True):
    """Every name a drug answers to, normalised for lookup (slug, names, brands, synonyms)."""

    __table_args__ = (UniqueConstraint("drug_slug", "normalized"),)

    id: int | None = Field(default=None, primary_key=True)
    drug_slug: str = Field(foreign_key="drug.slug", index=True)
    name: str
    normalized: str = Field(index=True)
    kind: str = Field(max_length=30)


class Statement(StatementBase, table=True):
    """A statement of a source text, for coverage: cited by facts or listed with a reason."""

    __table_args__ = (UniqueConstraint("source_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="source.id", index=True)
    key: str = Field(max_length=50, description="Public id, unique per source.")

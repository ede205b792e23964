"""The API's response models, apart from the tables (app/models.py).

Each section's item model is the common fact fields plus that section's typed attributes
(app/domain/sections.py), flattened so that a client reads `item["status"]`, not a nested bag.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, create_model

from app.domain.described import described
from app.domain.evidence import Ambiguity, EvidenceKind, SpanFlag
from app.domain.sections import RouteAspect, Section, record_attributes
from app.errors import Problem
from app.models import IdentifierBase, SourceBase

SLUG = "The drug's slug: its id in paths."
DATASET_VERSION = "The dataset's version: a hash of the seed, new whenever the data changes."
SOURCE_ID = "The source text's id."


class SourceSpan(BaseModel):
    """Evidence in the source text: `text[start:end] == quote` (Python string indices)."""

    type: Literal["source_span"] = Field(description="The kind of evidence: a span of a source.")
    source: str = Field(description="The source text's id.", examples=["baclofen-wikipedia"])
    start: int = Field(description="Where the span starts (character offset).", examples=[2095])
    end: int = Field(description="Where the span ends (exclusive).", examples=[2118])
    quote: str = Field(description="The text of the span.", examples=["auditory hallucinations"])
    source_url: str = Field(
        description="Where to fetch the whole text.", examples=["/v1/sources/baclofen-wikipedia"]
    )
    flags: list[SpanFlag] = Field(
        default=[],
        description="Maintenance flags the source article itself puts on this statement.",
        examples=[["citation_needed"]],
    )


class ExternalCitation(BaseModel):
    """A value or word the source text lost, restored from an external citation."""

    type: Literal["external_citation"] = Field(
        description="The kind of evidence: a citation of a publication."
    )
    external: Literal[True] = Field(description="Always true: not from the source text.")
    citation: str = Field(description="The citation's id.", examples=["zvejniece-2015"])
    title: str = Field(description="The cited publication.")
    url: str = Field(description="Where to read it.")
    kind: EvidenceKind = Field(
        description="`quote`: the cited work's own words, verbatim; "
        "`value`: a value read off the cited work, not its words."
    )
    quote: str | None = Field(
        default=None, description="The cited work's words (kind `quote`).", examples=["30%"]
    )
    value: str | None = Field(
        default=None,
        description="The value read off the cited work (kind `value`).",
        examples=["Ki 6 μM (baclofen, GABA-B receptor)"],
    )
    verified: bool = Field(
        description="True when a stored copy of the cited work was found to hold it."
    )
    restores: list[str] = Field(
        default=[],
        description="Words or values of the fact's label or note that the source text lost and "
        "this citation supplies.",
        examples=[["1.5 to 4 hours"]],
    )


# One piece of evidence: a span of a source text, or an external citation.
EvidenceItem = Annotated[SourceSpan | ExternalCitation, Field(discriminator="type")]


class RecordRef(BaseModel):
    """The list item (record) that gathers a fact."""

    id: str = Field(description="The item's id.", examples=["adverse-effects-dizziness"])
    section: Section = Field(description="The list it is in.")
    href: str = Field(
        description="The item.",
        examples=["/v1/drugs/baclofen/adverse-effects/adverse-effects-dizziness"],
    )


class ListItem(BaseModel):
    """A list item: one real-world thing, with the evidence of every statement about it."""

    id: str = Field(description="Stable id of the item; it starts with the list's name.")
    section: Section = Field(description="The list the item is in.")
    label: str = Field(description="What it is, in a few words.")
    note: str = Field(
        description="What the source says of it, in plain words (negations restored)."
    )
    evidence: list[EvidenceItem] = Field(
        description="The evidence of every fact it gathers: spans of the source text and "
        "external citations, in the facts' order, each once."
    )
    facts: list[str] = Field(
        description="Ids of the statement-level facts it gathers; each is served at "
        "/v1/drugs/{drug}/facts/{id}."
    )
    ambiguity: Ambiguity | None = Field(
        default=None,
        description="Set where the source cannot tell is from is not and no citation settles it: "
        "every reading it allows, none chosen.",
    )


class RouteDetail(BaseModel):
    """One thing the source says about a route (its pump, test dose, catheter...)."""

    id: str = Field(description="The fact's id.", examples=["routes-intrathecal-test-dose"])
    aspect: RouteAspect = Field(description="What about the route it says.")
    label: str = Field(
        description="A short title.", examples=["Test dose before pump administration"]
    )
    note: str = Field(description="What the source says, in plain words.")
    evidence: list[EvidenceItem] = Field(description="What backs it.")


_ITEM_EXTRAS: dict[Section, dict[str, Any]] = {
    Section.routes: {
        "details": (
            list[RouteDetail],
            Field(description="What the source says of the route beyond what it is, in order."),
        )
    }
}


def _item_model(section: Section) -> type[ListItem]:
    attributes = record_attributes(section)
    name = "".join(part.title() for part in section.value.split("-")) + "Item"
    fields: dict[str, Any] = {
        field_name: (info.annotation, info) for field_name, info in attributes.model_fields.items()
    }
    fields |= _ITEM_EXTRAS.get(section, {})
    return create_model(
        name, __base__=ListItem, __doc__=f"An item of the {section} list.", **fields
    )


ITEM_MODELS: dict[Section, type[ListItem]] = {section: _item_model(section) for section in Section}


class FactItem(BaseModel):
    """A statement-level fact: what one statement of the source says, with its evidence."""

    id: str = Field(
        description="Stable id of the fact; it starts with the section's name.",
        examples=["adverse-effects-common-dizziness"],
    )
    section: Section = Field(description="The section the fact belongs to.")
    label: str = Field(description="A short title of the fact.")
    note: str = Field(description="What the statement says, in plain words (negations restored).")
    attributes: dict[str, Any] = Field(
        description="The fact's typed attributes: those of its section's facts "
        "(like the list item's, with one `route`, `context` or `status` a statement)."
    )
    evidence: list[EvidenceItem] = Field(
        description="What backs the fact: spans of the source text, external citations."
    )
    ambiguity: Ambiguity | None = Field(
        default=None,
        description="Set where the source cannot tell is from is not and no citation settles it: "
        "every reading it allows, none chosen.",
    )
    record: RecordRef = Field(description="The list item that gathers the fact.")
    href: str = Field(
        description="The fact.",
        examples=["/v1/drugs/baclofen/facts/adverse-effects-common-dizziness"],
    )


T = TypeVar("T")


def _describe_page(schema: dict[str, Any]) -> None:
    # A parametrised generic model (Page[X]) does not inherit its class's docstring.
    schema.setdefault("description", (Page.__doc__ or "").strip())


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, how many there are in all, and where this page starts."""

    model_config = ConfigDict(json_schema_extra=_describe_page)

    items: list[T] = Field(description="This page's items.")
    total: int = Field(description="How many items match, on all pages.", examples=[36])
    limit: int = Field(description="The most items a page holds.", examples=[50])
    offset: int = Field(description="How many matching items precede this page.", examples=[0])


def page_envelope(
    items: list[Any], total: int, limit: int, offset: int, **extra: Any
) -> dict[str, Any]:
    """The JSON of a `Page` (the one place it is built): this page's items, how many match in
    all, the limit and offset asked for, then what a list adds (search's `terms`)."""
    return {"items": items, "total": total, "limit": limit, "offset": offset, **extra}


class DrugListItem(BaseModel):
    """A drug the service describes, and where its monograph is."""

    slug: str = Field(description=SLUG, examples=["baclofen"])
    name: str = Field(description="The drug's name.", examples=["Baclofen"])
    href: str = Field(description="The drug's monograph.", examples=["/v1/drugs/baclofen"])


class Identifier(IdentifierBase):
    """The drug's entry in an external registry or terminology."""


class SectionLink(BaseModel):
    """A list of the monograph, where it is and how many items it holds."""

    section: Section = Field(description="The section.")
    href: str = Field(description="Its list.", examples=["/v1/drugs/baclofen/indications"])
    count: int = Field(description="How many items it holds.", examples=[12])


class FactsLink(BaseModel):
    """Where the statement-level facts are, and how many there are."""

    href: str = Field(description="Their list.", examples=["/v1/drugs/baclofen/facts"])
    count: int = Field(description="Statement-level facts in all sections.", examples=[183])


class DrugSummary(BaseModel):
    """The monograph's front page: who the drug is, its identifiers and links to every section."""

    slug: str = Field(description=SLUG, examples=["baclofen"])
    name: str = Field(description="The drug's name.", examples=["Baclofen"])
    summary: str = Field(description="What the drug is, in a sentence.")
    source: str = Field(
        description="The id of the source text the facts cite.", examples=["baclofen-wikipedia"]
    )
    dataset_version: str = Field(description=DATASET_VERSION)
    identifiers: list[Identifier] = Field(description="The drug's ids in external registries.")
    names: list[str] = Field(description="Nonproprietary name, brands and synonyms.")
    sections: list[SectionLink] = Field(description="Every list, with its size.")
    facts: FactsLink = Field(
        description="Every statement-level fact, the lists' items are gathered from."
    )
    overview: list[ITEM_MODELS[Section.overview]] = Field(  # type: ignore[valid-type]
        description="The facts of the lead."
    )


class SourceListItem(SourceBase):
    """A source text evidence points into, with its licence."""

    length: int = Field(description="Length of the text in characters.")
    href: str = Field(description="The text itself.", examples=["/v1/sources/baclofen-wikipedia"])


class SourceText(SourceBase):
    """A source text, whole, with its licence and hash."""

    sha256: str = Field(description="SHA-256 of the text encoded as UTF-8, in hex.")
    length: int = Field(description="Length of `text` in characters (Python string indices).")
    text: str = Field(description="The text evidence offsets index into.")


# A timestamp written as Python's isoformat() writes it ("+00:00", not pydantic's "Z"): the form
# the service has always served, and the one clients generated from the contract write back.
IsoDatetime = Annotated[
    datetime,
    PlainSerializer(lambda moment: moment.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class DatasetInfo(BaseModel):
    """The dataset being served."""

    version: str = Field(description=DATASET_VERSION)
    loaded_at: IsoDatetime = Field(description="When it was loaded into the database.")
    fact_count: int = Field(description="How many statement-level facts it holds, over all drugs.")
    record_count: int = Field(description="How many list items it holds, over all drugs.")


class FactRef(BaseModel):
    """A fact citing a statement, and the list item that gathers it."""

    drug: str = Field(description="The drug's slug.", examples=["baclofen"])
    section: Section = Field(description="The fact's section.")
    id: str = Field(description="The fact's id.", examples=["withdrawal-symptoms-tremors"])
    href: str = Field(
        description="The fact.", examples=["/v1/drugs/baclofen/facts/withdrawal-symptoms-tremors"]
    )
    record: RecordRef = Field(description="The list item that gathers the fact.")


class StatementCoverage(BaseModel):
    """One statement of the source text and the facts whose evidence spans overlap it."""

    id: str = Field(description="The statement's id, in the order of the text.", examples=["s042"])
    start: int = Field(description="Where the statement starts (character offset).")
    end: int = Field(description="Where it ends (exclusive).")
    text: str = Field(description="The statement's text.")
    cited_by: list[FactRef] = Field(description="The facts whose evidence overlaps it.")
    uncited_reason: str | None = Field(
        default=None, description="Why no fact cites this statement, where none does."
    )


class Coverage(BaseModel):
    """How much of a source text the facts account for, statement by statement."""

    source: str = Field(description=SOURCE_ID, examples=["baclofen-wikipedia"])
    statements_total: int = Field(description="Statements in the text.")
    statements_cited: int = Field(description="Statements some fact cites.")
    statements_with_reason: int = Field(description="Statements listed with an uncited_reason.")
    statements_unaccounted: int = Field(description="Neither cited nor listed: should be 0.")
    characters_covered_share: float = Field(
        ge=0,
        le=1,
        description="Share of the text's non-space characters inside some evidence span.",
    )
    statements: list[StatementCoverage] = Field(description="Every statement, in order.")


class SearchHit(BaseModel):
    """A list item matching a search, with where it matched and a link to it."""

    drug: str = Field(description="The drug's slug.", examples=["baclofen"])
    section: Section = Field(description="The fact's section.")
    id: str = Field(
        description="The fact's id.", examples=["withdrawal-symptoms-auditory-hallucinations"]
    )
    label: str = Field(description="The fact's label.", examples=["Auditory hallucinations"])
    snippet: str = Field(
        description="The best-matching passage; each match is wrapped in <mark>...</mark>.",
        examples=["Auditory <mark>hallucinations</mark>"],
    )
    score: float = Field(
        description="Relevance, higher is better; comparable within one response only "
        "(SQLite: BM25, PostgreSQL: ts_rank).",
    )
    href: str = Field(
        description="The fact.",
        examples=[
            "/v1/drugs/baclofen/withdrawal-symptoms/withdrawal-symptoms-auditory-hallucinations"
        ],
    )
    record: dict[str, Any] = Field(
        description="The matched item, as its list's item endpoint serves it."
    )


class SearchPage(Page[SearchHit]):
    """One page of search hits, best first, and the words searched for."""

    terms: list[str] = Field(
        description="The words searched for (lower-cased, common words dropped), each as a prefix "
        "and all required.",
        examples=[["hallucination"]],
    )


class LookupDrug(BaseModel):
    """A drug a name resolved to."""

    slug: str = Field(description=SLUG, examples=["baclofen"])
    name: str = Field(description="The drug's name.", examples=["Baclofen"])
    href: str = Field(description="The drug's monograph.", examples=["/v1/drugs/baclofen"])


class LookupCandidate(BaseModel):
    """A drug the name may mean, and which of its names matched."""

    drug: LookupDrug = Field(description="The drug.")
    matched_name: str = Field(description="The drug's name that matched.", examples=["Lioresal"])
    matched_kind: str = Field(
        description="slug, name, nonproprietary, brand or synonym.", examples=["brand"]
    )
    score: float = Field(
        ge=0, le=1, description="How well it matched: 1 unless fuzzy.", examples=[0.875]
    )


@described(
    {
        "resolved": "The name means one drug: `drug` is it.",
        "ambiguous": "Drugs match equally well: choose among `candidates`.",
    }
)
class LookupStatus(StrEnum):
    """Whether a name resolved to one drug."""

    resolved = "resolved"
    ambiguous = "ambiguous"


@described(
    {
        "exact": "The drug's slug or name, as written.",
        "alias": "A brand name or synonym of the drug, as written.",
        "normalized": "A name, ignoring case, accents, spaces and punctuation.",
        "fuzzy": "A name with a typo or two (see `score`).",
    }
)
class LookupMatch(StrEnum):
    """How a name matched one of a drug's names."""

    exact = "exact"
    alias = "alias"
    normalized = "normalized"
    fuzzy = "fuzzy"


class LookupResult(BaseModel):
    """A name resolved to one drug, or, when drugs tie, the candidates to choose from."""

    query: str = Field(description="The name asked for, as given.", examples=["lioresl"])
    status: LookupStatus = Field(description="Whether the name means one drug.")
    match_type: LookupMatch = Field(description="How the name matched.")
    score: float = Field(
        ge=0,
        le=1,
        description="1 for exact, alias and normalized matches; for fuzzy ones the "
        "Damerau-Levenshtein similarity of the normalised names (1 - edits / longer length).",
        examples=[0.875],
    )
    drug: LookupDrug | None = Field(description="The drug, when resolved; null when ambiguous.")
    matched_name: str | None = Field(
        description="The drug's name that matched, when resolved.", examples=["Lioresal"]
    )
    candidates: list[LookupCandidate] = Field(
        description="One per drug matching equally well: one when resolved, several when ambiguous."
    )


class DrugSuggestion(BaseModel):
    """A drug that might be meant by a name that matched none: each drug once."""

    slug: str = Field(description=SLUG, examples=["baclofen"])
    name: str = Field(description="The drug's name.", examples=["Baclofen"])
    href: str = Field(description="The drug's summary.", examples=["/v1/drugs/baclofen"])
    matched_names: list[str] = Field(
        description="Its names close to what was typed, closest first.", examples=[["Baclofen"]]
    )


class DrugNameProblem(Problem):
    """A problem with a drug's name: no drug has it (404), or several do (422)."""

    candidates: list[LookupCandidate] | None = Field(
        default=None,
        description="For ambiguous-name: the drugs the name means, as /v1/lookup lists them.",
    )
    suggestions: list[DrugSuggestion] | None = Field(
        default=None, description="For not-found: drugs whose names are close to the one given."
    )
    lookup: str | None = Field(
        default=None,
        description="The /v1/lookup request for the name: it forgives typos and explains matches.",
        examples=["/v1/lookup?name=lioresl"],
    )


class FacetValue(BaseModel):
    """One value of a field and how many facts have it."""

    value: str | None = Field(description="A value of the field, lower-cased; null for unset.")
    count: int = Field(description="How many facts have the value.")
    href: str | None = Field(
        description="The section's list filtered to this value (none for null).",
        examples=["/v1/drugs/baclofen/adverse-effects?seriousness=serious"],
    )


class Facet(BaseModel):
    """One filter of a section and how its facts spread over its values."""

    field: str = Field(description="The filter's query parameter.", examples=["seriousness"])
    values: list[FacetValue] = Field(description="Most frequent first; null always listed last.")


class SectionFacets(BaseModel):
    """How a section's facts spread over the values of each field it can be filtered by."""

    drug: str = Field(description="The drug's slug.", examples=["baclofen"])
    section: Section = Field(description="The section.")
    total: int = Field(
        description="Items in the list. A single-valued field's counts sum to it; a list-valued "
        "field (routes, contexts) counts an item once for each value it holds."
    )
    facets: list[Facet] = Field(description="One per filter of the section.")

"""The API's response models, apart from the tables (app/models.py).

Each section's item model is the common fact fields plus that section's typed attributes
(app/domain/sections.py), flattened so that a client reads `item["status"]`, not a nested bag.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, create_model

from app.domain.sections import SECTION_ATTRIBUTES, Section
from app.errors import Problem


class SourceSpan(BaseModel):
    """Evidence in the source text: `text[start:end] == quote` (Python string indices)."""

    type: Literal["source_span"] = "source_span"
    source: str = Field(examples=["baclofen-wikipedia"])
    start: int = Field(examples=[2095])
    end: int = Field(examples=[2118])
    quote: str = Field(examples=["auditory hallucinations"])
    source_url: str = Field(
        description="Where to fetch the whole text.", examples=["/v1/sources/baclofen-wikipedia"]
    )


class ExternalCitation(BaseModel):
    """A value or word the source text lost, restored from an external citation."""

    type: Literal["external_citation"] = "external_citation"
    external: Literal[True] = Field(default=True, description="Not from the source text.")
    citation: str = Field(examples=["zvejniece-2015"])
    title: str
    url: str
    quote: str = Field(examples=["Ki = 6 μM (baclofen, GABA-B)"])


Evidence = Annotated[SourceSpan | ExternalCitation, Field(discriminator="type")]


class FactItem(BaseModel):
    id: str = Field(description="Stable id of the fact.", examples=["withdrawal-symptoms-tremors"])
    section: Section
    label: str = Field(examples=["Tremors"])
    note: str = Field(description="What the source says, in plain words (negations restored).")
    evidence: list[Evidence]


def _item_model(section: Section) -> type[FactItem]:
    attributes = SECTION_ATTRIBUTES[section]
    name = attributes.__name__.removesuffix("Attributes") + "Item"
    fields: dict[str, Any] = {
        field_name: (info.annotation, info) for field_name, info in attributes.model_fields.items()
    }
    return create_model(
        name, __base__=FactItem, __doc__=f"A fact of the {section} section.", **fields
    )


ITEM_MODELS: dict[Section, type[FactItem]] = {section: _item_model(section) for section in Section}

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, how many there are in all, and where this page starts."""

    items: list[T]
    total: int = Field(examples=[36])
    limit: int = Field(examples=[50])
    offset: int = Field(examples=[0])


class DrugListItem(BaseModel):
    slug: str = Field(examples=["baclofen"])
    name: str = Field(examples=["Baclofen"])
    href: str = Field(examples=["/v1/drugs/baclofen"])


class Identifier(BaseModel):
    system: str = Field(examples=["ATC"])
    value: str = Field(examples=["M03BX01"])
    url: str = Field(examples=["https://atcddd.fhi.no/atc_ddd_index/?code=M03BX01"])
    note: str | None = None


class SectionLink(BaseModel):
    section: Section
    href: str = Field(examples=["/v1/drugs/baclofen/indications"])
    count: int = Field(examples=[14])


class DrugSummary(BaseModel):
    """The monograph's front page: who the drug is, its identifiers and links to every section."""

    slug: str = Field(examples=["baclofen"])
    name: str = Field(examples=["Baclofen"])
    summary: str
    source: str = Field(examples=["baclofen-wikipedia"])
    dataset_version: str
    identifiers: list[Identifier]
    names: list[str] = Field(description="Nonproprietary name, brands and synonyms.")
    sections: list[SectionLink]
    overview: list[ITEM_MODELS[Section.overview]]  # type: ignore[valid-type]


class SourceListItem(BaseModel):
    id: str = Field(examples=["baclofen-wikipedia"])
    title: str
    url: str
    license: str = Field(examples=["CC BY-SA 4.0"])
    license_url: str
    length: int = Field(description="Length of the text in characters.")
    href: str = Field(examples=["/v1/sources/baclofen-wikipedia"])


class SourceText(BaseModel):
    id: str = Field(examples=["baclofen-wikipedia"])
    title: str
    url: str
    license: str = Field(examples=["CC BY-SA 4.0"])
    license_url: str
    sha256: str
    length: int = Field(description="Length of `text` in characters (Python string indices).")
    text: str


class DatasetInfo(BaseModel):
    version: str
    loaded_at: datetime
    fact_count: int


class FactRef(BaseModel):
    drug: str = Field(examples=["baclofen"])
    section: Section
    id: str = Field(examples=["withdrawal-symptoms-tremors"])
    href: str = Field(
        examples=["/v1/drugs/baclofen/withdrawal-symptoms/withdrawal-symptoms-tremors"]
    )


class StatementCoverage(BaseModel):
    """One statement of the source text and the facts whose evidence spans overlap it."""

    id: str = Field(examples=["s042"])
    start: int
    end: int
    text: str
    cited_by: list[FactRef]
    uncited_reason: str | None = Field(
        default=None, description="Why no fact cites this statement, where none does."
    )


class Coverage(BaseModel):
    """How much of a source text the facts account for, statement by statement."""

    source: str = Field(examples=["baclofen-wikipedia"])
    statements_total: int
    statements_cited: int
    statements_with_reason: int = Field(description="Statements listed with an uncited_reason.")
    statements_unaccounted: int = Field(description="Neither cited nor listed: should be 0.")
    characters_covered_share: float = Field(
        ge=0,
        le=1,
        description="Share of the text's non-space characters inside some evidence span.",
    )
    statements: list[StatementCoverage]


class SearchHit(BaseModel):
    """A fact matching a search, with where it matched and a link to it."""

    drug: str = Field(examples=["baclofen"])
    section: Section
    id: str = Field(examples=["withdrawal-symptoms-auditory-hallucinations"])
    label: str = Field(examples=["Auditory hallucinations"])
    snippet: str = Field(
        description="The best-matching passage; each match is wrapped in <mark>...</mark>.",
        examples=["Auditory <mark>hallucinations</mark>"],
    )
    score: float = Field(
        description="Relevance, higher is better; comparable within one response only "
        "(SQLite: BM25, PostgreSQL: ts_rank).",
    )
    href: str = Field(
        examples=[
            "/v1/drugs/baclofen/withdrawal-symptoms/withdrawal-symptoms-auditory-hallucinations"
        ]
    )
    record: dict[str, Any] = Field(
        description="The matched fact, as its section's item endpoint serves it."
    )


class SearchPage(Page[SearchHit]):
    terms: list[str] = Field(
        description="The words searched for (lower-cased, common words dropped), each as a prefix "
        "and all required.",
        examples=[["hallucination"]],
    )


class LookupDrug(BaseModel):
    slug: str = Field(examples=["baclofen"])
    name: str = Field(examples=["Baclofen"])
    href: str = Field(examples=["/v1/drugs/baclofen"])


class LookupCandidate(BaseModel):
    drug: LookupDrug
    matched_name: str = Field(examples=["Lioresal"])
    matched_kind: str = Field(
        description="slug, name, nonproprietary, brand or synonym.", examples=["brand"]
    )
    score: float = Field(ge=0, le=1, examples=[0.875])


class LookupResult(BaseModel):
    """A name resolved to one drug, or, when drugs tie, the candidates to choose from."""

    query: str = Field(examples=["lioresl"])
    status: Literal["resolved", "ambiguous"]
    match_type: Literal["exact", "alias", "normalized", "fuzzy"]
    score: float = Field(
        ge=0,
        le=1,
        description="1 for exact, alias and normalized matches; for fuzzy ones the "
        "Damerau-Levenshtein similarity of the normalised names (1 - edits / longer length).",
        examples=[0.875],
    )
    drug: LookupDrug | None = Field(description="The drug, when resolved; null when ambiguous.")
    matched_name: str | None = Field(examples=["Lioresal"])
    candidates: list[LookupCandidate] = Field(
        description="One per drug matching equally well: one when resolved, several when ambiguous."
    )


class DrugSuggestion(BaseModel):
    """A drug that might be meant by a name that matched none: each drug once."""

    slug: str = Field(examples=["baclofen"])
    name: str = Field(examples=["Baclofen"])
    href: str = Field(examples=["/v1/drugs/baclofen"])
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
    value: str | None = Field(description="A value of the field, lower-cased; null for unset.")
    count: int
    href: str | None = Field(
        description="The section's list filtered to this value (none for null).",
        examples=["/v1/drugs/baclofen/adverse-effects?seriousness=serious"],
    )


class Facet(BaseModel):
    field: str = Field(examples=["seriousness"])
    values: list[FacetValue] = Field(description="Most frequent first; null always listed last.")


class SectionFacets(BaseModel):
    """How a section's facts spread over the values of each field it can be filtered by."""

    drug: str = Field(examples=["baclofen"])
    section: Section
    total: int = Field(description="Facts in the section; each facet's counts sum to it.")
    facets: list[Facet]

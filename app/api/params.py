"""Query-parameter models: every filter of an endpoint in one typed model, unknown names refused."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from app.domain.described import described
from app.domain.names import normalize_name
from app.domain.sections import (
    AbuseTopic,
    EffectContext,
    Frequency,
    IndicationStanding,
    NameKind,
    OverdoseTopic,
    PharmacologyTopic,
    Population,
    ResearchOutcome,
    Route,
    Section,
    Seriousness,
    TargetAction,
    WithdrawalSyndromeTopic,
)
from app.search.backends import SearchSort
from app.search.query import HAS_WORD_PATTERN, MAX_QUERY_LENGTH, search_terms

MAX_LIMIT = 200
MAX_SEARCH_LIMIT = 100
_DIGITS = re.compile(r"[0-9]{1,9}")


def _plain_integer(value: Any) -> Any:
    """Digits only: pydantic alone would also take `5.0`, `+5`, ` 5` and `1_0` as 5 or 10."""
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise ValueError("must be a whole number written with digits only")
    return value


# A query parameter's integer: what a client writes is what it means.
PlainInt = Annotated[int, BeforeValidator(_plain_integer)]


@described(
    {
        "position": "The source's order.",
        "label": "By label, A to Z (ties keep the source's order).",
        "-label": "By label, Z to A (ties keep the source's order).",
        "id": "By id, A to Z.",
        "-id": "By id, Z to A.",
    }
)
class SortOrder(StrEnum):
    """The order of a section's facts; a leading `-` sorts descending."""

    position = "position"
    label = "label"
    label_desc = "-label"
    id = "id"
    id_desc = "-id"


class ListParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Filters matched against a list-valued field of the items (param name -> field name):
    # `route=intrathecal` keeps the uses whose `routes` hold it.
    LIST_FIELDS: ClassVar[dict[str, str]] = {}

    limit: PlainInt = Field(default=50, ge=1, le=MAX_LIMIT, description="Items per page.")
    offset: PlainInt = Field(default=0, ge=0, le=100_000, description="Items to skip.")
    sort: SortOrder = Field(default=SortOrder.position, description="Order of the items.")

    def filters(self) -> dict[str, Any]:
        """The filters set on this request: parameter name -> required value."""
        paging = ListParams.model_fields.keys()
        return {
            name: getattr(self, name)
            for name in type(self).model_fields
            if name not in paging and getattr(self, name) is not None
        }

    @classmethod
    def matches(cls, item: dict[str, Any], name: str, value: Any) -> bool:
        field = cls.LIST_FIELDS.get(name)
        if field is not None:
            return value in item.get(field, [])
        return bool(item.get(name) == value)


class IndicationParams(ListParams):
    LIST_FIELDS: ClassVar[dict[str, str]] = {"route": "routes"}

    status: IndicationStanding | None = Field(
        default=None, description="Only uses of this standing."
    )
    route: Route | None = Field(default=None, description="Only uses by this route.")


class RouteParams(ListParams):
    route: Route | None = Field(default=None, description="Only this route.")


class AdverseEffectParams(ListParams):
    LIST_FIELDS: ClassVar[dict[str, str]] = {"context": "contexts"}

    frequency: Frequency | None = Field(default=None, description="Only effects this frequent.")
    seriousness: Seriousness | None = Field(default=None, description="Only this seriousness.")
    context: EffectContext | None = Field(
        default=None, description="Only effects occurring in this context."
    )
    absent: bool | None = Field(
        default=None, description="`false`: effects baclofen causes; `true`: effects it denies."
    )


class WithdrawalSyndromeParams(ListParams):
    topic: WithdrawalSyndromeTopic | None = Field(default=None, description="Only this topic.")


class OverdoseParams(ListParams):
    topic: OverdoseTopic | None = Field(default=None, description="Only this topic.")


class PharmacologyParams(ListParams):
    topic: PharmacologyTopic | None = Field(
        default=None, description="Only targets, mechanisms, effects or related compounds."
    )
    action: TargetAction | None = Field(default=None, description="Only targets it acts on so.")


class NameParams(ListParams):
    name_kind: NameKind | None = Field(default=None, description="Only names of this kind.")


class ResearchParams(ListParams):
    outcome: ResearchOutcome | None = Field(default=None, description="Only this outcome.")


class PopulationParams(ListParams):
    population: Population | None = Field(default=None, description="Only this population.")


class AbuseParams(ListParams):
    topic: AbuseTopic | None = Field(default=None, description="Only this topic.")
    absent: bool | None = Field(
        default=None, description="`true`: what the source says does not occur."
    )


class FactParams(ListParams):
    section: Section | None = Field(default=None, description="Only facts of this section.")


SECTION_PARAMS: dict[Section, type[ListParams]] = {
    Section.indications: IndicationParams,
    Section.routes: RouteParams,
    Section.adverse_effects: AdverseEffectParams,
    Section.specific_populations: PopulationParams,
    Section.abuse_and_dependence: AbuseParams,
    Section.withdrawal_syndrome: WithdrawalSyndromeParams,
    Section.overdose: OverdoseParams,
    Section.pharmacology: PharmacologyParams,
    Section.names: NameParams,
    Section.research: ResearchParams,
}


def params_for(section: Section) -> type[ListParams]:
    return SECTION_PARAMS.get(section, ListParams)


def apply(items: list[dict[str, Any]], params: ListParams) -> tuple[list[dict[str, Any]], int]:
    """Filter, sort and cut one page; returns the page and the total before paging."""
    wanted = params.filters()
    if wanted:
        items = [
            item
            for item in items
            if all(params.matches(item, name, value) for name, value in wanted.items())
        ]
    if params.sort is not SortOrder.position:
        key = params.sort.value.lstrip("-")
        # sorted() is stable, also in reverse: equal labels keep the source's order.
        items = sorted(
            items, key=lambda item: item[key].casefold(), reverse=params.sort.value.startswith("-")
        )
    return items[params.offset : params.offset + params.limit], len(items)


class SearchParams(BaseModel):
    """/v1/search: the query, its filters, its order and its page."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(
        min_length=1,
        max_length=MAX_QUERY_LENGTH,
        description="Words to find, in any section; each matches as a stemmed prefix "
        "('hallucination' finds 'hallucinations'), and every word is required. Operators and "
        "punctuation are ignored.",
        examples=["hallucination", "intrathecal pump"],
        # Declared for clients and schema-driven tools; the validator below gives the clear message.
        json_schema_extra={"pattern": HAS_WORD_PATTERN},
    )
    drug: str | None = Field(
        default=None, max_length=200, description="Only this drug (its slug or any of its names)."
    )
    section: Section | None = Field(default=None, description="Only this section.")
    sort: SearchSort = Field(default=SearchSort.relevance, description="Order of the hits.")
    limit: PlainInt = Field(default=20, ge=1, le=MAX_SEARCH_LIMIT, description="Hits per page.")
    offset: PlainInt = Field(default=0, ge=0, le=10_000, description="Hits to skip.")

    @field_validator("q")
    @classmethod
    def _has_words(cls, q: str) -> str:
        search_terms(q)  # raises a ValueError (a 422) when nothing in q is searchable
        return q

    @property
    def terms(self) -> list[str]:
        return search_terms(self.q)


class LookupParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=200,
        description="A drug's name, brand or synonym, as typed (typos forgiven).",
        examples=["lioresl", "LIORESAL", "baclofen"],
        json_schema_extra={"pattern": HAS_WORD_PATTERN},
    )

    @field_validator("name")
    @classmethod
    def _has_letters(cls, name: str) -> str:
        if not normalize_name(name):
            raise ValueError("has no letters or digits")
        return name


# The paging parameters of list routes that have no other filters (drugs, sources).
# The validator after the constraints: before them, FastAPI publishes `ge`/`le` in the OpenAPI
# document instead of minimum/maximum.
Limit = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description="Items per page."),
    BeforeValidator(_plain_integer),
]
Offset = Annotated[
    int, Query(ge=0, le=100_000, description="Items to skip."), BeforeValidator(_plain_integer)
]


def page_of(items: list[dict[str, Any]], limit: int, offset: int) -> dict[str, Any]:
    """The list envelope every list shares: one page of the items, the total, limit and offset."""
    return {
        "items": items[offset : offset + limit],
        "total": len(items),
        "limit": limit,
        "offset": offset,
    }

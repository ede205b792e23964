"""Query-parameter models: every filter of an endpoint in one typed model, unknown names refused."""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, ClassVar

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, field_validator
from pydantic.fields import FieldInfo

from app.domain.described import described
from app.domain.names import normalize_name
from app.domain.sections import Section, record_attributes
from app.schemas import page_envelope
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

    @classmethod
    def filter_names(cls) -> list[str]:
        """The model's filters: every field beyond paging and sorting, in declaration order."""
        return [name for name in cls.model_fields if name not in ListParams.model_fields]

    def filters(self) -> dict[str, Any]:
        """The filters set on this request: parameter name -> required value."""
        return {
            name: getattr(self, name)
            for name in self.filter_names()
            if getattr(self, name) is not None
        }

    @classmethod
    def matches(cls, item: dict[str, Any], name: str, value: Any) -> bool:
        field = cls.LIST_FIELDS.get(name)
        if field is not None:
            return value in item.get(field, [])
        return bool(item.get(name) == value)


class FactParams(ListParams):
    section: Section | None = Field(default=None, description="Only facts of this section.")


@dataclass(frozen=True)
class _Filter:
    """A filter an attribute declares: `route=oral` keeps the items whose `routes` hold `oral`."""

    name: str  # the query parameter
    field: str  # the item's field
    kind: Any  # the value's type: an enumeration or bool
    by_membership: bool  # the field is a list of values


def _declared_filter(field_name: str, field: FieldInfo) -> _Filter | None:
    """The filter a list item's attribute declares, or None.

    A described enumeration or a bool, optional or not, filters by equality; a list of an
    enumeration filters by membership under its singular name (`routes` -> `route`)."""
    annotation = field.annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        present = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        annotation = present[0] if len(present) == 1 else None
    if annotation is bool or _is_enum(annotation):
        return _Filter(field_name, field_name, annotation, by_membership=False)
    if typing.get_origin(annotation) is list:
        (member,) = typing.get_args(annotation)
        if _is_enum(member):
            if not field_name.endswith("s"):
                raise TypeError(f"{field_name}: a list filter needs a plural name ending in s")
            return _Filter(field_name.removesuffix("s"), field_name, member, by_membership=True)
    return None


def _is_enum(annotation: Any) -> bool:
    # Every StrEnum of app.domain.sections is @described (tests/test_openapi_descriptions.py).
    return isinstance(annotation, type) and issubclass(annotation, StrEnum)


def filter_model(attributes: type[BaseModel]) -> type[ListParams]:
    """The query model of a list whose items have these attributes: paging, sorting and one
    optional filter per enumeration, bool or list of an enumeration among them, described by
    the attribute's own description."""
    fields: dict[str, Any] = {}
    list_fields: dict[str, str] = {}
    for field_name, field in attributes.model_fields.items():
        found = _declared_filter(field_name, field)
        if found is None:
            continue
        if found.name in fields or found.name in ListParams.model_fields:
            raise TypeError(f"{attributes.__name__}: two parameters named {found.name!r}")
        if found.by_membership:
            list_fields[found.name] = found.field
        verb = "hold" if found.by_membership else "is"
        description = (
            f"Only the items whose `{found.field}` {verb} this value. "
            f"`{found.field}`: {field.description}"
        )
        fields[found.name] = (found.kind | None, Field(default=None, description=description))
    stem = attributes.__name__.removesuffix("Record").removesuffix("Attributes")
    model = create_model(
        f"{stem}Params",
        __base__=ListParams,
        __doc__=f"The page, order and filters of a list of {attributes.__name__} items.",
        **fields,
    )
    model.LIST_FIELDS = list_fields
    return model


def _section_params() -> dict[Section, type[ListParams]]:
    """The query model of every list with at least one filter, in the sections' order."""
    models = {section: filter_model(record_attributes(section)) for section in Section}
    return {section: model for section, model in models.items() if model.filter_names()}


SECTION_PARAMS: dict[Section, type[ListParams]] = _section_params()


def params_for(section: Section) -> type[ListParams]:
    return SECTION_PARAMS.get(section, ListParams)


def filter_sort_page(items: list[dict[str, Any]], params: ListParams) -> dict[str, Any]:
    """The page of the items the request's filters keep, in its order: a `Page`'s JSON."""
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
    page = items[params.offset : params.offset + params.limit]
    return page_envelope(page, len(items), params.limit, params.offset)


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
        _terms_of(q)  # raises a ValueError (a 422) when nothing in q is searchable
        return q

    @property
    def terms(self) -> list[str]:
        return list(_terms_of(self.q))


@lru_cache(maxsize=64)
def _terms_of(q: str) -> tuple[str, ...]:
    """The search terms of q, kept for the last few queries: validating q and searching for it
    both need them, and working them out twice was a twentieth of a search."""
    return tuple(search_terms(q))


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

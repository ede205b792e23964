"""Facets: for each field a section can be filtered by, how many facts have each value."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from app.api.params import ListParams
from app.domain.sections import Section
from app.schemas import Facet, FacetValue, SectionFacets


def filter_fields(params_model: type[ListParams]) -> list[str]:
    """The section's filter parameters: every field of its model beyond paging and sorting."""
    return params_model.filter_names()


def section_facets(
    drug: str, section: Section, items: list[dict[str, Any]], params_model: type[ListParams]
) -> SectionFacets:
    href = f"/v1/drugs/{drug}/{section.value}"
    return SectionFacets(
        drug=drug,
        section=section,
        total=len(items),
        facets=[
            _facet(href, name, items, params_model.LIST_FIELDS.get(name))
            for name in filter_fields(params_model)
        ],
    )


def _facet(
    href: str, name: str, items: list[dict[str, Any]], list_field: str | None = None
) -> Facet:
    """Counts per value; for a list-valued field each item counts once for each value it holds
    (and as unset when it holds none), so counts may sum to more than the total."""
    if list_field is None:
        counts = Counter(_casefolded(item.get(name)) for item in items)
    else:
        counts = Counter(
            value
            for item in items
            for value in ([_casefolded(v) for v in item.get(list_field, [])] or [None])
        )
    unset = counts.pop(None, 0)
    values = [
        FacetValue(value=value, count=count, href=f"{href}?{urlencode({name: value})}")
        for value, count in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    ]
    values.append(FacetValue(value=None, count=unset, href=None))
    return Facet(field=name, values=values)


def _casefolded(value: Any) -> str | None:
    """The value as a facet counts it: text without letter case; None for unset."""
    return None if value is None else str(value).casefold()

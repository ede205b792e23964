"""/v1/search (full text over every list item) and /v1/lookup (a drug by name, typos forgiven)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api.deps import CatalogDep, SearchServiceDep
from app.api.names import candidate, drug_named, resolve
from app.api.params import LookupParams, SearchParams
from app.api.responses import json_response
from app.errors import NotFoundError, problem_responses
from app.metrics import LOOKUPS, SEARCHES
from app.schemas import DrugNameProblem, LookupResult, SearchPage, page_envelope
from app.search.backends import SearchRequest

router = APIRouter(prefix="/v1", tags=["search"])


@router.get(
    "/search",
    response_model=SearchPage,
    summary="Search every item of every list",
    operation_id="search",
    responses={
        **problem_responses(503),
        **problem_responses(404, 422, model=DrugNameProblem),
    },
)
async def search(
    request: Request,
    catalog: CatalogDep,
    params: Annotated[SearchParams, Query()],
    service: SearchServiceDep,
) -> Response:
    """Full-text search over each list item's label, note and attributes and the words and
    evidence quotes of the facts it gathers, ranked by relevance, each item once, with a
    highlighted snippet and a link to the item. Words are stemmed and matched as
    prefixes; all must occur. Common words alone find nothing; a query with no letter or digit,
    or over 200 characters, is a 422."""
    drug = drug_named(catalog, params.drug).slug if params.drug is not None else None
    wanted = SearchRequest(
        terms=tuple(params.terms),
        drug=drug,
        section=params.section.value if params.section else None,
        sort=params.sort,
        limit=params.limit,
        offset=params.offset,
    )
    if not wanted.terms:  # only common words: nothing the index holds can match
        return json_response(request, _page([], 0, params, wanted))
    result, catalog = await service.search(catalog, wanted)
    SEARCHES.inc()
    items = [
        {
            "drug": hit.drug,
            "section": hit.section,
            "id": hit.key,
            "label": hit.label,
            "snippet": hit.snippet,
            "score": hit.score,
            "href": f"/v1/drugs/{hit.drug}/{hit.section}/{hit.key}",
            "record": catalog.drugs[hit.drug].by_id[hit.key],
        }
        for hit in result.hits
    ]
    return json_response(request, _page(items, result.total, params, wanted))


def _page(
    items: list[dict[str, Any]], total: int, params: SearchParams, wanted: SearchRequest
) -> dict[str, Any]:
    return page_envelope(items, total, params.limit, params.offset, terms=list(wanted.terms))


@router.get(
    "/lookup",
    response_model=LookupResult,
    summary="Find a drug by name, brand or synonym",
    operation_id="lookup",
    responses=problem_responses(404, 422, model=DrugNameProblem),
)
async def lookup(
    request: Request, catalog: CatalogDep, params: Annotated[LookupParams, Query()]
) -> Response:
    """The drug a name means, and how it matched: `exact` (slug or name), `alias` (a brand or
    synonym), `normalized` (ignoring case, accents, spaces and punctuation) or `fuzzy` (a typo or
    two: Damerau-Levenshtein similarity of at least 0.75). When drugs match equally well the answer
    is `ambiguous` and lists them; no match is a 404 suggesting the drugs whose names are close."""
    try:
        resolution = resolve(catalog, params.name, fuzzy=True)
    except NotFoundError:
        LOOKUPS.labels("none").inc()
        raise
    LOOKUPS.labels(resolution.match_type.value).inc()
    candidates = [candidate(catalog, c) for c in resolution.candidates]
    chosen = None if resolution.ambiguous else candidates[0]
    result = LookupResult(
        query=params.name,
        status="ambiguous" if resolution.ambiguous else "resolved",
        match_type=resolution.match_type.value,
        score=resolution.candidates[0].score,
        drug=chosen.drug if chosen else None,
        matched_name=chosen.matched_name if chosen else None,
        candidates=candidates,
    )
    return json_response(request, result.model_dump(mode="json"))

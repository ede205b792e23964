"""/v1/search (full text over every fact) and /v1/lookup (a drug from a name, typos forgiven)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api.deps import CatalogDep
from app.api.params import LookupParams, SearchParams
from app.api.responses import json_response
from app.api.schemas import LookupCandidate, LookupDrug, LookupResult, SearchPage
from app.catalog import Catalog
from app.errors import AmbiguousNameError, NotFoundError, problem_responses
from app.search.backends import SearchRequest
from app.search.lookup import Candidate, resolve_name, suggestions
from app.search.service import SearchService

router = APIRouter(prefix="/v1", tags=["search"])


@router.get(
    "/search",
    response_model=SearchPage,
    summary="Search every fact of every section",
    operation_id="search",
    responses=problem_responses(404, 422, 503),
)
async def search(
    request: Request, catalog: CatalogDep, params: Annotated[SearchParams, Query()]
) -> Response:
    """Full-text search over each fact's label, note, attributes and evidence quotes, ranked by
    relevance, with a highlighted snippet and a link to the fact. Words are stemmed and matched as
    prefixes; all must occur. Common words alone find nothing; a query with no letter or digit,
    or over 200 characters, is a 422."""
    drug = _drug_filter(catalog, params.drug) if params.drug is not None else None
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
    service: SearchService = request.app.state.search
    result, catalog = await service.search(request.app.state.store, catalog, wanted)
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
    return {
        "items": items,
        "total": total,
        "limit": params.limit,
        "offset": params.offset,
        "terms": list(wanted.terms),
    }


@router.get(
    "/lookup",
    response_model=LookupResult,
    summary="Find a drug by name, brand or synonym",
    operation_id="lookup",
    responses=problem_responses(404, 422),
)
async def lookup(
    request: Request, catalog: CatalogDep, params: Annotated[LookupParams, Query()]
) -> Response:
    """The drug a name means, and how it matched: `exact` (slug or name), `alias` (a brand or
    synonym), `normalized` (ignoring case, accents, spaces and punctuation) or `fuzzy` (a typo or
    two: Damerau-Levenshtein similarity of at least 0.75). When drugs match equally well the answer
    is `ambiguous` and lists them; no match is a 404 with suggestions where some name is close."""
    resolution = resolve_name(catalog.names, params.name)
    if resolution is None:
        raise _unknown_drug(catalog, params.name)
    candidates = [_candidate(catalog, c) for c in resolution.candidates]
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


def _drug_filter(catalog: Catalog, name: str) -> str:
    """The one drug `name` means, typos not forgiven: a filter must not widen on a guess."""
    resolution = resolve_name(catalog.names, name, fuzzy=False)
    if resolution is None:
        raise _unknown_drug(catalog, name)
    slugs = [candidate.name.slug for candidate in resolution.candidates]
    if resolution.ambiguous:
        raise AmbiguousNameError(
            f"{name!r} names several drugs ({', '.join(slugs)}): filter by one of their slugs.",
            suggestions=slugs,
        )
    return slugs[0]


def _candidate(catalog: Catalog, candidate: Candidate) -> LookupCandidate:
    slug = candidate.name.slug
    return LookupCandidate(
        drug=LookupDrug(slug=slug, name=catalog.drugs[slug].name, href=f"/v1/drugs/{slug}"),
        matched_name=candidate.name.name,
        matched_kind=candidate.name.kind,
        score=candidate.score,
    )


def _unknown_drug(catalog: Catalog, name: str) -> NotFoundError:
    close = suggestions(catalog.names, name)
    extra: dict[str, Any] = {"suggestions": close} if close else {}
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return NotFoundError(f"No drug is named {name!r}.{hint}", **extra)

"""/v1/sources: the source texts, so a client can check any evidence span itself."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from app.api.deps import CatalogDep
from app.api.openapi import link, ok_with_links
from app.api.params import Limit, Offset
from app.api.responses import json_response
from app.errors import NotFoundError, problem_responses
from app.schemas import Coverage, Page, SourceListItem, SourceText, page_envelope

router = APIRouter(prefix="/v1/sources", tags=["sources"])

SourceId = Annotated[
    str,
    Path(max_length=100, description="The source text's id.", examples=["baclofen-wikipedia"]),
]


@router.get(
    "",
    response_model=Page[SourceListItem],
    summary="List the source texts",
    operation_id="list_sources",
    responses={
        **ok_with_links(get_source=link("get_source", source="$response.body#/items/0/id")),
        **problem_responses(422),
    },
)
async def list_sources(
    request: Request,
    catalog: CatalogDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    """The source texts evidence points into, with their licence; each text is one GET away."""
    items = [
        {
            **{key: s[key] for key in ("id", "title", "url", "license", "license_url", "length")},
            "href": f"/v1/sources/{s['id']}",
        }
        for s in sorted(catalog.sources.values(), key=lambda s: s["id"])
    ]
    page = page_envelope(items[offset : offset + limit], len(items), limit, offset)
    return json_response(request, page)


@router.get(
    "/{source}",
    response_model=SourceText,
    summary="Get a source text and its metadata",
    operation_id="get_source",
    responses={
        **ok_with_links(
            get_source_coverage=link("get_source_coverage", source="$response.body#/id")
        ),
        **problem_responses(404, 422),
    },
)
async def get_source(request: Request, catalog: CatalogDep, source: SourceId) -> Response:
    """The text evidence spans index into (`text[start:end] == quote`), its licence and hash."""
    return json_response(request, _source_entry_or_404(catalog.sources, source))


@router.get(
    "/{source}/coverage",
    response_model=Coverage,
    summary="How completely the facts cite a source text",
    operation_id="get_source_coverage",
    responses=problem_responses(404, 422),
)
async def get_coverage(request: Request, catalog: CatalogDep, source: SourceId) -> Response:
    """The text cut into statements, each with the facts citing it or the reason none does."""
    return json_response(request, _source_entry_or_404(catalog.coverage, source))


def _source_entry_or_404(by_source: dict[str, dict[str, Any]], source: str) -> dict[str, Any]:
    """The entry of a known source, or a 404 naming the sources there are."""
    found = by_source.get(source)
    if found is None:
        known = ", ".join(sorted(by_source))
        raise NotFoundError(f"No source is named {source!r}. Known sources: {known}.")
    return found

"""/v1/sources: the source texts, so a client can check any evidence span itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from app.api.deps import CatalogDep
from app.api.responses import json_response
from app.api.schemas import Coverage, SourceText
from app.errors import NotFoundError, problem_responses

router = APIRouter(prefix="/v1/sources", tags=["sources"])

SourceId = Annotated[str, Path(max_length=100, examples=["baclofen-wikipedia"])]


@router.get(
    "/{source}",
    response_model=SourceText,
    summary="Get a source text and its metadata",
    operation_id="get_source",
    responses=problem_responses(404, 422),
)
async def get_source(request: Request, catalog: CatalogDep, source: SourceId) -> Response:
    """The text evidence spans index into (`text[start:end] == quote`), its licence and hash."""
    found = catalog.sources.get(source)
    if found is None:
        known = ", ".join(sorted(catalog.sources))
        raise NotFoundError(f"No source is named {source!r}. Known sources: {known}.")
    return json_response(request, found)


@router.get(
    "/{source}/coverage",
    response_model=Coverage,
    summary="How completely the facts cite a source text",
    operation_id="get_source_coverage",
    responses=problem_responses(404, 422),
)
async def get_coverage(request: Request, catalog: CatalogDep, source: SourceId) -> Response:
    """The text cut into statements, each with the facts citing it or the reason none does."""
    found = catalog.coverage.get(source)
    if found is None:
        raise NotFoundError(f"No source is named {source!r}.")
    return json_response(request, found)

"""/v1/export: the whole dataset in one download (app/formats/export.py writes it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.responses import Response, StreamingResponse

from app.api.deps import CatalogDep
from app.api.schemas import DrugSummary, SourceText
from app.domain.sections import Section
from app.errors import problem_responses
from app.formats import export
from app.formats.export import ExportFormat, ExportPart

router = APIRouter(prefix="/v1", tags=["export"])


class ExportRecord(BaseModel):
    drug: str = Field(examples=["baclofen"])
    section: Section
    record: dict[str, Any] = Field(
        description="The record exactly as its list endpoint serves it, evidence included."
    )


class ExportDocument(BaseModel):
    """The whole dataset (format=json)."""

    dataset_version: str
    section: Section | None = Field(description="The section exported, or null for all.")
    drugs: list[DrugSummary]
    sources: list[SourceText]
    records: list[ExportRecord]


HEADERS = {
    "ETag": {"description": "Strong ETag of the export.", "schema": {"type": "string"}},
    "X-Dataset-Version": {
        "description": "The dataset version exported.",
        "schema": {"type": "string"},
    },
    "Content-Disposition": {
        "description": "A file name to save it as.",
        "schema": {"type": "string"},
    },
}


@router.get(
    "/export",
    response_model=ExportDocument,
    summary="Download the whole dataset",
    operation_id="export_dataset",
    responses={
        200: {
            "description": "The export, streamed: JSON (ExportDocument), NDJSON (one ExportRecord "
            "a line) or CSV (see docs/standards.md).",
            "headers": HEADERS,
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        **problem_responses(422),
    },
)
async def export_dataset(
    request: Request,
    catalog: CatalogDep,
    format: Annotated[
        ExportFormat, Query(description="json, ndjson (one record a line) or csv.")
    ] = ExportFormat.json,
    section: Annotated[Section | None, Query(description="Only this section's records.")] = None,
    part: Annotated[
        ExportPart,
        Query(description="For csv: the records, or their evidence (one row per entry)."),
    ] = ExportPart.records,
) -> Response:
    """Every record of every drug, exactly as the list endpoints serve them, evidence included,
    streamed; the dataset version in `X-Dataset-Version` and a strong ETag (If-None-Match
    answers 304)."""
    if part is ExportPart.evidence and format is not ExportFormat.csv:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "part"),
                    "msg": "part=evidence is a file of the csv export: add format=csv",
                }
            ]
        )
    tag = export.etag(catalog, format, section, part)
    name = export.file_name(format, part)
    headers = {
        "ETag": tag,
        "X-Dataset-Version": catalog.version,
        "Cache-Control": f"public, max-age={request.app.state.settings.cache_max_age}",
        "Content-Disposition": f'attachment; filename="{name}"',
    }
    if _matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return StreamingResponse(
        export.chunks(catalog, format, section, part),
        media_type=export.MEDIA_TYPES[format],
        headers=headers,
    )


def _matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    return any(t.strip().removeprefix("W/") in ("*", tag) for t in if_none_match.split(","))

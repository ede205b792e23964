"""/v1/export: the whole dataset in one download (app/formats/export.py writes it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response, StreamingResponse

from app.api.deps import CatalogDep, SettingsDep
from app.domain.sections import Section
from app.errors import problem_responses
from app.formats import export
from app.formats.export import ExportFormat
from app.schemas import DrugSummary, SourceText

router = APIRouter(prefix="/v1", tags=["export"])


class ExportRecord(BaseModel):
    """One list item of the export, with the drug and list it belongs to."""

    drug: str = Field(description="The drug's slug.", examples=["baclofen"])
    section: Section = Field(description="The list the item is in.")
    record: dict[str, Any] = Field(
        description="The record exactly as its list endpoint serves it, evidence included."
    )


class ExportDocument(BaseModel):
    """The whole dataset (format=json)."""

    dataset_version: str = Field(description="The dataset version exported.")
    section: Section | None = Field(description="The section exported, or null for all.")
    drugs: list[DrugSummary] = Field(description="Every drug's summary.")
    sources: list[SourceText] = Field(description="The source texts the spans point into.")
    records: list[ExportRecord] = Field(description="Every list item, in the lists' order.")


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
            "a line) or CSV (columns in docs/standards.md).",
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
    settings: SettingsDep,
    format: Annotated[
        ExportFormat,
        Query(
            description="json (one document), ndjson (one record a line), csv (one row per "
            "record) or evidence-csv (the CSV export's second file: one row per evidence entry)."
        ),
    ] = ExportFormat.json,
    section: Annotated[Section | None, Query(description="Only this section's records.")] = None,
) -> Response:
    """Every record of every drug, exactly as the list endpoints serve them, evidence included,
    streamed; the dataset version in `X-Dataset-Version` and a strong ETag (If-None-Match
    answers 304)."""
    tag = export.etag(catalog, format, section)
    name = export.FILE_NAMES[format]
    headers = {
        "ETag": tag,
        "X-Dataset-Version": catalog.version,
        "Cache-Control": f"public, max-age={settings.cache_max_age}",
        "Content-Disposition": f'attachment; filename="{name}"',
    }
    if _matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return StreamingResponse(
        export.chunks(catalog, format, section),
        media_type=export.MEDIA_TYPES[format],
        headers=headers,
    )


def _matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    return any(t.strip().removeprefix("W/") in ("*", tag) for t in if_none_match.split(","))

"""Operations: liveness, readiness and what this service is serving."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from app import __version__
from app.api.deps import CatalogDep, StoreDep
from app.api.responses import json_response
from app.errors import ServiceUnavailableError, problem_responses
from app.schemas import DatasetInfo

router = APIRouter(tags=["meta"])
logger = logging.getLogger(__name__)

DISCLAIMER = (
    "For information only, not medical advice. The facts are curated from a stripped copy of an "
    "encyclopaedia article; consult a qualified clinician and the product labelling."
)


class Health(BaseModel):
    """The process answers."""

    status: str = Field(description="Always `ok`.", examples=["ok"])


class Readiness(BaseModel):
    """A dataset is loaded and the database answers."""

    status: str = Field(description="Always `ready` (otherwise the answer is a 503).")
    dataset_version: str = Field(description="The version of the dataset being served.")


class SourceInfo(BaseModel):
    """A source text and its licence."""

    id: str = Field(description="The source text's id.")
    title: str = Field(description="The source's title.")
    url: str = Field(description="Where the source was published.")
    license: str = Field(description="The licence the text is used under.")
    license_url: str = Field(description="The licence's text.")


class Meta(BaseModel):
    """What this service is serving."""

    service: str = Field(description="The service's name.", examples=["monograph-api"])
    service_version: str = Field(description="The service's version.", examples=["0.1.0"])
    dataset: DatasetInfo = Field(description="The dataset: its version, load time and size.")
    sources: list[SourceInfo] = Field(description="The source texts, with their licences.")
    disclaimer: str = Field(description="What the data may and may not be used for.")


# Probes must see the current state: a cache may keep the answer only to revalidate it.
PROBE_CACHE_CONTROL = "no-cache"


@router.get("/healthz", response_model=Health, summary="Liveness", operation_id="healthz")
async def healthz(request: Request) -> Response:
    """The process is up and answering."""
    return json_response(request, {"status": "ok"}, cache_control=PROBE_CACHE_CONTROL)


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness",
    operation_id="readyz",
    responses=problem_responses(503),
)
async def readyz(request: Request, store: StoreDep) -> Response:
    """A dataset is loaded and the database answers."""
    await store.check_database()  # a 503 with Retry-After when the database does not answer
    if store.catalog is None:
        raise ServiceUnavailableError("No dataset is loaded yet.")
    body = {"status": "ready", "dataset_version": store.catalog.version}
    return json_response(request, body, cache_control=PROBE_CACHE_CONTROL)


@router.get(
    "/v1/meta",
    response_model=Meta,
    summary="Service and dataset metadata",
    operation_id="get_meta",
    responses=problem_responses(503),
)
async def meta(request: Request, catalog: CatalogDep) -> Response:
    """Service version, dataset version and load time, sources with their licence, disclaimer."""
    answer = Meta(
        service="monograph-api",
        service_version=__version__,
        dataset=DatasetInfo(
            version=catalog.version,
            loaded_at=catalog.loaded_at,
            fact_count=catalog.fact_count,
            record_count=catalog.record_count,
        ),
        sources=[
            SourceInfo.model_validate(source, extra="ignore") for source in catalog.sources.values()
        ],
        disclaimer=DISCLAIMER,
    )
    return json_response(request, answer.model_dump(mode="json"))

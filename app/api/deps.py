"""Request dependencies: the catalog snapshot, the drug a path names, no unknown parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.api.names import drug_named
from app.catalog import Catalog, CatalogStore, DrugEntry
from app.catalog.search import SearchService
from app.errors import ServiceUnavailableError
from app.settings import Settings

# The application's services, built at start-up (app.main) and kept on app.state: routes and
# the fast reads get them through these functions alone, typed, as dependencies.


async def get_store(request: Request) -> CatalogStore:
    """The catalog snapshot being served, its swaps and the database guard."""
    store: CatalogStore = request.app.state.store
    return store


async def get_search_service(request: Request) -> SearchService:
    service: SearchService = request.app.state.search
    return service


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[CatalogStore, Depends(get_store)]
SearchServiceDep = Annotated[SearchService, Depends(get_search_service)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_catalog(request: Request) -> Catalog:
    catalog = (await get_store(request)).catalog
    if catalog is None:
        raise ServiceUnavailableError("No dataset is loaded yet.")
    return catalog


# Both are `async def` though they never await: FastAPI runs a plain `def` dependency in a thread
# pool, and those round trips cost more (py-spy) than the route's own work.
CatalogDep = Annotated[Catalog, Depends(get_catalog)]


async def get_drug(
    catalog: CatalogDep,
    drug: Annotated[
        str,
        Path(
            description="The drug's slug, or any of its names, brands or synonyms (any case; "
            "typos are not forgiven: /v1/lookup does that). A name several drugs share is a 422 "
            "listing them.",
            examples=["baclofen", "Lioresal"],
            max_length=200,
        ),
    ],
) -> DrugEntry:
    return drug_named(catalog, drug)


DrugDep = Annotated[DrugEntry, Depends(get_drug)]


async def reject_unknown_query_params(request: Request) -> None:
    """Refuse, with a 422 naming them, query parameters the route does not declare.

    A misspelt filter (`?stauts=primary`) silently ignored would answer a different question
    than the one asked. Section lists also refuse them through their `extra="forbid"` models;
    this router-level dependency does it for every route. Async, though it never waits: FastAPI
    runs a plain function dependency in its thread pool, a thread hop on every request.
    """
    if not request.scope["query_string"]:
        return
    allowed = _declared_query_names(request.scope["route"])
    unknown = [name for name in request.query_params if name not in allowed]
    if unknown:
        raise RequestValidationError(
            [
                {"type": "extra_forbidden", "loc": ("query", name), "msg": "unknown parameter"}
                for name in dict.fromkeys(unknown)
            ]
        )
    _reject_repeated_query_params(request)


def _reject_repeated_query_params(request: Request) -> None:
    """Every parameter takes one value: `q=a&q=b` would silently answer for `b` alone."""
    names = [name for name, _ in request.query_params.multi_items()]
    repeated = [name for name in dict.fromkeys(names) if names.count(name) > 1]
    if repeated:
        raise RequestValidationError(
            [
                {"type": "repeated", "loc": ("query", name), "msg": "given more than once"}
                for name in repeated
            ]
        )


_DECLARED_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _declared_query_names(route: APIRoute) -> frozenset[str]:
    names = _DECLARED_QUERY_NAMES.get(id(route))
    if names is None:
        names = _DECLARED_QUERY_NAMES[id(route)] = frozenset(_query_names(route.dependant))
    return names


def _query_names(dependant: Dependant) -> Iterator[str]:
    for sub_dependant in dependant.dependencies:
        yield from _query_names(sub_dependant)
    for field in dependant.query_params:
        model = field.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            # A query-parameter model: its fields are the parameters.
            yield from (info.alias or name for name, info in model.model_fields.items())
        else:
            yield field.alias

"""Request dependencies: the current catalog snapshot and the drug a path names."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from app.catalog import Catalog, DrugEntry
from app.errors import NotFoundError, ServiceUnavailableError


async def get_catalog(request: Request) -> Catalog:
    catalog: Catalog | None = request.app.state.store.catalog
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
            description="The drug's slug, or any of its names, brands or synonyms (any case).",
            examples=["baclofen", "Lioresal"],
            max_length=200,
        ),
    ],
) -> DrugEntry:
    entry = catalog.resolve(drug)
    if entry is None:
        raise NotFoundError(f"No drug is named {drug!r}. GET /v1/drugs lists the drugs served.")
    return entry


DrugDep = Annotated[DrugEntry, Depends(get_drug)]

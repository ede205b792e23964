"""Search as the API uses it: off the event loop, cached per dataset version, with its catalog.

The hits come from the database and the records from the in-memory catalog, so both must be of
one dataset version. Each search statement reads the database's version; when it is newer than the
worker's snapshot (a re-seed committed a moment ago) the snapshot is refreshed first.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from app.catalog import Catalog, CatalogStore
from app.errors import ServiceUnavailableError
from app.search.backends import SearchBackend, SearchRequest, SearchResult

CACHE_SIZE = 512


class SearchService:
    def __init__(self, backend: SearchBackend, cache_size: int = CACHE_SIZE):
        self.backend = backend
        self.cache_size = cache_size
        # Touched only from the event loop, so it needs no lock.
        self._cache: OrderedDict[tuple[str, SearchRequest], SearchResult] = OrderedDict()

    async def search(
        self, store: CatalogStore, catalog: Catalog, request: SearchRequest
    ) -> tuple[SearchResult, Catalog]:
        """The hits for `request` and the catalog snapshot of the same dataset version."""
        key = (catalog.version, request)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key], catalog
        result = await asyncio.to_thread(self.backend.search, request)
        if result.version != catalog.version:
            await asyncio.to_thread(store.refresh)
            if store.catalog is None or result.version != store.catalog.version:
                raise ServiceUnavailableError("The dataset is being replaced; retry in a moment.")
            catalog = store.catalog
        self._remember((catalog.version, request), result)
        return result, catalog

    def _remember(self, key: tuple[str, SearchRequest], result: SearchResult) -> None:
        self._cache[key] = result
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

"""Search as the API uses it: its hits paired with the catalog snapshot of their version.

SQLite answers on the event loop when it can, in a fraction of a millisecond; otherwise (and on
PostgreSQL, which may wait on a network) the search runs in a worker thread under the outage guard.

The hits come from the database and the records from the in-memory catalog, so both must be of
one dataset version. Each search statement reads the database's version; when it is newer than the
worker's snapshot (a re-seed committed a moment ago) the snapshot is refreshed first. Repeated
searches are answered from the response cache (app/api/response_cache.py), not from here.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import SQLAlchemyError

from app.catalog.snapshot import Catalog
from app.catalog.watcher import CatalogStore
from app.errors import ServiceUnavailableError
from app.search.backends import SearchBackend, SearchRequest, SearchResult, SqliteSearch


class SearchService:
    def __init__(self, backend: SearchBackend, store: CatalogStore):
        self.backend = backend
        self.store = store

    def close(self) -> None:
        """Release what the backend keeps (SQLite: the inline search's connection)."""
        if isinstance(self.backend, SqliteSearch):
            self.backend.close()

    def close_files(self) -> None:
        """Release the files the backend keeps open, once the engine is disposed (SQLite: the
        descriptor of the WAL index that the inline search probes for locks)."""
        if isinstance(self.backend, SqliteSearch):
            self.backend.close_wal_index()

    def _inline(self, request: SearchRequest) -> SearchResult | None:
        """SQLite's answer on the event loop, when it can give one (see app.search.backends)."""
        if isinstance(self.backend, SqliteSearch):
            return self.backend.search_inline(request)
        return None

    async def search(
        self, catalog: Catalog, request: SearchRequest
    ) -> tuple[SearchResult, Catalog]:
        """The hits for `request` and the catalog snapshot of the same dataset version."""
        store = self.store
        result = self._inline(request)
        if result is None:
            result = await store.guard.call(self.backend.search, request)
        else:
            store.guard.outage.recovered()
        if result.version == catalog.version:
            return result, catalog
        try:  # not bounded by the guard: building the new snapshot is CPU work, not waiting
            await asyncio.to_thread(store.refresh)
        except SQLAlchemyError as error:
            raise store.guard.unavailable() from error
        if store.catalog is None or result.version != store.catalog.version:
            raise ServiceUnavailableError(
                "The dataset is being replaced; retry in a moment.", retry_after=1
            )
        return result, store.catalog

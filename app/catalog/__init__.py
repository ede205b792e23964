"""The read model: an immutable in-memory snapshot of one dataset version, and its reloading.

- snapshot.py: the snapshot's types (`Catalog`, `DrugEntry`), the public JSON ready to send;
- projection.py: building a snapshot from the database (`load_catalog`);
- watcher.py: the snapshot being served and its replacement on a new dataset (`CatalogStore`);
- search.py: search hits paired with the snapshot of their dataset version (`SearchService`).

It sits below the HTTP layer (app/api, app/middleware, app/main) and imports nothing from it.
"""

from app.catalog.projection import load_catalog
from app.catalog.snapshot import Catalog, DrugEntry
from app.catalog.watcher import CatalogStore

__all__ = ["Catalog", "CatalogStore", "DrugEntry", "load_catalog"]

"""The snapshot being served, and the watcher that swaps in a new one when the dataset changes.

A background task asks the database for its dataset version every few seconds and builds a new
snapshot (app/catalog/projection.py) when it changed: a request sees one version whole, never a mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from app.catalog.projection import load_catalog
from app.catalog.snapshot import Catalog
from app.models import Dataset
from app.outage import DatabaseGuard, DatabaseUnavailableError

# One logger for the read model (its "serving dataset" lines), whichever module writes.
logger = logging.getLogger("app.catalog")


class CatalogStore:
    """Holds the current snapshot and replaces it when the database has a new dataset version."""

    def __init__(self, engine: Engine, check_seconds: float, guard: DatabaseGuard | None = None):
        self.engine = engine
        self.check_seconds = check_seconds
        self.catalog: Catalog | None = None
        # Every database call made while serving goes through it (app/outage.py).
        self.guard = guard or DatabaseGuard(timeout=30.0, retry_after=5)

    def refresh(self) -> bool:
        """Reload if the database's dataset version differs from ours; True if it changed."""
        with Session(self.engine) as session:
            version = session.exec(select(Dataset.version)).first()
        if version is None or (self.catalog and self.catalog.version == version):
            return False
        catalog = load_catalog(self.engine)
        if catalog is None:
            return False
        self.catalog = catalog
        logger.info("serving dataset %s (%d facts)", catalog.version[:12], catalog.fact_count)
        return True

    async def wait_until_loaded(self, timeout: float) -> None:
        """Block start-up until a dataset is loaded: a worker never serves an empty catalog."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                await asyncio.to_thread(self.refresh)
            except DBAPIError as error:  # not migrated yet: another process is preparing it
                logger.info("waiting for the database: %s", type(error).__name__)
            if self.catalog is not None:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError("no dataset is loaded: run `monograph seed` first")
            await asyncio.sleep(0.2)

    async def watch(self, stop: asyncio.Event) -> None:
        """Check for a new dataset every check_seconds until `stop` is set.

        Stopped by the event, never cancelled: a cancelled task leaves its refresh thread running,
        and that thread could open a connection after the engine is disposed, never to be closed.
        """
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.check_seconds)
                return
            try:
                # Only the version check is bounded: building a new snapshot is CPU work that
                # may take a while on a busy machine without the database being at fault.
                version = await self.guard.call(self.database_version)
                if version is not None and (
                    self.catalog is None or version != self.catalog.version
                ):
                    await asyncio.to_thread(self.refresh)
            except DatabaseUnavailableError:  # logged once per outage by the guard
                pass
            except Exception:  # anything else must not kill the watcher either
                logger.exception("could not check the dataset version")

    def database_version(self) -> str | None:
        with Session(self.engine) as session:
            return session.exec(select(Dataset.version)).first()

    async def check_database(self) -> None:
        def ping() -> None:
            with Session(self.engine) as session:
                session.exec(select(Dataset.version)).first()

        await self.guard.call(ping)

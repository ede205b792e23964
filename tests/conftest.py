"""Test fixtures: a real database built by the real migrations and seed, served over real HTTP.

Every test that touches the database runs once per backend (ids end in [sqlite] or [postgres]): the
session-scoped `backend` fixture is parametrized and feeds `database_url`. PostgreSQL is a throwaway
cluster the session starts and removes (tests/postgres.py). MONOGRAPH_TEST_BACKENDS=sqlite narrows
a local run; under CI=true both backends always run and a Postgres that cannot start fails the run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.cli import migrate_and_seed
from app.main import create_app
from app.server import uvicorn_limits
from app.settings import PROJECT_ROOT, Settings
from tests.postgres import (
    PostgresCluster,
    PostgresUnavailableError,
    drop_database,
    fresh_database,
)

# MONOGRAPH_SEED_DIR lets a local run use another valid seed while the real one is curated.
SEED_DIR = Path(os.environ.get("MONOGRAPH_SEED_DIR", PROJECT_ROOT / "seed"))


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    return SEED_DIR


def _backends() -> list[str]:
    if os.environ.get("CI") == "true":
        return ["sqlite", "postgres"]
    return os.environ.get("MONOGRAPH_TEST_BACKENDS", "sqlite,postgres").split(",")


@pytest.fixture(scope="session", params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """Started on first use, stopped and deleted at the end of the session."""
    try:
        cluster = PostgresCluster().start()
    except (PostgresUnavailableError, OSError, subprocess.SubprocessError) as error:
        reason = f"PostgreSQL could not be started: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)  # CI must never pass without having tested PostgreSQL
        pytest.skip(reason)
    try:
        yield cluster
    finally:
        cluster.stop()


def _empty_database(backend: str, request: pytest.FixtureRequest, folder: Path) -> str:
    if backend == "postgres":
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        return fresh_database(cluster.url)
    return f"sqlite:///{folder / 'monograph.db'}"


@pytest.fixture(scope="session")
def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The suite's shared, read-only database of this backend."""
    return _empty_database(backend, request, tmp_path_factory.mktemp(f"db-{backend}"))


@pytest.fixture(scope="session")
def prepared_database(database_url: str, seed_dir: Path) -> str:
    """The suite's database: migrated by Alembic and loaded by the real seed loader."""
    migrate_and_seed(database_url, seed_dir, force=True)
    return database_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """uvicorn serving the app on a loopback port, in a thread of the test process."""

    def __init__(self, settings: Settings):
        self.port = free_port()
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            loop="asyncio",  # as `monograph serve` runs it
            **uvicorn_limits(settings),  # the bounded protocol `monograph serve` runs
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(prepared_database: str, seed_dir: Path) -> Iterator[LiveServer]:
    settings = Settings(database_url=prepared_database, seed_dir=seed_dir, reload_check_seconds=0.2)
    with LiveServer(settings) as server:
        yield server


@pytest.fixture(scope="session")
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        yield http


@pytest.fixture
def fresh_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A new, empty database of this backend, for a test that writes data of its own."""
    url = _empty_database(backend, request, tmp_path)
    yield url
    if backend == "postgres":  # a SQLite file goes with tmp_path
        drop_database(url)

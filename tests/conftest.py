"""Test fixtures: a real database built by the real migrations and seed, served over real HTTP.

The backend is SQLite by default; MONOGRAPH_TEST_DATABASE_URL points the whole suite at another
database (for PostgreSQL, see tests/postgres.py and .ci/run).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.cli import prepare
from app.main import create_app
from app.settings import PROJECT_ROOT, Settings

SEED_DIR = PROJECT_ROOT / "seed"


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    # MONOGRAPH_SEED_DIR points the suite at another seed (a small valid one while curating).
    return Path(os.environ.get("MONOGRAPH_SEED_DIR") or SEED_DIR)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("MONOGRAPH_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'monograph.db'}"


@pytest.fixture(scope="session")
def prepared_database(database_url: str, seed_dir: Path) -> str:
    """The suite's database: migrated by Alembic and loaded by the real seed loader."""
    prepare(database_url, seed_dir, force=True)
    return database_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """uvicorn serving the app on a loopback port, in a thread of the test process."""

    def __init__(self, settings: Settings):
        self.port = free_port()
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
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
def fresh_database_url(tmp_path: Path) -> str:
    """An empty database of the suite's backend, for tests that load data of their own."""
    base = os.environ.get("MONOGRAPH_TEST_DATABASE_URL")
    if base:
        from tests.postgres import fresh_database

        return fresh_database(base)
    return f"sqlite:///{tmp_path / 'fresh.db'}"

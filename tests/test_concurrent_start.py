"""Many processes starting at once on a fresh database: migrated and seeded once, served alike."""

from __future__ import annotations

import subprocess
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from app.db import make_engine, migrate_and_seed_lock
from app.models import Dataset as DatasetRow
from app.models import Evidence, Fact, Statement
from app.seed.models import SeedDataset
from app.seed.reader import read_dataset
from tests.processes import ServiceProcess, free_port, service_env, shut_down_cleanly

PROCESSES = 4


def row_counts(url: str) -> dict[str, int]:
    tables: list[type[SQLModel]] = [DatasetRow, Fact, Evidence, Statement]
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return {
                table.__name__: session.exec(select(func.count()).select_from(table)).one()
                for table in tables
            }
    finally:
        engine.dispose()


def expected_counts(dataset: SeedDataset) -> dict[str, int]:
    facts = [fact for drug in dataset.drugs for fs in drug.facts.values() for fact in fs]
    return {
        "Dataset": 1,
        "Fact": dataset.fact_count(),
        "Evidence": sum(len(fact.evidence) for fact in facts),
        "Statement": sum(len(source.statements) for source in dataset.sources.values()),
    }


def test_four_servers_started_together_prepare_once_and_serve_one_dataset(
    fresh_database_url: str, seed_dir: Path, tmp_path: Path
) -> None:
    env = service_env(MONOGRAPH_DATABASE_URL=fresh_database_url, MONOGRAPH_SEED_DIR=str(seed_dir))
    servers = [
        ServiceProcess(
            ["monograph", "serve", "--port", str(port), "--workers", "1"],
            env,
            port,
            tmp_path / f"serve-{index}.log",
        )
        for index, port in enumerate(free_port() for _ in range(PROCESSES))
    ]
    with ExitStack() as stack:
        for server in servers:  # all launched before any is waited for: they race on purpose
            stack.callback(server.terminate)
            server.start()
        for server in servers:
            server.wait_ready()
        versions = {httpx.get(f"{s.url}/v1/meta").json()["dataset"]["version"] for s in servers}
        logs = [server.log for server in servers]
        stopped = [shut_down_cleanly(server, server.terminate()) for server in servers]

    dataset = read_dataset(seed_dir)
    assert versions == {dataset.version}
    assert row_counts(fresh_database_url) == expected_counts(dataset)
    # Exactly one process wrote; the three others found the dataset already loaded.
    assert sum(" loaded (" in log and "already loaded" not in log for log in logs) == 1, logs
    assert sum("already loaded" in log for log in logs) == PROCESSES - 1, logs
    assert all(stopped), [server.log for server in servers]


def test_a_worker_started_before_the_seed_waits_for_it_then_serves(
    fresh_database_url: str, seed_dir: Path, tmp_path: Path
) -> None:
    env = service_env(MONOGRAPH_DATABASE_URL=fresh_database_url, MONOGRAPH_SEED_DIR=str(seed_dir))
    port = free_port()
    # uvicorn alone: nothing migrates or seeds, the database has not even got its tables yet.
    command = ["uvicorn", "app.main:create_app", "--factory", "--port", str(port)]
    server = ServiceProcess(command, env, port, tmp_path / "uvicorn.log")
    server.start()
    try:
        time.sleep(2)  # long enough for the worker to be up and polling the empty database
        assert server.process is not None and server.process.poll() is None, server.log
        with pytest.raises(httpx.TransportError):  # not listening: it does not serve empty
            httpx.get(f"{server.url}/readyz", timeout=2)
        subprocess.run(["monograph", "seed"], env=env, check=True, capture_output=True)
        server.wait_ready()
        version = httpx.get(f"{server.url}/v1/meta").json()["dataset"]["version"]
    finally:
        server.terminate()
    assert version == read_dataset(seed_dir).version


def test_the_prepare_lock_admits_one_holder_at_a_time(fresh_database_url: str) -> None:
    """Two engines (as two processes would have) on one database: the second waits for the
    first to let go, whichever backend."""
    first, second = make_engine(fresh_database_url), make_engine(fresh_database_url)
    held = threading.Event()
    released_at: list[float] = []

    def hold_it() -> None:
        with migrate_and_seed_lock(first):
            held.set()
            time.sleep(0.5)
            released_at.append(time.monotonic())

    holder = threading.Thread(target=hold_it)
    holder.start()
    try:
        assert held.wait(timeout=10)
        with migrate_and_seed_lock(second):
            entered_at = time.monotonic()
    finally:
        holder.join(timeout=10)
        first.dispose()
        second.dispose()
    assert released_at and entered_at >= released_at[0]

"""Re-seeding a changed dataset while the service reads: every answer is all old or all new."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from sqlmodel import Session, select

from app.cli import prepare
from app.db import make_engine, snapshot_reads
from app.models import Dataset as DatasetRow
from app.models import Drug
from app.seed.dataset import read_dataset
from app.seed.load import write_dataset
from tests.processes import ServiceProcess, free_port, service_env

RESEEDS = 5  # odd: the last load is the changed seed


@pytest.fixture
def changed_seed(seed_dir: Path, tmp_path: Path) -> Path:
    """A copy of the seed whose drug summary (and so whose version) differs."""
    copy = tmp_path / "changed-seed"
    shutil.copytree(seed_dir, copy)
    drug_file = copy / "drugs/baclofen/drug.yaml"
    drug = yaml.safe_load(drug_file.read_text(encoding="utf-8"))
    drug["summary"] = f"Changed: {drug['summary']}"
    drug_file.write_text(yaml.safe_dump(drug, allow_unicode=True), encoding="utf-8")
    return copy


def version_and_summary(seed: Path) -> tuple[str, str]:
    dataset = read_dataset(seed)
    return dataset.version, dataset.drugs[0].drug.summary


def load(url: str, seed: Path) -> None:
    engine = make_engine(url)
    try:
        assert write_dataset(engine, read_dataset(seed)).written
    finally:
        engine.dispose()


def test_a_snapshot_read_sees_nothing_a_reseed_commits_meanwhile(
    fresh_database_url: str, seed_dir: Path, changed_seed: Path
) -> None:
    prepare(fresh_database_url, seed_dir)
    engine = make_engine(fresh_database_url)
    try:
        with Session(snapshot_reads(engine)) as session:
            version = session.exec(select(DatasetRow.version)).one()
            load(fresh_database_url, changed_seed)  # commits on another connection
            summary = session.exec(select(Drug.summary)).one()
        with Session(snapshot_reads(engine)) as session:
            after = (
                session.exec(select(DatasetRow.version)).one(),
                session.exec(select(Drug.summary)).one(),
            )
    finally:
        engine.dispose()
    assert (version, summary) == version_and_summary(seed_dir)
    assert after == version_and_summary(changed_seed)


def test_readers_see_the_old_or_the_new_dataset_never_a_mix(
    fresh_database_url: str, seed_dir: Path, changed_seed: Path, tmp_path: Path
) -> None:
    old, new = version_and_summary(seed_dir), version_and_summary(changed_seed)
    port = free_port()
    env = service_env(
        MONOGRAPH_DATABASE_URL=fresh_database_url,
        MONOGRAPH_SEED_DIR=str(seed_dir),
        MONOGRAPH_RELOAD_CHECK_SECONDS="0.02",
    )
    command = ["monograph", "serve", "--port", str(port)]
    server = ServiceProcess(command, env, port, tmp_path / "serve.log")
    seen: list[tuple[int, str, str]] = []
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            while not stop.is_set():
                response = http.get("/v1/drugs/baclofen")
                body = response.json()
                seen.append((response.status_code, body["dataset_version"], body["summary"]))

    server.start()
    try:
        server.wait_ready()
        reader = threading.Thread(target=hammer)
        reader.start()
        try:
            for round_ in range(RESEEDS):  # new, old, new, ...: each load is a real change
                load(fresh_database_url, changed_seed if round_ % 2 == 0 else seed_dir)
                time.sleep(0.3)
            deadline = time.monotonic() + 10
            while seen[-1][1] != new[0] and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            reader.join()
    finally:
        server.terminate()

    answers = {(version, summary) for _, version, summary in seen}
    assert {status for status, _, _ in seen} == {200}
    assert answers == {old, new}, answers  # each answer whole; both versions were served
    assert seen[-1][1:] == new  # the server picked up the last load

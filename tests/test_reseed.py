"""Re-seeding a changed dataset while the service reads: every answer is all old or all new."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import event
from sqlmodel import Session, select

from app.catalog import Catalog, load_catalog
from app.cli import migrate_and_seed
from app.db import make_engine, snapshot_reads
from app.models import Dataset as DatasetRow
from app.models import Drug
from app.seed.load import write_dataset
from app.seed.reader import read_dataset
from app.settings import Settings
from tests.conftest import LiveServer
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
    migrate_and_seed(fresh_database_url, seed_dir)
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


def test_search_right_after_a_reseed_pairs_its_hits_with_their_dataset(
    fresh_database_url: str, seed_dir: Path, tmp_path: Path
) -> None:
    """The index answers from the new dataset before the worker's watcher has swapped in its
    snapshot: a renamed fact must be found under its new id, not crash on the old snapshot."""
    migrate_and_seed(fresh_database_url, seed_dir)
    settings = Settings(database_url=fresh_database_url, reload_check_seconds=3600)
    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as http:
        hit = http.get("/v1/search", params={"q": "hallucination"}).json()["items"][0]
        renamed_seed = tmp_path / "renamed-seed"
        shutil.copytree(seed_dir, renamed_seed)
        # The hit is a list item whose id is its only fact's: rename both, and the link.
        folder = renamed_seed / "drugs" / hit["drug"]
        for path in (
            folder / f"{hit['section']}.yaml",
            folder / "records" / f"{hit['section']}.yaml",
        ):
            entries = yaml.safe_load(path.read_text(encoding="utf-8"))
            [entry] = [e for e in entries if e["id"] == hit["id"]]
            entry["id"] = f"{hit['id']}-renamed"
            if "facts" in entry:
                entry["facts"] = [entry["id"]]
            path.write_text(yaml.safe_dump(entries, allow_unicode=True, sort_keys=False))
        migrate_and_seed(fresh_database_url, renamed_seed)

        # Another query string: the same one would be replayed from the old snapshot's cache,
        # whole and consistent, until the watcher swaps snapshots.
        response = http.get("/v1/search", params={"q": "hallucination", "limit": 20})
        assert response.status_code == 200, response.text
        page = response.json()
        assert f"{hit['id']}-renamed" in [item["id"] for item in page["items"]]
        assert hit["id"] not in [item["id"] for item in page["items"]]
        assert http.get(page["items"][0]["href"]).status_code == 200
        new_version = read_dataset(renamed_seed).version
        assert http.get("/v1/meta").json()["dataset"]["version"] == new_version


def test_a_snapshot_built_while_a_reseed_commits_is_all_old(
    fresh_database_url: str, seed_dir: Path, changed_seed: Path
) -> None:
    """The worker builds its snapshot from many queries; a re-seed committing between the first
    and the others (made certain here: it runs right after the first query returns) must not show:
    the whole snapshot is the dataset the first query saw."""
    migrate_and_seed(fresh_database_url, seed_dir)
    engine = make_engine(fresh_database_url)
    reseeded: list[bool] = []

    def reseed_after_the_first_query(_c: object, _cur: object, statement: str, *_: object) -> None:
        if not reseeded and statement.lstrip().upper().startswith("SELECT"):
            reseeded.append(True)
            load(fresh_database_url, changed_seed)  # its own engine and connection

    event.listen(engine, "after_cursor_execute", reseed_after_the_first_query)
    try:
        during = load_catalog(engine)
        event.remove(engine, "after_cursor_execute", reseed_after_the_first_query)
        after = load_catalog(engine)
    finally:
        engine.dispose()
    assert reseeded
    assert during is not None and after is not None

    def seen(catalog: Catalog) -> tuple[str, str]:
        return catalog.version, catalog.drugs["baclofen"].document["summary"]

    assert seen(during) == version_and_summary(seed_dir)
    assert seen(after) == version_and_summary(changed_seed)

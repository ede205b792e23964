"""A seed cannot silently shrink, reach outside its folder, hide bad bytes or roll a database back.

seed/dataset.yaml declares the release and the sections each drug must have; each refusal names
the file. Releases order the loaded versions: an older replica leaves a newer dataset in place.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from sqlmodel import Session, col, select

from app.cli import migrate_and_seed
from app.db import make_engine
from app.models import Dataset as DatasetRow
from app.models import DatasetHistory
from app.seed.models import SeedError
from app.seed.reader import read_dataset
from tests.processes import ServiceProcess, free_port, service_env

INTERACTIONS = "drugs/baclofen/interactions.yaml"
SOURCE_TEXT = "sources/baclofen-wikipedia.txt"


@pytest.fixture
def seed(seed_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "seed"
    shutil.copytree(seed_dir, copy)
    return copy


def problems_of(seed: Path) -> list[str]:
    with pytest.raises(SeedError) as refused:
        read_dataset(seed)
    return [str(problem) for problem in refused.value.problems]


def assert_named(problems: list[str], file: str, reason: str) -> None:
    assert any(p.startswith(file) and reason in p for p in problems), problems


def set_release(seed: Path, release: int) -> None:
    path = seed / "dataset.yaml"
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    manifest["release"] = release
    path.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")


def test_the_real_seed_declares_every_section_of_its_drug(seed_dir: Path) -> None:
    manifest = yaml.safe_load((seed_dir / "dataset.yaml").read_text(encoding="utf-8"))
    files = {p.stem for p in (seed_dir / "drugs/baclofen").glob("*.yaml") if p.stem != "drug"}
    assert set(manifest["drugs"]["baclofen"]["sections"]) == files
    assert read_dataset(seed_dir).release == manifest["release"] >= 1


def test_a_deleted_section_file_is_refused_by_name(seed: Path) -> None:
    (seed / INTERACTIONS).unlink()
    assert_named(problems_of(seed), INTERACTIONS, "file is missing")


@pytest.mark.parametrize("content", ["", "# nothing left\n", "[]\n"])
def test_an_emptied_section_file_is_refused_by_name(seed: Path, content: str) -> None:
    (seed / INTERACTIONS).write_text(content, encoding="utf-8")
    assert_named(problems_of(seed), INTERACTIONS, "is empty")


def test_a_seed_without_its_manifest_is_refused(seed: Path) -> None:
    (seed / "dataset.yaml").unlink()
    assert_named(problems_of(seed), "dataset.yaml", "file is missing")


def test_a_missing_declared_drug_is_refused(seed: Path) -> None:
    shutil.rmtree(seed / "drugs/baclofen")
    assert_named(problems_of(seed), "drugs/baclofen/drug.yaml", "requires drug 'baclofen'")


@pytest.mark.parametrize("target", ["../outside.txt", "/etc/hostname", "sources/link.txt"])
def test_a_source_file_outside_the_seed_is_refused(seed: Path, target: str) -> None:
    shutil.copy(seed / SOURCE_TEXT, seed.parent / "outside.txt")
    (seed / "sources/link.txt").symlink_to(seed.parent / "outside.txt")
    path = seed / "sources.yaml"
    sources = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources[0]["file"] = target
    path.write_text(yaml.safe_dump(sources, sort_keys=False), encoding="utf-8")
    assert_named(problems_of(seed), "sources.yaml", f"{target!r} is outside the seed folder")


def test_bad_utf8_in_the_source_text_is_a_listed_problem(seed: Path) -> None:
    text = (seed / SOURCE_TEXT).read_bytes()
    (seed / SOURCE_TEXT).write_bytes(text[:100] + b"\xff" + text[101:])
    assert_named(problems_of(seed), SOURCE_TEXT, "is not valid UTF-8: byte 0xff at offset 100")


def test_bad_utf8_in_a_section_file_is_a_listed_problem(seed: Path) -> None:
    path = seed / INTERACTIONS
    path.write_bytes(path.read_bytes().replace(b"baclofen", b"baclof\xe9n", 1))
    assert_named(problems_of(seed), INTERACTIONS, "is not valid UTF-8: byte 0xe9")


def test_check_names_the_shrunk_file_in_plain_lines(seed: Path) -> None:
    (seed / INTERACTIONS).write_text("", encoding="utf-8")
    env = service_env(MONOGRAPH_SEED_DIR=str(seed))
    result = subprocess.run(
        ["monograph", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert f"{INTERACTIONS}: is empty" in result.stderr
    assert "Traceback" not in result.stderr


# --- releases: a replica never rolls the database back --------------------------------------


def loaded(url: str) -> tuple[str, int | None, list[tuple[int | None, bool]]]:
    """The loaded version and release, and the history as (release, forced) in load order."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            row = session.get(DatasetRow, 1)
            assert row is not None
            history = session.exec(select(DatasetHistory).order_by(col(DatasetHistory.id))).all()
            return row.version, row.release, [(h.release, h.forced) for h in history]
    finally:
        engine.dispose()


@pytest.fixture
def newer_seed(seed_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "newer-seed"
    shutil.copytree(seed_dir, copy)
    set_release(copy, read_dataset(seed_dir).release + 1)
    return copy


def test_an_older_release_leaves_the_newer_in_place_and_force_says_so(
    fresh_database_url: str,
    seed_dir: Path,
    newer_seed: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="app.cli")  # the seed result is logged
    old, new = read_dataset(seed_dir), read_dataset(newer_seed)
    migrate_and_seed(fresh_database_url, newer_seed)
    migrate_and_seed(fresh_database_url, seed_dir)
    said = caplog.text
    assert loaded(fresh_database_url) == (new.version, new.release, [(new.release, False)])
    assert f"release {new.release} ({new.version[:12]}), which is newer" in said

    caplog.clear()
    migrate_and_seed(fresh_database_url, seed_dir, force=True)
    said = caplog.text
    history = [(new.release, False), (old.release, True)]
    assert loaded(fresh_database_url) == (old.version, old.release, history)
    assert "because of --force" in said


def test_an_older_replica_starting_serves_the_newer_dataset(
    fresh_database_url: str, seed_dir: Path, newer_seed: Path, tmp_path: Path
) -> None:
    new = read_dataset(newer_seed)
    migrate_and_seed(fresh_database_url, newer_seed)
    port = free_port()
    env = service_env(MONOGRAPH_DATABASE_URL=fresh_database_url, MONOGRAPH_SEED_DIR=str(seed_dir))
    command = ["monograph", "serve", "--port", str(port)]
    replica = ServiceProcess(command, env, port, tmp_path / "old-replica.log").start()
    try:
        replica.wait_ready()
        served = httpx.get(f"{replica.url}/v1/meta").json()["dataset"]["version"]
    finally:
        replica.terminate()
    assert served == new.version
    assert loaded(fresh_database_url)[:2] == (new.version, new.release)
    assert "not loaded: the database holds release" in replica.log


def test_history_keeps_every_load_in_order(
    fresh_database_url: str, seed_dir: Path, newer_seed: Path
) -> None:
    migrate_and_seed(fresh_database_url, seed_dir)
    migrate_and_seed(fresh_database_url, seed_dir)  # already loaded: no new row
    migrate_and_seed(fresh_database_url, newer_seed)
    old, new = read_dataset(seed_dir).release, read_dataset(newer_seed).release
    assert loaded(fresh_database_url)[2] == [(old, False), (new, False)]


def test_the_loaded_seed_is_not_read_again_an_edited_one_is(
    fresh_database_url: str, seed: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.cli")  # the seed result is logged
    migrate_and_seed(fresh_database_url, seed)
    version = read_dataset(seed).version
    caplog.clear()
    migrate_and_seed(fresh_database_url, seed)  # the files of the loaded version: only hashed
    assert f"dataset {version[:12]} already loaded (" in caplog.text
    assert "not read again" in caplog.text
    # An edit makes another version: read and checked in full, whatever the database holds.
    (seed / INTERACTIONS).write_text("[]\n", encoding="utf-8")
    with pytest.raises(SeedError) as refused:
        migrate_and_seed(fresh_database_url, seed)
    assert_named([str(p) for p in refused.value.problems], INTERACTIONS, "is empty")
    assert loaded(fresh_database_url)[0] == version

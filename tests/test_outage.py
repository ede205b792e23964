"""A bad day: the database stopped, hung or locked, a seed stuck holding the lock, a read-only
database, a wrong URL. Each is met in seconds with a 503 and Retry-After (or one or two plain
lines and a non-zero exit at start-up), logged once per episode, never with a traceback."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.cli import main, migrate_and_seed
from app.db import make_engine, migrate_and_seed_lock
from app.settings import get_settings
from tests.postgres import PostgresCluster, fresh_database
from tests.processes import ServiceProcess, free_port, service_env

OUTAGE_ANSWER_SECONDS = 5
_queries = count()
# Words of the dataset: each test query is new, so the response cache cannot answer it.
WORDS = ["pump", "withdrawal", "seizures", "tolerance", "spasticity", "alcohol", "hiccups"]
EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b")


def uncached_search(server: ServiceProcess) -> httpx.Response:
    n = next(_queries)
    words = f"{WORDS[n % len(WORDS)]} {WORDS[(n // len(WORDS) + 1) % len(WORDS)]}"
    return httpx.get(f"{server.url}/v1/search", params={"q": words}, timeout=30)


def assert_503_in_time(request: httpx.Response, elapsed: float) -> None:
    assert request.status_code == 503, request.text
    assert request.headers["content-type"] == "application/problem+json"
    assert int(request.headers["retry-after"]) >= 1
    assert not EXCEPTION_NAME.search(request.text), request.text
    assert "Traceback" not in request.text
    assert elapsed < OUTAGE_ANSWER_SECONDS, elapsed


def timed(call: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()  # type: ignore[operator]
    return response, time.monotonic() - started


HOLD_WAL_READ_LOCKS = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 5, 123)
print("locked", flush=True)
time.sleep(600)
"""


@dataclass
class Outage:
    """A served database and the way to break it (`down`) and mend it (`up`) on this backend."""

    server: ServiceProcess
    cluster: PostgresCluster | None
    database: str

    @contextmanager
    def down(self) -> Iterator[None]:
        if self.cluster is not None:
            self.cluster.halt()
            try:
                yield
            finally:
                self.cluster.resume()
            return
        # SQLite cannot stop: its outage is another process holding every WAL read lock (the
        # read-mark bytes 123-127 of the -shm file), so that no read can begin.
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_WAL_READ_LOCKS, f"{self.database}-shm"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
            yield
        finally:
            holder.kill()
            holder.wait()
            if holder.stdout is not None:
                holder.stdout.close()


@pytest.fixture(scope="module")
def outage(
    backend: str,
    seed_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Outage]:
    """A `monograph serve` process on a database of its own (PostgreSQL: a cluster of its own)."""
    cluster = None
    tmp_path = tmp_path_factory.mktemp(f"outage-{backend}")
    if backend == "postgres":
        request.getfixturevalue("postgres_cluster")  # skips (or fails in CI) without PostgreSQL
        cluster = PostgresCluster().start()
        url = fresh_database(cluster.url)
        database = ""
    else:
        database = str(tmp_path / "outage.db")
        url = f"sqlite:///{database}"
    try:
        migrate_and_seed(url, seed_dir)
        port = free_port()
        env = service_env(
            MONOGRAPH_DATABASE_URL=url,
            MONOGRAPH_SEED_DIR=str(seed_dir),
            MONOGRAPH_DB_STATEMENT_TIMEOUT_SECONDS="2",
            MONOGRAPH_DB_CONNECT_TIMEOUT_SECONDS="2",
            MONOGRAPH_RELOAD_CHECK_SECONDS="0.3",
        )
        command = ["monograph", "serve", "--port", str(port)]
        server = ServiceProcess(command, env, port, tmp_path / "serve.log").start()
        try:
            server.wait_ready()
            yield Outage(server, cluster, database)
        finally:
            server.terminate()
    finally:
        if cluster is not None:
            cluster.stop()


def test_a_stopped_database_is_a_503_with_retry_after_logged_once(outage: Outage) -> None:
    server = outage.server
    assert uncached_search(server).status_code == 200
    with outage.down():
        for _ in range(3):  # and the watcher fails every 0.3 s meanwhile
            assert_503_in_time(*timed(lambda: uncached_search(server)))
        assert_503_in_time(*timed(lambda: httpx.get(f"{server.url}/readyz", timeout=30)))
        # What is in memory is still served; liveness is not readiness.
        assert httpx.get(f"{server.url}/v1/drugs/baclofen/routes", timeout=5).status_code == 200
        assert httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200
    deadline = time.monotonic() + 20
    while uncached_search(server).status_code != 200:
        assert time.monotonic() < deadline, server.log
        time.sleep(0.2)
    log = server.log
    assert log.count("database unavailable:") == 1, log
    assert "database available again" in log, log
    assert "Traceback" not in log, log


def test_a_hung_postgres_is_a_503_with_retry_after_within_5_s(outage: Outage) -> None:
    if outage.cluster is None:
        pytest.skip("a SQLite file cannot hang: its outage is a lock (the test above)")
    server = outage.server
    assert uncached_search(server).status_code == 200
    frozen = outage.cluster.server_pids()
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        assert_503_in_time(*timed(lambda: uncached_search(server)))
        assert_503_in_time(*timed(lambda: httpx.get(f"{server.url}/readyz", timeout=30)))
        assert httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
    deadline = time.monotonic() + 20
    while uncached_search(server).status_code != 200:
        assert time.monotonic() < deadline, server.log
        time.sleep(0.2)
    assert "Traceback" not in server.log


def test_a_seed_waiting_on_a_stuck_lock_gives_up_naming_the_holder(
    fresh_database_url: str, seed_dir: Path
) -> None:
    env = service_env(
        MONOGRAPH_DATABASE_URL=fresh_database_url,
        MONOGRAPH_SEED_DIR=str(seed_dir),
        MONOGRAPH_LOCK_WAIT_SECONDS="1",
    )
    engine = make_engine(fresh_database_url)
    try:
        with migrate_and_seed_lock(engine):  # this test process is the stuck seed
            started = time.monotonic()
            result = subprocess.run(
                ["monograph", "seed"], env=env, capture_output=True, text=True, timeout=60
            )
            elapsed = time.monotonic() - started
    finally:
        engine.dispose()
    assert result.returncode == 1, result.stderr
    assert elapsed < 15
    assert "held the" in result.stderr and f"pid {os.getpid()} on " in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr


@pytest.fixture
def read_only_database(
    backend: str, seed_dir: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[str, list[str]]]:
    """A fully seeded database the service may not write, and the command prefix to serve it."""
    if backend == "postgres":
        url = request.getfixturevalue("fresh_database_url")
        migrate_and_seed(url, seed_dir)
        # Every transaction of every connection is read-only: a write would fail.
        yield f"{url}?options=-c%20default_transaction_read_only%3Don", []
        return
    folder = Path(tempfile.mkdtemp(prefix="monograph-ro-"))
    try:
        database = folder / "monograph.db"
        migrate_and_seed(f"sqlite:///{database}", seed_dir)
        Path(f"{database}.lock").unlink()  # no lock file either: it must not need one
        if os.geteuid() == 0:  # root writes past any mode bits, not past the immutable flag
            made = subprocess.run(["chattr", "+i", str(database), str(folder)], check=False)
            if made.returncode != 0:
                pytest.skip("root cannot make a file read-only here (chattr +i refused)")
        else:
            database.chmod(0o444)
            folder.chmod(0o555)
        yield f"sqlite:///{database}", []
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder), str(database)], check=False)
        folder.chmod(0o755)
        shutil.rmtree(folder)


def test_a_read_only_but_fully_seeded_database_serves(
    read_only_database: tuple[str, list[str]], seed_dir: Path, tmp_path: Path
) -> None:
    url, prefix = read_only_database
    port = free_port()
    env = service_env(MONOGRAPH_DATABASE_URL=url, MONOGRAPH_SEED_DIR=str(seed_dir))
    command = [*prefix, "monograph", "serve", "--port", str(port)]
    server = ServiceProcess(command, env, port, tmp_path / "serve.log").start()
    try:
        server.wait_ready()
        drugs = httpx.get(f"{server.url}/v1/drugs").json()
        hits = httpx.get(f"{server.url}/v1/search", params={"q": "pump"}).json()
    finally:
        server.terminate()
    assert [drug["slug"] for drug in drugs["items"]] == ["baclofen"]
    assert hits["total"] > 0
    assert "already loaded" in server.log
    if url.startswith("sqlite"):
        assert not Path(f"{url.removeprefix('sqlite:///')}.lock").exists()


@pytest.mark.parametrize(
    ("database_url", "says"),
    [
        ("nonsense", "is not a database URL"),
        ("mysql+nosuchdriver://u@h/d", "is not a database URL"),
        ("postgresql+psycopg://postgres@127.0.0.1:{port}/monograph", "cannot use the database"),
        ("sqlite:////proc/no-such-folder/monograph.db", "No such file or directory"),
    ],
    ids=["not-a-url", "unknown-driver", "refused", "unwritable-path"],
)
def test_a_start_up_failure_is_one_or_two_plain_lines(
    database_url: str,
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MONOGRAPH_DATABASE_URL", database_url.format(port=free_port()))
    monkeypatch.delenv("MONOGRAPH_DEBUG", raising=False)
    get_settings.cache_clear()
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    try:
        status = main(["serve"])
    finally:
        get_settings.cache_clear()
    stderr = capsys.readouterr().err
    assert status == 1
    # Nothing was served: the metrics folder `serve` set up beforehand is forgotten again.
    assert os.environ.get("PROMETHEUS_MULTIPROC_DIR") == metrics_dir
    lines = stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, stderr
    assert says in stderr
    assert "Traceback" not in stderr


def test_the_process_exits_non_zero_with_plain_lines_or_the_traceback_asked_for() -> None:
    env = service_env(MONOGRAPH_DATABASE_URL=f"postgresql+psycopg://u@127.0.0.1:{free_port()}/d")
    plain = subprocess.run(
        ["monograph", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert plain.returncode == 1
    assert plain.stderr.startswith("monograph serve: cannot use the database"), plain.stderr
    assert len(plain.stderr.strip().splitlines()) == 2, plain.stderr
    for command, debug in ((["--traceback", "serve"], {}), (["serve"], {"MONOGRAPH_DEBUG": "1"})):
        asked = subprocess.run(
            ["monograph", *command], env={**env, **debug}, capture_output=True, text=True
        )
        assert asked.returncode != 0 and "Traceback" in asked.stderr


def test_a_missing_postgres_database_is_named_plainly(
    postgres_cluster: PostgresCluster,
) -> None:
    url = make_url(postgres_cluster.url).set(database="no_such_database").render_as_string(False)
    result = subprocess.run(
        ["monograph", "serve"],
        env=service_env(MONOGRAPH_DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert 'database "no_such_database" does not exist' in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr

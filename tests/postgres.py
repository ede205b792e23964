"""A throwaway PostgreSQL cluster for the tests: started under a temp dir, removed at the end.

The server runs as the `postgres` user (initdb refuses root), listens on a free loopback port and
trusts local connections; durability is switched off because the cluster dies with the session.
When the server binaries are missing they are installed from Debian (the tests run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

BINARIES_GLOB = "/usr/lib/postgresql/*/bin/initdb"
# Speed over durability: a crash loses a test cluster nobody will read again.
SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
    " -c full_page_writes=off -c max_connections=300"
)


class PostgresUnavailableError(RuntimeError):
    """The cluster could not be installed or started; the message says why."""


def server_binaries() -> Path:
    """The folder of initdb and pg_ctl, installing the `postgresql` package when it is absent."""
    found = sorted(glob.glob(BINARIES_GLOB))
    if not found:
        _install_postgresql()
        found = sorted(glob.glob(BINARIES_GLOB))
    if not found:
        raise PostgresUnavailableError(f"no PostgreSQL server binaries match {BINARIES_GLOB}")
    return Path(found[-1]).parent


def _install_postgresql() -> None:
    if os.geteuid() != 0:
        raise PostgresUnavailableError("PostgreSQL is not installed and installing it needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PostgresUnavailableError(f"{' '.join(command)} failed: {result.stderr[-2000:]}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """initdb + pg_ctl in a temp dir; `url` is a SQLAlchemy URL of its `postgres` database."""

    def __init__(self) -> None:
        self.bin = server_binaries()
        self.root = Path(tempfile.mkdtemp(prefix="monograph-pg-"))
        self.data = self.root / "data"
        self.port = 0

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        # initdb and postgres refuse to run as root: run them as the `postgres` user.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(
            [*prefix, *command], capture_output=True, text=True, check=False, timeout=120
        )

    def start(self) -> PostgresCluster:
        try:
            return self._start()
        except BaseException:
            self.stop()  # leave no half-made cluster behind
            raise

    def _start(self) -> PostgresCluster:
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres", group="postgres")
        initdb = self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        if initdb.returncode != 0:
            raise PostgresUnavailableError(f"initdb failed: {initdb.stderr[-2000:]}")
        # A free port can be taken between the check and the bind: try a few.
        for _attempt in range(3):
            self.port = _free_port()
            options = f"-p {self.port} -k {self.root} {SERVER_OPTIONS}"
            started = self._run(
                str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                "-l", str(self.root / "server.log"), "-w", "-t", "60", "start",
            )  # fmt: skip
            if started.returncode == 0:
                return self
        log = (self.root / "server.log").read_text(errors="replace")[-2000:]
        raise PostgresUnavailableError(f"pg_ctl start failed: {started.stderr}\n{log}")

    def halt(self) -> None:
        """Stop the server at once, as a crash would; `resume` starts it again on its port."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def resume(self) -> None:
        options = f"-p {self.port} -k {self.root} {SERVER_OPTIONS}"
        started = self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.root / "server.log"), "-w", "-t", "60", "start",
        )  # fmt: skip
        if started.returncode != 0:
            raise PostgresUnavailableError(f"pg_ctl start failed: {started.stderr}")

    def server_pids(self) -> list[int]:
        """The postmaster and every process it started (to freeze the server with SIGSTOP)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = [
            int(status.parent.name)
            for status in Path("/proc").glob("[0-9]*/status")
            if _parent_pid(status) == postmaster
        ]
        return [postmaster, *children]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        if self.port and (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _parent_pid(status: Path) -> int | None:
    try:
        for line in status.read_text().splitlines():
            if line.startswith("PPid:"):
                return int(line.split()[1])
    except OSError:  # the process ended meanwhile
        return None
    return None


def _administer(url: str, statement: sql.Composed) -> None:
    """Run a CREATE/DROP DATABASE (outside a transaction) on url's server."""
    server = make_url(url)
    with psycopg.connect(
        host=server.host, port=server.port, user=server.username, password=server.password,
        dbname="postgres", autocommit=True,
    ) as connection:  # fmt: skip
        connection.execute(statement)


def fresh_database(base_url: str) -> str:
    """Create a new, empty, uniquely named database on base_url's server; return its URL."""
    name = f"monograph_{uuid.uuid4().hex[:16]}"
    _administer(base_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop url's database, closing whatever connections a test left open to it."""
    name = make_url(url).database or ""
    _administer(
        url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )

"""The processes under test: `monograph serve` and the ceiling, each a real uvicorn on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.ceiling import CEILING_FILE_ENV

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    workers: int
    log: Path
    launched_at: float

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait_until(self, path: str, status: int | None, timeout: float = 60) -> float:
        """Poll `path` until it answers (with `status`, if given); seconds since the launch."""
        while time.perf_counter() - self.launched_at < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; its log:\n{self.log.read_text()}")
            answered = http_status(self.url + path)
            if answered is not None and (status is None or answered == status):
                return time.perf_counter() - self.launched_at
            time.sleep(0.005)
        raise RuntimeError(f"{self.name} did not answer {path} within {timeout} s")

    def worker_pids(self) -> list[int]:
        """uvicorn serves in its own process with one worker, in spawned children with more."""
        if self.workers == 1:
            return [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(pid) for pid in children.read_text().split()]
        return [pid for pid in pids if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc/PID/status (VmRSS is in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def http_status(url: str) -> int | None:
    """The status `url` answers with, or None when nothing listens yet."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def start_service(database_url: str, workers: int, log: Path) -> Server:
    """`monograph serve` exactly as a deployment runs it (it migrates and seeds first)."""
    port = free_port()
    monograph = Path(sys.executable).parent / "monograph"
    env = {**os.environ, "MONOGRAPH_DATABASE_URL": database_url, "MONOGRAPH_LOG_LEVEL": "warning"}
    command = [str(monograph), "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers)]
    return _launch("service", command, env, port, workers, log)


def start_ceiling(canned_file: Path, workers: int, log: Path) -> Server:
    """The ceiling app, under uvicorn with the options `monograph serve` uses (its loop, no access
    log, TCP_NODELAY), but uvicorn's own httptools protocol: no bounds, no coalesced writes."""
    port = free_port()
    env = {**os.environ, CEILING_FILE_ENV: str(canned_file)}
    command = [sys.executable, "-m", "uvicorn", "bench.ceiling:create_app", "--factory"]
    command += ["--host", HOST, "--port", str(port), "--workers", str(workers)]
    command += ["--loop", "asyncio", "--no-access-log"]
    command += ["--http", "bench.ceiling:NoDelayHttpToolsProtocol"]  # see its docstring
    command += ["--log-level", "warning"]
    return _launch("ceiling", command, env, port, workers, log)


def _launch(
    name: str, command: list[str], env: dict[str, str], port: int, workers: int, log: Path
) -> Server:
    launched_at = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    return Server(name, process, port, workers, log, launched_at)

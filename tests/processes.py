"""The service as separate OS processes (`monograph serve`, the container entrypoint), for tests of
start-up, concurrency and shutdown that a server thread inside the test process cannot show."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import httpx

VENV_BIN = Path(sys.executable).parent
# What each worker logs (app.main, at level info) once it serves.
READY_LINE = '"logger":"app.main","message":"ready"'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(**settings: str) -> dict[str, str]:
    """This environment without any MONOGRAPH_ variable, plus `settings` (name=value)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONOGRAPH_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(settings)
    return env


class ServiceProcess:
    """A process serving HTTP on a loopback port; its output goes to a log file.

    With `stderr`, standard error goes to that file instead, and `log` holds standard output only.
    """

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        port: int,
        log: Path,
        stderr: Path | None = None,
    ):
        self.command, self.env, self.port, self.log_path = command, env, port, log
        self.stderr_path = stderr
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def start(self) -> ServiceProcess:
        with self.log_path.open("wb") as log, ExitStack() as stack:
            stderr: IO[bytes] | int = subprocess.STDOUT
            if self.stderr_path is not None:
                stderr = stack.enter_context(self.stderr_path.open("wb"))
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=stderr)
        return self

    def wait_ready(self, timeout: float = 60, workers: int = 1) -> None:
        """Until /readyz answers 200 and `workers` workers have logged that they are ready (the
        request reaches one worker; others may still be starting); fails with the log if the
        process dies or time runs out."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"exited with {self.process.returncode}:\n{self.log}")
            try:
                ready = httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                ready = False
            if ready and (workers == 1 or self.log.count(READY_LINE) >= workers):
                return
            time.sleep(0.1)
        raise AssertionError(f"not ready after {timeout}s:\n{self.log}")

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, as `docker stop` sends it; the exit code.

        After a graceful shutdown uvicorn re-raises the signal it caught, so a clean stop exits
        by SIGTERM (-15 here, 143 in a shell) or with 0 (its multi-worker supervisor).
        """
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"still running {timeout}s after SIGTERM:\n{self.log}") from None


CLEAN_EXIT_CODES = (0, -signal.SIGTERM)


def shut_down_cleanly(server: ServiceProcess, exit_code: int) -> bool:
    """Stopped by the signal after the application's shutdown ran to its end."""
    return exit_code in CLEAN_EXIT_CODES and "Application shutdown complete." in server.log

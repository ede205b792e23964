"""The image, built from the Dockerfile as it is and run: it serves /readyz, as a user who is not
root, and passes its own HEALTHCHECK.

No registry can be reached here, so the base image is made from Debian packages (mmdebstrap) and
imported under the name the Dockerfile's FROM asks for, in a store of this test's own; podman
builds and runs it with runc (docs/container.md says why each setting is needed). About a minute,
plus the packages' installation: it runs as root (CI) and is skipped elsewhere, except that under
CI=true it never skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.settings import PROJECT_ROOT
from tests.processes import free_port

IN_CI = os.environ.get("CI") == "true"
TOOLS = {"podman": "podman", "runc": "runc", "mmdebstrap": "mmdebstrap"}
BASE_IMAGE = "docker.io/library/python:3.11-slim"
IMAGE = "localhost/monograph-api:ci"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# This machine caps open files and processes below podman's defaults, and crun refuses its cgroup
# layout; runc accepts it.
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 and not IN_CI, reason="builds a container image: needs root (CI runs it)"
)


def install_tools() -> None:
    missing = [package for tool, package in TOOLS.items() if shutil.which(tool) is None]
    if missing:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
        command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, f"apt-get could not install {missing}:\n{done.stderr}"


def debian_mirrors() -> list[str]:
    """The machine's own Debian sources as one-line entries (mmdebstrap's MIRROR arguments)."""
    entries: list[str] = []
    folder = Path("/etc/apt/sources.list.d")
    for path in [Path("/etc/apt/sources.list"), *sorted(folder.glob("*.list"))]:
        if path.is_file():
            entries += [line.strip() for line in path.read_text().splitlines()]
    for path in sorted(folder.glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = dict(
                line.split(":", 1) for line in stanza.splitlines() if ":" in line and line[0] != "#"
            )
            fields = {k.strip(): v.strip() for k, v in fields.items()}
            if "deb" not in fields.get("Types", "").split():
                continue
            for uri in fields.get("URIs", "").split():
                for suite in fields.get("Suites", "").split():
                    entries.append(f"deb {uri} {suite} {fields.get('Components', 'main')}")
    debian = [e for e in entries if e.startswith("deb ") and "debian" in e]
    return debian or ["deb http://deb.debian.org/debian bookworm main"]


@dataclass
class Podman:
    store: Path
    env: dict[str, str]

    def __call__(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        command = ["podman", "--root", str(self.store / "root"), "--runroot"]
        command += [str(self.store / "run"), *args]
        return subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=timeout
        )

    def ok(self, *args: str, timeout: float = 600) -> str:
        done = self(*args, timeout=timeout)
        assert done.returncode == 0, f"podman {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    install_tools()
    store = tmp_path_factory.mktemp("podman")
    conf = store / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    podman = Podman(store, {**os.environ, "CONTAINERS_CONF": str(conf)})
    yield podman
    podman("system", "reset", "--force", timeout=120)


@pytest.fixture(scope="module")
def image(podman: Podman) -> str:
    base = podman.store / "base.tar"
    command = ["mmdebstrap", "--variant=minbase", "--quiet"]
    command += ["--include=python3-venv,python-is-python3,ca-certificates", "bookworm", str(base)]
    done = subprocess.run(
        [*command, *debian_mirrors()], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"mmdebstrap failed:\n{done.stderr}"
    podman.ok("import", str(base), BASE_IMAGE)
    # --format docker keeps HEALTHCHECK (OCI drops it); the CA bundle lets pip trust PyPI's mirror
    # as this machine does.
    podman.ok(
        "build", "--format", "docker", "--pull=never", "-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro",
        "-t", IMAGE, str(PROJECT_ROOT),
    )  # fmt: skip
    return IMAGE


@dataclass
class Running:
    id: str
    url: str


@pytest.fixture(scope="module")
def container(podman: Podman, image: str) -> Iterator[Running]:
    port = free_port()
    container_id = podman.ok("run", "-d", "-p", f"127.0.0.1:{port}:8000", image).strip()
    running = Running(container_id, f"http://127.0.0.1:{port}")
    try:
        wait_ready(podman, running)
        yield running
    finally:
        podman("rm", "--force", "--time", "0", container_id, timeout=60)


def wait_ready(podman: Podman, running: Running, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(running.url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        state = podman.ok("inspect", "--format", "{{.State.Status}}", running.id).strip()
        assert state == "running", podman.ok("logs", running.id)
        time.sleep(0.5)
    raise AssertionError(f"not ready after {timeout}s:\n{podman.ok('logs', running.id)}")


def test_readyz_answers_inside_the_container(podman: Podman, container: Running) -> None:
    ask = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8000/readyz').read())"
    answer = podman.ok("exec", container.id, "python", "-c", ask)
    assert '"status":"ready"' in answer
    # And through the published port, the same dataset.
    version = httpx.get(container.url + "/readyz", timeout=5).json()["dataset_version"]
    assert version in answer


def test_the_service_runs_as_an_unprivileged_user(podman: Podman, container: Running) -> None:
    assert podman.ok("exec", container.id, "id", "-un").strip() == "monograph"
    # PID 1 is uvicorn itself (the entrypoint execs it), and runs as that user.
    status = podman.ok("exec", container.id, "cat", "/proc/1/status")
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert uids == ["10001"] * 4
    command_line = podman.ok("exec", container.id, "cat", "/proc/1/cmdline")
    assert "monograph\x00serve" in command_line


def test_the_healthcheck_passes_and_the_container_stops_cleanly(
    podman: Podman, container: Running
) -> None:
    health = podman("healthcheck", "run", container.id, timeout=60)
    assert health.returncode == 0, health.stdout + health.stderr
    podman.ok("stop", "--time", "15", container.id, timeout=60)
    exit_code = podman.ok("inspect", "--format", "{{.State.ExitCode}}", container.id).strip()
    assert exit_code == "0", podman.ok("logs", container.id)
    # The healthcheck does notice a dead server.
    assert podman("healthcheck", "run", container.id, timeout=60).returncode != 0

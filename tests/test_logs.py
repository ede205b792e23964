"""The service's own logs appear: one JSON object a line on stderr, from start-up to shutdown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from app.seed.reader import read_dataset
from tests.processes import ServiceProcess, free_port, service_env


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_monograph_serve_logs_start_up_dataset_and_requests_on_stderr(
    fresh_database_url: str, seed_dir: Path, tmp_path: Path
) -> None:
    env = service_env(MONOGRAPH_DATABASE_URL=fresh_database_url, MONOGRAPH_SEED_DIR=str(seed_dir))
    port = free_port()
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    server = ServiceProcess(["monograph", "serve", "--port", str(port)], env, port, stdout, stderr)
    server.start()
    try:
        server.wait_ready()
        httpx.get(f"{server.url}/v1/drugs", headers={"X-Request-ID": "logs-1"})
    finally:
        server.terminate()
    version = read_dataset(seed_dir).version[:12]
    lines = json_lines(stderr.read_text())
    messages = [(line.get("logger"), line.get("message", "")) for line in lines]
    assert ("app.cli", f"dataset {version} loaded") in [(n, m.split(" (")[0]) for n, m in messages]
    assert any(n == "app.main" and m.startswith("starting monograph-api") for n, m in messages)
    assert any(
        n == "app.catalog" and m.startswith(f"serving dataset {version}") for n, m in messages
    )
    assert ("app.main", "ready") in messages and ("app.main", "stopping") in messages
    access = [line for line in lines if line.get("request_id") == "logs-1"]
    assert [(a["path"], a["status"]) for a in access] == [("/v1/drugs", 200)]
    # Each service line says when, how grave and from where; stdout carries none of them.
    assert all({"time", "level", "logger"} <= line.keys() for line in lines if "logger" in line)
    assert "serving dataset" not in stdout.read_text()
    assert "logs-1" not in stdout.read_text()

"""Two OpenAPI linters nobody on the team wrote agree the served document is clean.

Spectral (`spectral:oas` plus the house rules in .spectral.yaml: descriptions everywhere, every
enum value explained, an example on every response) and Redocly CLI (its `recommended` rules,
redocly.yaml) lint the document the live service serves: 0 errors and 0 warnings. tools/install
(run by scripts/test) installs them at the versions tools/package-lock.json pins.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from app.settings import PROJECT_ROOT

TOOLS = PROJECT_ROOT / "tools" / "node_modules" / ".bin"


@pytest.fixture(scope="module")
def served_document(client: httpx.Client, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    path.write_bytes(client.get("/openapi.json").content)
    return path


def lint(command: list[str]) -> subprocess.CompletedProcess[str]:
    if not (TOOLS / command[0]).exists():
        pytest.fail(f"{command[0]} is not installed: run `bash tools/install`")
    return subprocess.run(
        [str(TOOLS / command[0]), *command[1:]],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )


def test_spectral_finds_nothing(served_document: Path) -> None:
    # --fail-severity=hint: a warning, an info or a hint fails the run too.
    run = lint(
        [
            "spectral",
            "lint",
            "--ruleset",
            ".spectral.yaml",
            "--fail-severity=hint",
            str(served_document),
        ]
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No results with a severity of 'hint' or higher found!" in run.stdout, run.stdout


def test_redocly_finds_nothing(served_document: Path) -> None:
    run = lint(
        ["redocly", "lint", "--config", "redocly.yaml", "--format=json", str(served_document)]
    )
    # stdout is the JSON report; stderr has Redocly's banners (such as a Node.js version notice).
    report = json.loads(run.stdout)
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, report["problems"]
    assert run.returncode == 0, run.stderr

"""The developer tooling agrees with the test command: pre-commit runs the same static checks."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from app.settings import PROJECT_ROOT

VENV_BIN = Path(sys.executable).parent


def checks_of_the_test_command() -> list[str]:
    lines = (PROJECT_ROOT / "scripts" / "test").read_text().splitlines()
    return [
        line
        for line in lines
        if line.startswith(".venv/bin/") and not line.startswith(".venv/bin/python")
    ]


def test_pre_commit_runs_the_checks_of_the_test_command() -> None:
    config = yaml.safe_load((PROJECT_ROOT / ".pre-commit-config.yaml").read_text())
    entries = [hook["entry"] for repo in config["repos"] for hook in repo["hooks"]]
    checks = checks_of_the_test_command()
    assert checks == [
        ".venv/bin/ruff check .",
        ".venv/bin/ruff format --check .",
        ".venv/bin/mypy app tests",
        ".venv/bin/lint-imports",
    ]
    assert entries == checks
    valid = subprocess.run(
        [str(VENV_BIN / "pre-commit"), "validate-config", ".pre-commit-config.yaml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert valid.returncode == 0, valid.stdout + valid.stderr


def test_mypy_is_strict_for_the_app() -> None:
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    assert config["tool"]["mypy"]["strict"] is True

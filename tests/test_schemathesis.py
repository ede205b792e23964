"""schemathesis, a tool nobody on the team wrote, tests the live service from its own
/openapi.json over real HTTP: every check, every phase (examples, coverage, fuzzing, and the
stateful phase, which follows the OpenAPI links from lists to items). It must find nothing.

SCHEMATHESIS_MAX_EXAMPLES and SCHEMATHESIS_SEED widen or vary the run (the defaults keep it
near a minute on two cores and make CI reproducible).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LiveServer


def test_schemathesis_finds_nothing(live_server: LiveServer, backend: str, tmp_path: Path) -> None:
    if backend != "sqlite":
        # Reads are answered from the in-memory catalog, whatever the backend, so a second
        # minute-long run would explore the same contract; the other tests cover each backend.
        pytest.skip("the HTTP contract is explored once, on the SQLite run")
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{live_server.url}/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "40"),
        "--seed",
        os.environ.get("SCHEMATHESIS_SEED", "20261126"),
        "--workers",
        "2",
        "--request-timeout",
        "10",
    ]
    # Its own working directory, so that its hypothesis database stays out of the checkout.
    run = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert "Stateful" in report and "passed" in report, report

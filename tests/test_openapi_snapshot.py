"""The OpenAPI document, snapshotted: any change to the contract shows in review.

Refresh after an intended change, then review the diff of tests/snapshots/openapi.json:
    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_openapi_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from app.main import create_app
from app.settings import Settings

SNAPSHOT = Path(__file__).parent / "snapshots" / "openapi.json"


def render(document: object) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_the_openapi_document_matches_its_snapshot() -> None:
    # Building the document needs no database: the app is not started.
    current = render(create_app(Settings()).openapi())
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(current, encoding="utf-8")
    assert SNAPSHOT.exists(), "no snapshot yet: run with UPDATE_SNAPSHOTS=1"
    assert current == SNAPSHOT.read_text(encoding="utf-8"), (
        "the OpenAPI document changed; if intended, refresh with "
        "UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_openapi_snapshot.py"
    )

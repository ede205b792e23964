"""The whole dataset in one download, over real HTTP: the NDJSON export holds exactly the records
that paging through every list endpoint yields; the CSV opens with the csv module and gives back the
same records; the JSON document, the headers, the ETag; and `monograph export` writes the same
bytes offline."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main
from app.domain.sections import Section


def paged(client: httpx.Client, drug: str, section: str, limit: int = 7) -> list[dict[str, Any]]:
    """Every item of a list, page by page (a small page, so that paging is exercised)."""
    items: list[dict[str, Any]] = []
    while True:
        page = client.get(
            f"/v1/drugs/{drug}/{section}", params={"limit": limit, "offset": len(items)}
        ).json()
        items += page["items"]
        if len(items) >= page["total"]:
            return items


@pytest.fixture(scope="module")
def listed(client: httpx.Client) -> list[dict[str, Any]]:
    """What a client gets by paging through every list of every drug."""
    drugs = [d["slug"] for d in client.get("/v1/drugs", params={"limit": 200}).json()["items"]]
    return [
        {"drug": drug, "section": section.value, "record": item}
        for drug in drugs
        for section in Section
        for item in paged(client, drug, section.value)
    ]


def download(client: httpx.Client, **params: str) -> httpx.Response:
    response = client.get("/v1/export", params=params)
    assert response.status_code == 200, response.text
    # Never empty: a streamed body must never be replayed from its last (empty) message.
    assert response.content
    return response


def test_ndjson_holds_exactly_the_paged_records(
    client: httpx.Client, listed: list[dict[str, Any]]
) -> None:
    response = download(client, format="ndjson")
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = response.text.splitlines()
    assert [json.loads(line) for line in lines] == listed
    assert len(listed) == client.get("/v1/meta").json()["dataset"]["record_count"]


def test_a_section_export_holds_that_section(
    client: httpx.Client, listed: list[dict[str, Any]]
) -> None:
    response = download(client, format="ndjson", section="adverse-effects")
    exported = [json.loads(line) for line in response.text.splitlines()]
    assert exported == [r for r in listed if r["section"] == "adverse-effects"]


def test_csv_round_trips_the_records(client: httpx.Client, listed: list[dict[str, Any]]) -> None:
    response = download(client, format="csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert [(r["drug"], r["section"], r["id"]) for r in rows] == [
        (r["drug"], r["section"], r["record"]["id"]) for r in listed
    ]
    for row, entry in zip(rows, listed, strict=True):
        record = {
            "id": row["id"],
            "section": row["section"],
            "label": row["label"],
            "note": row["note"],
            "evidence": json.loads(row["evidence"]),
            "facts": json.loads(row["facts"]),
            **json.loads(row["attributes"]),
        }
        assert record == entry["record"]


def test_the_evidence_csv_has_one_row_per_evidence_entry(
    client: httpx.Client, listed: list[dict[str, Any]]
) -> None:
    response = download(client, format="evidence-csv")
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    expected = [
        (entry["record"]["id"], position, evidence)
        for entry in listed
        for position, evidence in enumerate(entry["record"]["evidence"])
    ]
    assert len(rows) == len(expected)
    for row, (record_id, position, evidence) in zip(rows, expected, strict=True):
        assert (row["record"], int(row["position"])) == (record_id, position)
        assert row["type"] == evidence["type"]
        # A value read off a work has no quote: an empty cell (its `value` column holds it).
        assert row["quote"] == (evidence["quote"] or "")
        assert row.get("value", "") == (evidence.get("value") or "")
        if evidence["type"] == "source_span":
            assert (int(row["start"]), int(row["end"])) == (evidence["start"], evidence["end"])
        else:
            assert row["url"] == evidence["url"]


def test_json_is_one_document_with_drugs_sources_and_records(
    client: httpx.Client, listed: list[dict[str, Any]]
) -> None:
    document = download(client, format="json").json()
    assert document["dataset_version"] == client.get("/readyz").json()["dataset_version"]
    assert document["records"] == listed
    assert document["drugs"][0] == client.get("/v1/drugs/baclofen").json()
    assert document["sources"][0] == client.get("/v1/sources/baclofen-wikipedia").json()


def test_headers_name_the_version_and_a_strong_etag(client: httpx.Client) -> None:
    version = client.get("/readyz").json()["dataset_version"]
    tags = set()
    for fmt in ("json", "ndjson", "csv", "evidence-csv"):
        response = download(client, format=fmt)
        assert response.headers["x-dataset-version"] == version
        etag = response.headers["etag"]
        assert etag.startswith('"') and etag.endswith('"')
        assert "attachment" in response.headers["content-disposition"]
        tags.add(etag)
        again = client.get("/v1/export", params={"format": fmt}, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert download(client, format=fmt).content == response.content  # same tag, same bytes
    assert len(tags) == 4


def test_bad_export_parameters_are_problems(client: httpx.Client) -> None:
    for params in (
        {"format": "xml"},
        {"section": "nothing"},
        {"format": "json", "part": "evidence"},
    ):
        response = client.get("/v1/export", params=params)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"


def test_the_cli_writes_the_files_the_service_serves(
    client: httpx.Client, prepared_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.settings import get_settings

    monkeypatch.setenv("MONOGRAPH_DATABASE_URL", prepared_database)
    get_settings.cache_clear()
    try:
        for fmt in ("json", "ndjson", "csv"):
            assert main(["export", "--format", fmt, str(tmp_path)]) == 0
    finally:
        get_settings.cache_clear()
    assert (tmp_path / "monograph.json").read_bytes() == download(client, format="json").content
    assert (tmp_path / "records.ndjson").read_bytes() == download(client, format="ndjson").content
    assert (tmp_path / "records.csv").read_bytes() == download(client, format="csv").content
    evidence = download(client, format="evidence-csv").content
    assert (tmp_path / "evidence.csv").read_bytes() == evidence

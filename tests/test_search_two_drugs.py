"""A seed copy with a second drug, served over HTTP: names that tie across drugs are never guessed,
the drug filter of search and the sort orders (with their tie-breaker) hold on data we control."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from app.cli import migrate_and_seed
from app.settings import Settings
from tests.conftest import LiveServer
from tests.test_lookup import lookup

SECOND = "baclofan"  # one letter from baclofen: a typo between the two is equally close to both
KEYWORD = "quivering"  # a word only the second drug's facts use
# (fact id suffix, label) in file order: labels tie when letter case is ignored.
SYMPTOMS = [("tremor-a", "Tremor"), ("tremor-b", "tremor"), ("agitation", "Agitation")]
SYMPTOMS += [("tremor-c", "Tremor")]


def span(text: str, words: str) -> dict[str, Any]:
    found = re.search(rf"(?<!\S){re.escape(words)}(?!\S)", text)
    assert found, words
    return {
        "source": "baclofen-wikipedia",
        "start": found.start(),
        "end": found.end(),
        "quote": words,
    }


def write_second_drug(seed: Path) -> None:
    text = (seed / "sources" / "baclofen-wikipedia.txt").read_text(encoding="utf-8")
    folder = seed / "drugs" / SECOND
    folder.mkdir()
    drug = {
        "slug": SECOND,
        "name": "Baclofan",
        "source": "baclofen-wikipedia",
        "summary": "A test.",
    }
    names = [
        {
            "id": "names-lioresal",
            "label": "Lioresal",
            "note": "A brand name this test drug shares with baclofen.",
            "attributes": {"name": "Lioresal", "name_kind": "brand"},
            "evidence": [span(text, "lioresal")],
        }
    ]
    symptoms = [
        {
            "id": f"withdrawal-symptoms-{suffix}",
            "label": label,
            "note": f"A {KEYWORD} withdrawal symptom of the test drug.",
            "attributes": {"term": label.lower()},
            "evidence": [span(text, "withdrawal")],
        }
        for suffix, label in SYMPTOMS
    ]
    for name, data in [("drug", drug), ("names", names), ("withdrawal-symptoms", symptoms)]:
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    # Each fact is one thing: its own record, with the fact's label and note.
    (folder / "records").mkdir()
    for section, facts in [("names", names), ("withdrawal-symptoms", symptoms)]:
        records = [
            {"id": f["id"], "attributes": f["attributes"], "facts": [f["id"]]} for f in facts
        ]
        (folder / "records" / f"{section}.yaml").write_text(
            yaml.safe_dump(records, sort_keys=False), "utf-8"
        )


@pytest.fixture
def two_drugs(fresh_database_url: str, seed_dir: Path, tmp_path: Path) -> Iterator[httpx.Client]:
    seed = tmp_path / "seed"
    shutil.copytree(seed_dir, seed)
    write_second_drug(seed)
    migrate_and_seed(fresh_database_url, seed, force=True)
    settings = Settings(database_url=fresh_database_url, seed_dir=seed)
    with LiveServer(settings) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def assert_ambiguous(body: dict[str, Any], match_type: str, score: float, name: str) -> None:
    assert body["status"] == "ambiguous"
    assert body["match_type"] == match_type
    assert body["score"] == pytest.approx(score)
    assert body["drug"] is None and body["matched_name"] is None
    assert [c["drug"]["slug"] for c in body["candidates"]] == [SECOND, "baclofen"]
    assert {c["matched_name"].casefold() for c in body["candidates"]} == {name}
    assert all(c["score"] == pytest.approx(score) for c in body["candidates"])


def test_names_that_tie_across_drugs_list_the_candidates(two_drugs: httpx.Client) -> None:
    assert_ambiguous(lookup(two_drugs, "LIORESAL"), "alias", 1.0, "lioresal")
    assert_ambiguous(lookup(two_drugs, "Lioresal®"), "normalized", 1.0, "lioresal")
    assert_ambiguous(lookup(two_drugs, "lioresl"), "fuzzy", 0.875, "lioresal")
    fuzzy = lookup(two_drugs, "baclofxn")
    assert fuzzy["status"] == "ambiguous" and fuzzy["match_type"] == "fuzzy"
    assert {c["matched_name"] for c in fuzzy["candidates"]} == {"Baclofen", "Baclofan"}


def test_an_exact_name_wins_over_a_close_one(two_drugs: httpx.Client) -> None:
    for slug in ("baclofen", SECOND):
        body = lookup(two_drugs, slug)
        assert body["status"] == "resolved" and body["match_type"] == "exact"
        assert body["drug"]["slug"] == slug


def search(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/search", params={"q": KEYWORD, "limit": 100, **params})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"].removeprefix("withdrawal-symptoms-") for item in page["items"]]


def test_search_filters_by_drug_and_refuses_an_ambiguous_one(two_drugs: httpx.Client) -> None:
    assert search(two_drugs, drug=SECOND)["total"] == len(SYMPTOMS)
    assert {item["drug"] for item in search(two_drugs)["items"]} == {SECOND}
    assert search(two_drugs, drug="baclofen")["total"] == 0
    response = two_drugs.get("/v1/search", params={"q": KEYWORD, "drug": "Lioresal"})
    assert_ambiguous_problem(response, lookup(two_drugs, "Lioresal"))


def assert_ambiguous_problem(response: httpx.Response, looked_up: dict[str, Any]) -> None:
    """A 422 listing the very candidates /v1/lookup gives for the name."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/problems/ambiguous-name"
    assert "several drugs" in body["detail"]
    assert body["candidates"] == looked_up["candidates"]
    assert [c["drug"]["slug"] for c in body["candidates"]] == [SECOND, "baclofen"]
    assert body["lookup"] == "/v1/lookup?name=Lioresal"


def test_a_drug_path_naming_two_drugs_is_the_lookups_ambiguity(two_drugs: httpx.Client) -> None:
    looked_up = lookup(two_drugs, "Lioresal")
    assert looked_up["status"] == "ambiguous"
    for path in (
        "/v1/drugs/Lioresal",
        "/v1/drugs/Lioresal/names",
        "/v1/drugs/Lioresal/names/facets",
    ):
        assert_ambiguous_problem(two_drugs.get(path), looked_up)
    # Its own name still names each drug.
    assert two_drugs.get(f"/v1/drugs/{SECOND}").json()["slug"] == SECOND


def test_search_sorts_with_the_monograph_order_as_tie_breaker(two_drugs: httpx.Client) -> None:
    in_file_order = [suffix for suffix, _ in SYMPTOMS]
    assert ids(search(two_drugs, sort="position")) == in_file_order
    assert ids(search(two_drugs, sort="label")) == ["agitation", "tremor-a", "tremor-b", "tremor-c"]
    assert ids(search(two_drugs, sort="-label")) == [
        "tremor-a",
        "tremor-b",
        "tremor-c",
        "agitation",
    ]
    relevance = search(two_drugs)
    assert sorted(ids(relevance)) == sorted(in_file_order)
    scores = [item["score"] for item in relevance["items"]]
    assert scores == sorted(scores, reverse=True)
    pages = [ids(search(two_drugs, limit=1, offset=i)) for i in range(len(SYMPTOMS))]
    assert [page[0] for page in pages] == ids(relevance)


def list_ids(client: httpx.Client, sort: str) -> list[str]:
    response = client.get(f"/v1/drugs/{SECOND}/withdrawal-symptoms", params={"sort": sort})
    assert response.status_code == 200, response.text
    return [item["id"].removeprefix("withdrawal-symptoms-") for item in response.json()["items"]]


def test_list_sorting_is_stable_with_the_source_order_as_tie_breaker(
    two_drugs: httpx.Client,
) -> None:
    assert list_ids(two_drugs, "position") == [suffix for suffix, _ in SYMPTOMS]
    assert list_ids(two_drugs, "label") == ["agitation", "tremor-a", "tremor-b", "tremor-c"]
    assert list_ids(two_drugs, "-label") == ["tremor-a", "tremor-b", "tremor-c", "agitation"]
    assert list_ids(two_drugs, "id") == ["agitation", "tremor-a", "tremor-b", "tremor-c"]
    assert list_ids(two_drugs, "-id") == ["tremor-c", "tremor-b", "tremor-a", "agitation"]

"""End to end over HTTP: /v1/lookup resolves a typed name and says how, never guessing silently."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


def lookup(client: httpx.Client, name: str) -> dict[str, Any]:
    response = client.get("/v1/lookup", params={"name": name})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_resolved(body: dict[str, Any], match_type: str, matched_name: str, score: float) -> None:
    assert body["status"] == "resolved"
    assert body["match_type"] == match_type
    assert body["drug"] == {"slug": "baclofen", "name": "Baclofen", "href": "/v1/drugs/baclofen"}
    assert body["matched_name"] == matched_name
    assert body["score"] == pytest.approx(score)
    assert [c["drug"]["slug"] for c in body["candidates"]] == ["baclofen"]


def test_a_typo_resolves_as_a_fuzzy_match_with_its_score(client: httpx.Client) -> None:
    body = lookup(client, "lioresl")
    # One edit (a dropped 'a') in an eight-letter name: 1 - 1/8.
    assert_resolved(body, "fuzzy", "Lioresal", 0.875)
    assert body["candidates"][0]["matched_kind"] == "brand"


@pytest.mark.parametrize(
    ("name", "matched", "score"),
    [
        ("baclofne", "Baclofen", 0.875),
        ("bacolfen", "Baclofen", 0.875),
        ("lioreasl", "Lioresal", 0.875),
    ],
)
def test_a_transposition_is_one_edit(
    client: httpx.Client, name: str, matched: str, score: float
) -> None:
    assert_resolved(lookup(client, name), "fuzzy", matched, score)


def test_a_name_exactly_at_the_threshold_resolves(client: httpx.Client) -> None:
    # Two edits in eight letters: 1 - 2/8 = 0.75, the threshold itself, which is enough.
    assert_resolved(lookup(client, "lioresxx"), "fuzzy", "Lioresal", 0.75)


def test_a_brand_in_any_case_is_an_alias(client: httpx.Client) -> None:
    assert_resolved(lookup(client, "LIORESAL"), "alias", "Lioresal", 1.0)


@pytest.mark.parametrize("name", ["baclofen", "Baclofen", "BACLOFEN", "  baclofen "])
def test_the_slug_or_name_is_exact(client: httpx.Client, name: str) -> None:
    body = lookup(client, name)
    assert_resolved(body, "exact", "Baclofen", 1.0)
    assert body["query"] == name


@pytest.mark.parametrize("name", ["Lioresal®", "lio-resal", "Lio resal", "LIÓRESAL"])
def test_punctuation_spaces_and_accents_are_normalized(client: httpx.Client, name: str) -> None:
    assert_resolved(lookup(client, name), "normalized", "Lioresal", 1.0)


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


BACLOFEN = {"slug": "baclofen", "name": "Baclofen", "href": "/v1/drugs/baclofen"}


def test_no_match_is_a_404_suggesting_each_close_drug_once(client: httpx.Client) -> None:
    close = problem(client.get("/v1/lookup", params={"name": "baclo"}), 404)
    # Several of baclofen's names start with "baclo": one suggestion, the drug, naming them.
    [suggestion] = close["suggestions"]
    assert suggestion == {**BACLOFEN, "matched_names": suggestion["matched_names"]}
    assert suggestion["matched_names"][0] == "Baclofen"
    assert len(suggestion["matched_names"]) > 1
    assert len({n.casefold() for n in suggestion["matched_names"]}) == len(
        suggestion["matched_names"]
    )
    assert "baclo" in close["detail"] and "Baclofen" in close["detail"]
    assert close["lookup"] == "/v1/lookup?name=baclo"
    far = problem(client.get("/v1/lookup", params={"name": "aspirin"}), 404)
    assert "suggestions" not in far
    assert "aspirin" in far["detail"]


def test_a_drug_path_with_a_typo_is_a_404_suggesting_the_drug_never_a_guess(
    client: httpx.Client,
) -> None:
    for path in ("/v1/drugs/lioresl", "/v1/drugs/lioresl/indications"):
        body = problem(client.get(path), 404)
        [suggestion] = body["suggestions"]
        assert suggestion == {**BACLOFEN, "matched_names": suggestion["matched_names"]}, path
        assert suggestion["matched_names"][0] == "Lioresal"
        assert body["lookup"] == "/v1/lookup?name=lioresl"
        assert "Baclofen (Lioresal" in body["detail"]
    # The link it gives does find the drug.
    assert_resolved(lookup(client, "lioresl"), "fuzzy", "Lioresal", 0.875)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "required"),
        ({"name": ""}, "at least 1 character"),
        ({"name": "!!! ---"}, "no letters or digits"),
        ({"name": "😀"}, "no letters or digits"),
        ({"name": "x" * 201}, "at most 200 characters"),
        ({"name": "baclofen", "fuzzy": "no"}, "unknown parameter"),
    ],
    ids=["missing", "empty", "punctuation", "emoji", "too-long", "unknown-parameter"],
)
def test_a_name_with_nothing_to_match_is_a_clear_422(
    client: httpx.Client, params: dict[str, str], reason: str
) -> None:
    body = problem(client.get("/v1/lookup", params=params), 422)
    assert reason in body["errors"][0]["message"]

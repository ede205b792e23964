"""Every problem `type` URI resolves: the service explains each type where its problems point."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.errors import PROBLEM_TYPES


def follow_type(client: httpx.Client, problem: dict[str, Any]) -> dict[str, Any]:
    """GET the problem's type URI, resolved against the request URL (RFC 9457 section 3.1.1)."""
    response = client.get(problem["type"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    explained: dict[str, Any] = response.json()
    assert explained["type"] == problem["type"]
    assert explained["status"] == problem["status"]
    assert explained["title"] == problem["title"]
    assert explained["meaning"] and explained["fix"]
    return explained


@pytest.mark.parametrize("slug", sorted(PROBLEM_TYPES))
def test_every_problem_type_uri_answers_200(client: httpx.Client, slug: str) -> None:
    problem = PROBLEM_TYPES[slug]
    follow_type(client, {"type": problem.uri, "status": problem.status, "title": problem.title})


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/v1/drugs/aspirin", 404),
        ("GET", "/v1/drugs?limit=0", 422),
        ("GET", "/v1/drugs?colour=blue", 422),
        ("GET", "/v1/" + "x" * 3000, 414),
        ("POST", "/v1/drugs", 405),
        ("GET", "/problems/no-such-problem", 404),
    ],
)
def test_the_type_of_each_problem_served_resolves(
    client: httpx.Client, method: str, url: str, status: int
) -> None:
    response = client.request(method, url)
    assert response.status_code == status, response.text
    follow_type(client, response.json())


def test_type_uris_are_relative_never_from_the_host_header(client: httpx.Client) -> None:
    response = client.get("/v1/drugs/aspirin", headers={"Host": "attacker.example"})
    assert response.json()["type"] == "/problems/not-found"


def test_the_openapi_document_links_the_problem_types(client: httpx.Client) -> None:
    document = client.get("/openapi.json").text
    assert "monograph.example" not in document  # no placeholder URL: each one resolves here
    for problem in PROBLEM_TYPES.values():
        if problem.slug not in ("method-not-allowed", "http-error"):  # no route declares those
            assert f"({problem.uri})" in document, problem.slug
    operation = client.get("/openapi.json").json()["paths"]["/problems/{problem_type}"]["get"]
    assert operation["operationId"] == "get_problem_type"

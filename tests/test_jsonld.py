"""schema.org JSON-LD over real HTTP: GET /v1/drugs/{drug} with Accept: application/ld+json answers
a schema.org Drug that pyld expands with no term dropped, every property a schema.org IRI.

The @context is inline, so pyld expands it without fetching anything: its document loader here
refuses every URL, and the expansion would fail if the document named a remote context."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pyld import jsonld

from app.api.routes.drugs import prefers_json_ld

LD = "application/ld+json"
SCHEMA = "http://schema.org/"


def no_network(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    raise AssertionError(f"pyld tried to fetch {url}")


@pytest.fixture(scope="module")
def document(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/v1/drugs/baclofen", headers={"Accept": LD})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == LD
    return dict(response.json())


def terms(value: Any) -> set[str]:
    """Every key of the compact document but JSON-LD keywords, at any depth."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "@context":
                continue
            if not key.startswith("@"):
                found.add(key)
            found |= terms(item)
    elif isinstance(value, list):
        for item in value:
            found |= terms(item)
    return found


def expanded_properties(value: Any) -> tuple[set[str], set[str]]:
    """(properties, types) of an expanded document."""
    properties: set[str] = set()
    types: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "@type":
                types |= set(item)
            elif not key.startswith("@"):
                properties.add(key)
            inner = expanded_properties(item)
            properties |= inner[0]
            types |= inner[1]
    elif isinstance(value, list):
        for item in value:
            inner = expanded_properties(item)
            properties |= inner[0]
            types |= inner[1]
    return properties, types


def test_the_drug_is_a_schema_org_drug(document: dict[str, Any]) -> None:
    assert document["@type"] == "Drug"
    assert document["name"] == "Baclofen"
    assert isinstance(document["@context"], dict)
    assert {"Oral", "Intrathecal", "Transdermal"} == set(document["administrationRoute"])
    assert {"codeValue": "1292", "codingSystem": "RxNorm", "@type": "MedicalCode"} in document[
        "code"
    ]
    assert {"@type": "DrugClass", "name": "GABA-B receptor agonist"} in document["drugClass"]
    assert "Lioresal" in document["proprietaryName"]
    assert document["mechanismOfAction"]
    assert any("stroke" in warning for warning in document["warning"])
    assert document["pregnancyWarning"] and document["breastfeedingWarning"]


def test_it_expands_offline_with_no_term_dropped_all_in_schema_org(
    document: dict[str, Any],
) -> None:
    expanded = jsonld.expand(document, {"documentLoader": no_network})
    properties, types = expanded_properties(expanded)
    used = terms(document)
    assert {SCHEMA + term for term in used} == properties  # nothing dropped, nothing renamed
    assert all(p.startswith(SCHEMA) for p in properties | types)
    assert {SCHEMA + "Drug", SCHEMA + "MedicalCode", SCHEMA + "DrugClass"} <= types


def test_representations_have_their_own_etag_and_vary_on_accept(client: httpx.Client) -> None:
    # Alternating requests: the response cache must keep the two apart.
    for _ in range(2):
        plain = client.get("/v1/drugs/baclofen")
        linked = client.get("/v1/drugs/baclofen", headers={"Accept": LD})
        assert plain.headers["content-type"] == "application/json"
        assert linked.headers["content-type"] == LD
        assert "@context" in linked.json() and "@context" not in plain.json()
        for response in (plain, linked):
            assert response.headers["vary"] == "Accept, Accept-Encoding"
        assert plain.headers["etag"] != linked.headers["etag"]
    revalidated = client.get(
        "/v1/drugs/baclofen", headers={"Accept": LD, "If-None-Match": linked.headers["etag"]}
    )
    assert revalidated.status_code == 304
    changed = client.get("/v1/drugs/baclofen", headers={"If-None-Match": linked.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("*/*", False),
        ("application/json", False),
        (LD, True),
        (f"{LD}, application/json;q=0.9", True),
        (f"application/json, {LD}", False),
        (f"{LD};q=0.5, */*;q=0.1", True),
        (f"{LD};q=0", False),
        (f"text/html, {LD}", True),
    ],
)
def test_negotiation_follows_the_qualities(accept: str | None, expected: bool) -> None:
    assert prefers_json_ld(accept) is expected

"""The examples of the OpenAPI document are the service's real answers, and stay so.

Each stored example (app/api/examples.json) names the request that produced it; the live service
must still answer that request with exactly that body (bar the parts marked `varies`), and every
example must validate against the schema its response declares. When the data or the contract
change on purpose, regenerate them: .venv/bin/python -m scripts.openapi_examples
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from app.api.examples import load_examples
from scripts.openapi_examples import (
    COMMAND,
    FHIR_SEARCH,
    body_of,
    database_gone_answer,
    example_requests,
    failing_route_answer,
)
from tests.conftest import LiveServer

REGENERATE = f"regenerate the examples with: .venv/bin/{COMMAND}"


@pytest.fixture(scope="module")
def document(client: httpx.Client) -> dict[str, Any]:
    return dict(client.get("/openapi.json").json())


def responses(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(operation id, status, media type, media object) of every response with a body."""
    return [
        (operation["operationId"], status, media_type, media)
        for path_item in document["paths"].values()
        for operation in path_item.values()
        for status, response in operation["responses"].items()
        for media_type, media in response.get("content", {}).items()
    ]


def without(body: Any, pointers: list[str]) -> Any:
    """`body` with the values at the JSON pointers replaced by a marker (they must exist)."""
    if not pointers:
        return body
    import copy

    body = copy.deepcopy(body)
    for pointer in pointers:
        *parents, last = pointer.strip("/").split("/")
        target = body
        for part in parents:
            target = target[int(part) if isinstance(target, list) else part]
        assert last in target, f"{pointer} is not in the answer"
        target[last] = "<varies>"
    return body


def test_every_response_of_the_document_has_an_example(document: dict[str, Any]) -> None:
    missing = [
        f"{operation} {status}"
        for operation, status, _, media in responses(document)
        if "example" not in media and "examples" not in media
    ]
    assert not missing, f"responses without an example: {missing}; {REGENERATE}"


def test_the_stored_examples_are_the_ones_the_document_asks_for(
    document: dict[str, Any], client: httpx.Client
) -> None:
    wanted = {(r.operation, r.example_key, r.url) for r in example_requests(document, client)}
    stored = {
        (operation, status, example["request"])
        for operation, by_status in load_examples()["operations"].items()
        for status, example in by_status.items()
    }
    assert stored == wanted, f"missing: {wanted - stored}, stale: {stored - wanted}; {REGENERATE}"


def test_each_example_is_what_the_service_answers_to_its_request(
    backend: str, client: httpx.Client
) -> None:
    if backend != "sqlite":
        pytest.skip("generated on SQLite; PostgreSQL ranks search hits with other scores")
    for operation, by_key in load_examples()["operations"].items():
        for key, example in by_key.items():
            status = key.split(" ")[0]  # "200", or "200 text/csv" for a second media type
            accept = example.get("accept")
            response = client.get(example["request"], headers={"accept": accept} if accept else {})
            where = f"{operation} {key}: GET {example['request']}"
            assert str(response.status_code) == status, f"{where} answered {response.status_code}"
            varies = example.get("varies", [])
            assert without(body_of(response), varies) == without(example["body"], varies), (
                f"{where} answers otherwise than its example; {REGENERATE}"
            )


def test_the_shared_problem_examples_are_real_answers(
    backend: str, live_server: LiveServer, prepared_database: str, seed_dir: Path
) -> None:
    """414 is asked again; 500 and 503 are provoked again the way the generator provoked them."""
    if backend != "sqlite":
        pytest.skip("the 503 is provoked by overwriting a SQLite file")
    shared = load_examples()["shared"]
    answer = httpx.get(live_server.url + shared["414"]["request"])
    assert answer.status_code == 414
    assert answer.json() == shared["414"]["body"], REGENERATE
    assert failing_route_answer(prepared_database, seed_dir) == shared["500"]["body"], REGENERATE
    fhir_long = httpx.get(live_server.url + shared["fhir-414"]["request"])
    assert fhir_long.status_code == 414
    assert fhir_long.json() == shared["fhir-414"]["body"], REGENERATE
    fhir_failure = failing_route_answer(prepared_database, seed_dir, FHIR_SEARCH)
    assert fhir_failure == shared["fhir-500"]["body"], REGENERATE
    assert database_gone_answer(seed_dir) == shared["503"]["body"], REGENERATE


def test_every_example_validates_against_its_schema(document: dict[str, Any]) -> None:
    components = document["components"]
    checked = 0
    for operation, status, _, media in responses(document):
        schema = {**media["schema"], "components": components}
        values = [media["example"]] if "example" in media else []
        for named in media.get("examples", {}).values():
            ref = named["$ref"].rsplit("/", 1)[-1]
            values.append(components["examples"][ref]["value"])
        validator = jsonschema_rs.Draft202012Validator(schema)
        for value in values:
            errors = [error.message for error in validator.iter_errors(value)]
            assert not errors, f"{operation} {status}: the example breaks its schema: {errors}"
            checked += 1
    assert checked >= len(responses(document))


def test_each_section_item_schema_shows_a_fact_of_its_own_section(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    items = {name: s for name, s in schemas.items() if "section" in s.get("properties", {})}
    facts = {name: s for name, s in items.items() if "evidence" in s.get("properties", {})}
    assert len(facts) >= 14
    for name, schema in facts.items():
        example = schema["example"]
        assert example["id"].startswith(example["section"]), name
        section_schema = schema["properties"]["section"]
        assert example["section"] in str(section_schema) or "$ref" in section_schema, name

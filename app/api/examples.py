"""The response examples of the OpenAPI document: real answers of the service to real requests.

They live in app/api/examples.json, written by one command from a service serving the real seed:

    .venv/bin/python -m scripts.openapi_examples

Each example is filed under its operation id and status, with the request that produced it, and
tests/test_openapi_examples.py fails when the service no longer answers that request with it. The
problems any route can answer (414, 500, 503) are one shared example each, in
`components.examples`, referenced from every response that declares them.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

EXAMPLES_PATH = Path(__file__).with_name("examples.json")
SHARED_STATUSES = ("414", "500", "503")
FHIR_JSON = "application/fhir+json"


@lru_cache(maxsize=1)
def load_examples(path: Path = EXAMPLES_PATH) -> dict[str, Any]:
    if not path.exists():  # before the first generation: a document without examples
        return {"operations": {}, "shared": {}}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def shared_example_name(status: str) -> str:
    return f"problem-{status}"


def add_examples(document: dict[str, Any], examples: dict[str, Any]) -> None:
    """Put each stored example under its response; give each section's item schema its own."""
    components = document.setdefault("components", {})
    shared = examples.get("shared", {})
    for status, stored in shared.items():
        components.setdefault("examples", {})[shared_example_name(status)] = {
            "summary": stored["summary"],
            "description": f"The service's answer to GET {stored['request'][:80]}"
            + (f" ({stored['fault']})." if "fault" in stored else "."),
            "value": stored["body"],
        }
    for operation in _operations(document):
        stored_by_key = examples.get("operations", {}).get(operation["operationId"], {})
        for status, response in operation.get("responses", {}).items():
            content = response.get("content", {})
            media_types = list(content)
            for media_type, media in content.items():
                # A response's second and later media types have examples of their own.
                key = status if media_type == media_types[0] else f"{status} {media_type}"
                # Under /fhir the shared problems are OperationOutcomes.
                shared_key = f"fhir-{status}" if media_type == FHIR_JSON else status
                if key in stored_by_key:
                    media["example"] = stored_by_key[key]["body"]
                elif shared_key in shared:
                    name = shared_example_name(shared_key)
                    media["examples"] = {name: {"$ref": f"#/components/examples/{name}"}}
    _add_item_examples(document)


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for path_item in document.get("paths", {}).values()
        for operation in path_item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]


def _add_item_examples(document: dict[str, Any]) -> None:
    """A list's item schema shows the list example's first item: each section its own fact."""
    schemas = document.get("components", {}).get("schemas", {})
    for operation in _operations(document):
        media = operation.get("responses", {}).get("200", {}).get("content", {})
        body = media.get("application/json", {})
        example = body.get("example")
        items = example.get("items") if isinstance(example, dict) else None
        page_ref = body.get("schema", {}).get("$ref", "")
        page = schemas.get(page_ref.rsplit("/", 1)[-1], {})
        item_ref = page.get("properties", {}).get("items", {}).get("items", {}).get("$ref", "")
        item_schema = schemas.get(item_ref.rsplit("/", 1)[-1])
        if items and item_schema is not None:
            item_schema.setdefault("example", items[0])

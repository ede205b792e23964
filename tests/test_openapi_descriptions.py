"""The OpenAPI document teaches: every schema, property, parameter, tag and enumeration value is
described. (Spectral checks the same from outside; this says precisely what is missing.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.main import create_app
from app.settings import Settings


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(Settings()).openapi()


def walk(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object in the document, with its location."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{where}/{index}")


def test_every_schema_and_property_is_described(document: dict[str, Any]) -> None:
    missing = []
    for name, schema in document["components"]["schemas"].items():
        if not schema.get("description"):
            missing.append(name)
        missing += [
            f"{name}.{prop}"
            for prop, sub in schema.get("properties", {}).items()
            if not sub.get("description")
        ]
    assert not missing


def test_every_parameter_is_described(document: dict[str, Any]) -> None:
    missing = [
        f"{operation['operationId']}: {parameter['name']}"
        for path_item in document["paths"].values()
        for operation in path_item.values()
        for parameter in operation.get("parameters", [])
        if not parameter.get("description")
    ]
    assert not missing


def test_every_enumeration_value_is_explained(document: dict[str, Any]) -> None:
    enums = [(where, node) for where, node in walk(document) if "enum" in node]
    assert len(enums) >= 20
    for where, node in enums:
        meanings = node.get("x-enum-descriptions", {})
        assert sorted(meanings) == sorted(node["enum"]), f"{where}: {node['enum']} vs {meanings}"
        assert all(meanings.values()), where
        for value in node["enum"]:
            assert f"`{value}`" in node["description"], f"{where}: {value} not in description"


def test_the_tags_are_defined_and_described(document: dict[str, Any]) -> None:
    defined = {tag["name"]: tag["description"] for tag in document["tags"]}
    used = {
        tag
        for path_item in document["paths"].values()
        for operation in path_item.values()
        for tag in operation.get("tags", [])
    }
    assert used == set(defined)
    assert all(defined.values())


def test_the_topic_filters_are_enumerations(document: dict[str, Any]) -> None:
    for section in ("pharmacology", "overdose", "withdrawal-syndrome", "abuse-and-dependence"):
        operation = document["paths"][f"/v1/drugs/{{drug}}/{section}"]["get"]
        topic = next(p for p in operation["parameters"] if p["name"] == "topic")
        assert "pattern" not in str(topic["schema"]), section
        ref = topic["schema"]["anyOf"][0]["$ref"].rsplit("/", 1)[-1]
        assert document["components"]["schemas"][ref]["enum"], section

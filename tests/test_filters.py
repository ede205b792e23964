"""The lists' filters are derived from the attribute declarations: a new enumeration, bool or list
of an enumeration among a list item's attributes is a new filter, and every filter takes every
value of its type."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, Field, ValidationError

from app.api.params import SECTION_PARAMS, ListParams, filter_model, params_for
from app.domain.described import described
from app.domain.sections import Code, Section, Strict, record_attributes


@described({"warm": "Warm.", "cold": "Cold."})
class Climate(StrEnum):
    """A climate."""

    warm = "warm"
    cold = "cold"


class Attributes(Strict):
    term: str = Field(description="A word.")
    climate: Climate = Field(description="The climate it lives in.")
    season: Climate | None = Field(default=None, description="The climate of its season.")
    habitats: list[Climate] = Field(description="Where it is found.")
    tame: bool = Field(default=False, description="True where it is tame.")
    wild: bool | None = Field(default=None, description="True where it is wild.")
    synonyms: list[str] = Field(default=[], description="Other words.")
    codes: list[Code] = Field(default=[], description="Codes.")
    year: int | None = Field(default=None, description="A year.")


def test_each_enumeration_or_bool_attribute_is_a_filter_of_its_type() -> None:
    model = filter_model(Attributes)
    assert model.__name__ == "Params"
    assert model.filter_names() == ["climate", "season", "habitat", "tame", "wild"]
    assert model.LIST_FIELDS == {"habitat": "habitats"}
    for name, kind in [("climate", Climate), ("habitat", Climate), ("tame", bool)]:
        field = model.model_fields[name]
        assert field.annotation == kind | None and field.default is None, name
    assert "Where it is found." in (model.model_fields["habitat"].description or "")
    assert "The climate it lives in." in (model.model_fields["climate"].description or "")
    # Paging and sorting stay, unknown names are still refused.
    assert model.model_fields.keys() >= ListParams.model_fields.keys()
    with pytest.raises(ValidationError):
        model.model_validate({"term": "a"})
    with pytest.raises(ValidationError):
        model.model_validate({"climate": "tepid"})
    query = model.model_validate({"habitat": "cold", "tame": "true"})
    assert query.filters() == {"habitat": Climate.cold, "tame": True}
    assert model.matches({"habitats": ["warm", "cold"]}, "habitat", Climate.cold)
    assert not model.matches({"habitats": ["warm"]}, "habitat", Climate.cold)


def test_a_list_filter_needs_a_plural_name() -> None:
    class Singular(Strict):
        habitat: list[Climate] = Field(description="Where it is found.")

    with pytest.raises(TypeError, match="plural"):
        filter_model(Singular)


def _expected_filters(attributes: type[BaseModel]) -> list[str]:
    """Read from the JSON schema, not the annotations: the attributes a client can see are an
    enumeration, a bool, or a list of an enumeration."""
    schema = attributes.model_json_schema()
    definitions = schema.get("$defs", {})

    def kind(node: dict[str, Any]) -> str | None:
        if "$ref" in node:
            return "enum" if "enum" in definitions[node["$ref"].rsplit("/", 1)[-1]] else None
        if node.get("type") == "boolean":
            return "enum"
        if node.get("type") == "array":
            return "list" if kind(node["items"]) == "enum" else None
        present = [kind(option) for option in node.get("anyOf", []) if option != {"type": "null"}]
        return present[0] if len(present) == 1 else None

    names = []
    for name, node in schema["properties"].items():
        found = kind(node)
        if found == "enum":
            names.append(name)
        elif found == "list":
            names.append(name.removesuffix("s"))
    return names


@pytest.mark.parametrize("section", list(Section), ids=[s.value for s in Section])
def test_every_list_filters_by_each_of_its_items_enumerations(section: Section) -> None:
    assert params_for(section).filter_names() == _expected_filters(record_attributes(section))
    assert (section in SECTION_PARAMS) == bool(_expected_filters(record_attributes(section)))


def _filter_values(model: type[ListParams], name: str) -> list[Any]:
    annotation = model.model_fields[name].annotation
    kind = next(arg for arg in getattr(annotation, "__args__", ()) if arg is not type(None))
    return [True, False] if kind is bool else list(kind)


def _holds(item: dict[str, Any], name: str, value: Any) -> bool:
    if name in item:
        return bool(item[name] == value)
    return value in item[f"{name}s"]  # a list-valued field, under its plural name


def test_every_filter_takes_every_value_of_its_type(client: httpx.Client) -> None:
    checked = 0
    for section, model in SECTION_PARAMS.items():
        url = f"/v1/drugs/baclofen/{section.value}"
        everything = client.get(url, params={"limit": 200}).json()["items"]
        for name in model.filter_names():
            for value in _filter_values(model, name):
                text = str(value).lower() if isinstance(value, bool) else value
                response = client.get(url, params={name: text, "limit": 200})
                assert response.status_code == 200, (section, name, value, response.text)
                expected = [item["id"] for item in everything if _holds(item, name, value)]
                assert [item["id"] for item in response.json()["items"]] == expected
                checked += 1
    assert checked >= 60

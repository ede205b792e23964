"""End to end over HTTP: section facets count what the filters select; list sorting is ordered."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from app.api.facets import filter_fields
from app.api.params import SECTION_PARAMS
from app.domain.sections import Section

FACETED = [section.value for section in SECTION_PARAMS]
UNFACETED = [section.value for section in Section if section not in SECTION_PARAMS]


def get_json(client: httpx.Client, url: str, **params: Any) -> Any:
    # No params argument when there are none: httpx would drop the query already in `url`.
    response = client.get(url, params=params) if params else client.get(url)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("section", FACETED)
def test_facets_count_exactly_what_each_filter_selects(client: httpx.Client, section: str) -> None:
    listed = get_json(client, f"/v1/drugs/baclofen/{section}", limit=200)
    facets = get_json(client, f"/v1/drugs/baclofen/{section}/facets")
    assert facets["drug"] == "baclofen" and facets["section"] == section
    assert facets["total"] == listed["total"]
    assert [f["field"] for f in facets["facets"]] == filter_fields(SECTION_PARAMS[Section(section)])
    list_fields = SECTION_PARAMS[Section(section)].LIST_FIELDS
    for facet in facets["facets"]:
        values = facet["values"]
        assert values[-1]["value"] is None and values[-1]["href"] is None
        list_field = list_fields.get(facet["field"])
        if list_field is None:  # one value an item: the counts share the items out
            assert sum(v["count"] for v in values) == facets["total"], facet
            unset = sum(1 for item in listed["items"] if item.get(facet["field"]) is None)
        else:  # a list of values an item (routes, contexts): each value counts the items with it
            assert sum(v["count"] for v in values) >= facets["total"], facet
            unset = sum(1 for item in listed["items"] if not item[list_field])
        assert values[-1]["count"] == unset
        counts = [v["count"] for v in values[:-1]]
        assert counts == sorted(counts, reverse=True)
        for value in values[:-1]:
            assert value["value"] == value["value"].lower()
            filtered = get_json(client, value["href"])
            assert filtered["total"] == value["count"], value


def test_facets_of_a_brand_name_are_the_drugs_facets(client: httpx.Client) -> None:
    by_brand = get_json(client, "/v1/drugs/Lioresal/adverse-effects/facets")
    assert by_brand == get_json(client, "/v1/drugs/baclofen/adverse-effects/facets")


def test_facets_of_an_unknown_drug_or_an_unfiltered_section_are_404(client: httpx.Client) -> None:
    assert client.get("/v1/drugs/aspirin/adverse-effects/facets").status_code == 404
    for section in UNFACETED:
        response = client.get(f"/v1/drugs/baclofen/{section}/facets")
        assert response.status_code == 404, section
        assert response.headers["content-type"] == "application/problem+json"


def labels_of(client: httpx.Client, section: str, sort: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = get_json(
        client, f"/v1/drugs/baclofen/{section}", sort=sort, limit=200
    )["items"]
    return items


@pytest.mark.parametrize("section", [s.value for s in Section])
def test_lists_sort_by_label_and_id_in_both_directions(client: httpx.Client, section: str) -> None:
    by_position = labels_of(client, section, "position")
    assert by_position == get_json(client, f"/v1/drugs/baclofen/{section}", limit=200)["items"]
    for sort, key, descending in [
        ("label", "label", False),
        ("-label", "label", True),
        ("id", "id", False),
        ("-id", "id", True),
    ]:
        items = labels_of(client, section, sort)
        assert sorted(i["id"] for i in items) == sorted(i["id"] for i in by_position)
        keys = [item[key].casefold() for item in items]
        assert keys == sorted(keys, reverse=descending), sort
        # Ties keep the source's order in both directions.
        position = {item["id"]: rank for rank, item in enumerate(by_position)}
        for before, after in itertools.pairwise(items):
            if before[key].casefold() == after[key].casefold():
                assert position[before["id"]] < position[after["id"]], (sort, before, after)


def test_an_unknown_sort_is_a_422(client: httpx.Client) -> None:
    response = client.get("/v1/drugs/baclofen/withdrawal-symptoms", params={"sort": "random"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == "query.sort"

"""Typed answers: every JSON body a route serves is its response model's own serialisation.

The routes send bytes built once per dataset version (fast, and cached), not model instances; this
proves those bytes are exactly what the documented model gives: each body is validated by the
route's `response_model` and serialised again, and the two must be byte for byte equal. An
undocumented field, a missing one, another order or another number or date format all fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.api.routes import drugs, export, fhir, meta, problems, search, sources
from app.domain.sections import Section
from app.errors import PROBLEM_TYPES

ROUTERS = [drugs.router, search.router, sources.router, meta.router, problems.router]
ROUTERS += [export.router, fhir.router, fhir.drug_router]
# Typed elsewhere: FHIR resources by the FHIR R5 models (tests/test_fhir.py parses every one with
# fhir.resources; the OpenAPI document describes only their envelope), and the export, a file
# of the list items (tests/test_export.py compares it with the lists).
TYPED_ELSEWHERE = ("/fhir/", "/v1/drugs/{drug}/fhir", "/v1/export")
LIST_QUERIES = ["", "?limit=2&offset=1", "?sort=-label", "?sort=id&limit=100"]


def json_routes() -> list[APIRoute]:
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    return [
        r
        for r in routes
        if "GET" in (r.methods or ())
        and r.response_model is not None
        and not r.path.startswith(TYPED_ELSEWHERE)
    ]


def urls_of(route: APIRoute, client: httpx.Client) -> Iterator[str]:
    """Real URLs of a route template: every path parameter filled with values that exist."""
    path = route.path.replace("{drug}", "baclofen").replace("{source}", "baclofen-wikipedia")
    if "{problem_type}" in path:
        yield from (path.replace("{problem_type}", slug) for slug in PROBLEM_TYPES)
    elif "{fact_id}" in path:
        listed = client.get(path.rpartition("/")[0], params={"limit": 200}).json()
        ids = [item["id"] for item in listed["items"]]
        yield from (path.replace("{fact_id}", fact_id) for fact_id in ids)
    elif path == "/v1/search":
        for q in ("pump", "withdrawal hallucinations", "the", "gaba receptor", "lioresal"):
            yield from (f"{path}?q={q}{extra}" for extra in ("", "&limit=3&sort=label"))
    elif path == "/v1/lookup":
        yield from (f"{path}?name={name}" for name in ("baclofen", "LIORESAL", "lioresl"))
    elif route.endpoint.__name__ in ("list_section", "list_facts"):
        yield from (path + query for query in LIST_QUERIES)
    elif route.endpoint.__name__ in ("list_drugs", "list_sources"):
        yield from (path + query for query in ("", "?limit=1", "?offset=1"))
    else:
        yield path


def reserialised(model: type[BaseModel] | Any, body: bytes) -> bytes:
    adapter_model: Any = model
    instance = adapter_model.model_validate_json(body, extra="ignore")
    return orjson.dumps(instance.model_dump(mode="json", by_alias=True))


def test_every_json_route_is_covered() -> None:
    """A new route is checked here unless it is typed elsewhere (and says so above)."""
    paths = {route.path for route in json_routes()}
    for section in Section:
        assert f"/v1/drugs/{{drug}}/{section.value}" in paths
        assert f"/v1/drugs/{{drug}}/{section.value}/{{fact_id}}" in paths
    assert {"/v1/search", "/v1/lookup", "/v1/meta", "/v1/drugs/{drug}"} <= paths


@pytest.mark.parametrize("route", json_routes(), ids=lambda route: route.path)
def test_each_body_is_its_models_serialisation(route: APIRoute, client: httpx.Client) -> None:
    checked = 0
    for url in urls_of(route, client):
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[:300])
        assert response.headers["content-type"].startswith("application/json"), url
        assert reserialised(route.response_model, response.content) == response.content, url
        checked += 1
    assert checked, route.path

"""The OpenAPI document: links (how a client, or a stateful tester such as schemathesis, goes from
a response to the next call: a list to its items, a drug to its sections), and its own route."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from starlette.responses import Response

from app.api.examples import add_examples, load_examples
from app.api.responses import bytes_response

TAGS = [
    {
        "name": "drugs",
        "description": "The monograph: each drug's summary and its sections (indications, "
        "adverse effects, pharmacology, ...), each a filterable list with one item per thing and "
        "its evidence, one item by id, facet counts, and the statement-level facts behind them.",
    },
    {
        "name": "search",
        "description": "Full-text search over every list item, and a drug found by any of its "
        "names (typos forgiven).",
    },
    {
        "name": "sources",
        "description": "The source texts evidence points into, and how completely the facts "
        "cite them.",
    },
    {
        "name": "fhir",
        "description": "The same records as FHIR R5 resources (MedicationKnowledge, "
        "ClinicalUseDefinition), each claim with its evidence in an extension; errors are "
        "OperationOutcomes.",
    },
    {
        "name": "export",
        "description": "The whole dataset in one download (JSON, NDJSON, CSV), with its evidence.",
    },
    {"name": "meta", "description": "Liveness, readiness and what the service is serving."},
]
# Relative: the document is right wherever the service is served (behind any host or proxy).
CONTACT = {"name": "The monograph project (see the README of its repository)"}
SERVERS = [{"url": "/", "description": "This service, where the document was fetched from."}]


def link(operation_id: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": parameters}


def ok_with_links(**links: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """The `responses` entry adding links to the 200 response, to merge with problem_responses."""
    return {200: {"links": links}}


def finish_openapi(app: FastAPI) -> None:
    """What FastAPI does not build: tags, servers, security, contact, the real examples."""
    build = app.openapi
    finished: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not finished:
            document = build()
            document["tags"] = TAGS
            document["servers"] = SERVERS
            # A public, read-only API: no operation needs credentials. Declared, not left out,
            # so that clients and linters know it was meant.
            document["security"] = []
            document["info"]["contact"] = CONTACT
            add_examples(document, load_examples())
            finished.append(document)
        return finished[0]

    app.openapi = openapi  # type: ignore[method-assign]


def serve_openapi_with_etag(app: FastAPI) -> None:
    """Serve /openapi.json like every other GET: strong ETag, 304, gzip once.

    FastAPI's own route re-serialises the document on every request and sends no validator; the
    document only changes with the code, so it is rendered once.
    """
    url = app.openapi_url
    if url is None:
        return
    app.router.routes = [
        route for route in app.router.routes if getattr(route, "path", None) != url
    ]
    rendered: list[bytes] = []

    async def openapi(request: Request) -> Response:
        if not rendered:
            rendered.append(orjson.dumps(app.openapi()))
        return bytes_response(request, rendered[0])

    app.add_route(url, openapi, include_in_schema=False)

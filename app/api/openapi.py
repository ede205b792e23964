"""The OpenAPI document: links (how a client, or a stateful tester such as schemathesis, goes from
a response to the next call: a list to its items, a drug to its sections), and its own route."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from starlette.responses import Response

from app.api.responses import bytes_response


def link(operation_id: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": parameters}


def ok_with_links(**links: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """The `responses` entry adding links to the 200 response, to merge with problem_responses."""
    return {200: {"links": links}}


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

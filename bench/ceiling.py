"""The ceiling: bare Starlette answering each benchmarked URL with bytes captured from the service.

It does no work per request beyond routing and sending, so its throughput is what this machine,
uvicorn and Starlette allow; the service is measured as a ratio to it. Served by uvicorn with the
same options as `monograph serve`: `uvicorn bench.ceiling:create_app --factory`, reading the
captured responses from the file named by BENCH_CEILING_FILE.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.server import send_without_delay

CEILING_FILE_ENV = "BENCH_CEILING_FILE"


@dataclass(frozen=True)
class Canned:
    """One captured response: its body and the headers the application (not uvicorn) set."""

    body: bytes
    headers: dict[str, str]


def make_app(canned: dict[str, Canned]) -> Starlette:
    """A Starlette app serving each URL (path and query) of `canned` with its bytes."""
    by_path: dict[str, dict[bytes, Canned]] = {}
    for url, response in canned.items():
        parts = urlsplit(url)
        by_path.setdefault(parts.path, {})[parts.query.encode()] = response
    return Starlette(routes=[Route(path, _endpoint(queries)) for path, queries in by_path.items()])


def _endpoint(queries: dict[bytes, Canned]):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        found = queries.get(request.scope["query_string"])
        if found is None:
            return Response(status_code=404)
        return Response(found.body, headers=found.headers)

    return endpoint


def save(canned: dict[str, Canned], path: Path) -> None:
    path.write_text(
        json.dumps(
            {
                url: {"body": base64.b64encode(c.body).decode(), "headers": c.headers}
                for url, c in canned.items()
            }
        )
    )


def load(path: Path) -> dict[str, Canned]:
    raw = json.loads(path.read_text())
    return {url: Canned(base64.b64decode(c["body"]), c["headers"]) for url, c in raw.items()}


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with TCP_NODELAY on every connection, as the service's has
    (app.server): with several workers asyncio leaves it off, and the ceiling would measure
    Nagle's algorithm waiting for delayed ACKs (40 ms a response), not Starlette."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        send_without_delay(transport)


def create_app() -> Starlette:
    return make_app(load(Path(os.environ[CEILING_FILE_ENV])))

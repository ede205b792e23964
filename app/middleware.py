"""One pure ASGI middleware for what every response needs: request id, access log, security
headers, a bound on URL length, and a problem+json 500 for anything that escaped the handlers.

Pure ASGI (not BaseHTTPMiddleware): it only wraps `send`, so a request costs a few dict lookups,
one header list extension and one log line.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

import orjson
from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_body, on_unexpected
from app.logs import ACCESS_LOGGER
from app.metrics import DATABASE_ERRORS, RequestMetrics

access_logger = logging.getLogger(ACCESS_LOGGER)

MAX_PATH_BYTES = 2048
MAX_QUERY_BYTES = 2048
# The access log keeps this much of a path and of a query string, and says how much it cut.
LOG_MAX_CHARS = 200
# A client's request id is echoed only if it is short and made of safe characters: it ends up in
# logs and headers, so it must not carry spaces, quotes, control characters or megabytes.
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

# For JSON nothing may load, run or frame.
JSON_CSP = b"default-src 'none'; frame-ancestors 'none'"
# Swagger UI and ReDoc, served from /static-offline-docs, start from an inline script; ReDoc
# injects styles, draws images from data: URLs and runs a blob: worker.
DOCS_CSP = (
    b"default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    b"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
DOCS_PREFIXES = ("/docs", "/redoc", "/openapi.json", "/static-offline-docs")
_COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
_JSON_HEADERS = [*_COMMON_HEADERS, (b"content-security-policy", JSON_CSP)]
_DOCS_HEADERS = [*_COMMON_HEADERS, (b"content-security-policy", DOCS_CSP)]


class RequestContextMiddleware:
    """Request id in and out, security headers, one JSON access-log line, URL bounds, 500s."""

    def __init__(
        self, app: ASGIApp, vary_origin: bool = False, metrics: RequestMetrics | None = None
    ) -> None:
        self.app = app
        self.vary_origin = vary_origin
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        added = [
            *(_DOCS_HEADERS if scope["path"] in DOCS_PATHS else _JSON_HEADERS),
            (b"x-request-id", request_id.encode()),
        ]
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = message.setdefault("headers", [])
                _tag_compressed_etag(headers)
                if self.vary_origin:
                    _add_vary_origin(headers)
                headers.extend(added)
            await send(message)

        try:
            if len(scope["path"]) > MAX_PATH_BYTES:
                detail = f"The path may have at most {MAX_PATH_BYTES} characters."
                await _send_problem(send_with_headers, scope, 414, "URI Too Long", detail)
            elif len(scope["query_string"]) > MAX_QUERY_BYTES:
                # A query parameter problem, reported like the others: a 422.
                detail = f"The query string may have at most {MAX_QUERY_BYTES} bytes."
                await _send_problem(send_with_headers, scope, 422, "Invalid Request", detail)
            else:
                await self.app(scope, receive, send_with_headers)
        except Exception as error:
            if isinstance(error, SQLAlchemyError):
                DATABASE_ERRORS.labels("request").inc()
            if response_started:
                raise
            # The one handler of unexpected errors, run here so the 500 gets the headers above.
            response = await on_unexpected(Request(scope), error)
            await response(scope, receive, send_with_headers)
        finally:
            if self.metrics is not None:
                self.metrics.observe(scope, status, time.perf_counter() - started)
            if access_logger.isEnabledFor(logging.INFO):
                _log_access(_access_line(scope, status, started, request_id))


class DocsGZipMiddleware(GZipMiddleware):
    """Gzip for the documentation only: the OpenAPI document, Swagger UI, ReDoc and their assets.

    The API's own JSON is compressed once per representation, with its own ETag, by
    app/api/responses.py; leaving it out of here spares the hot path a second wrapper.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(DOCS_PREFIXES):
            await super().__call__(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _request_id(scope: Scope) -> str:
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"x-request-id" and _SAFE_REQUEST_ID.fullmatch(value):
            return value.decode()
    return next(_request_ids)


def _new_request_ids() -> Iterator[str]:
    """Unique ids without a system call each: a random prefix per process, then a counter.

    Request ids need to be unique, not secret; secrets.token_hex asked the kernel for randomness
    on every request (py-spy: 3 % of an uncached request).
    """
    prefix = secrets.token_hex(8)
    return (f"{prefix}{n:016x}" for n in itertools.count())


_request_ids = _new_request_ids()


async def _send_problem(send: Send, scope: Scope, status: int, title: str, detail: str) -> None:
    slug = {414: "uri-too-long", 422: "invalid-request"}.get(status, "internal")
    extra = {"errors": [{"location": "query", "message": detail}]} if status == 422 else {}
    status, media_type, body = error_body(scope["path"], status, title, detail, slug, **extra)
    headers = [
        (b"content-type", media_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _tag_compressed_etag(headers: list[tuple[bytes, bytes]]) -> None:
    """A body GZipMiddleware compressed is another representation: give it its own strong ETag.

    The API's JSON arrives already tagged (app/api/responses.py); this catches the rest, such as
    the static docs assets.
    """
    etag_index = None
    gzipped = False
    for index, (name, value) in enumerate(headers):
        lowered = name.lower()
        if lowered == b"etag":
            etag_index = index
        elif lowered == b"content-encoding":
            gzipped = value == b"gzip"
    if etag_index is not None and gzipped:
        name, value = headers[etag_index]
        if value.endswith(b'"') and not value.endswith(b'-gzip"'):
            headers[etag_index] = (name, value[:-1] + b'-gzip"')


def _add_vary_origin(headers: list[tuple[bytes, bytes]]) -> None:
    # CORS answers depend on Origin; say so on every response, not only on requests with Origin.
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            if b"origin" not in value.lower():
                headers[index] = (name, value + b", Origin")
            return
    headers.append((b"vary", b"Origin"))


def _access_line(scope: Scope, status: int, started: float, request_id: str) -> str:
    line: dict[str, Any] = {
        "method": scope["method"],
        "path": _clip(scope["path"]),
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "request_id": request_id,
    }
    if scope["query_string"]:
        line["query"] = _clip(scope["query_string"].decode("latin-1"))
    return orjson.dumps(line).decode()


def _clip(text: str) -> str:
    """At most LOG_MAX_CHARS of a path or query: a 2 kB URL must not make a 2 kB log line."""
    if len(text) <= LOG_MAX_CHARS:
        return text
    return f"{text[:LOG_MAX_CHARS]}…(+{len(text) - LOG_MAX_CHARS} characters)"


def _log_access(line: str) -> None:
    # A record built directly skips Logger.info's search of the stack for the caller's file and
    # line, which the access log does not print: about a third of the cost of a log call.
    record = access_logger.makeRecord(
        access_logger.name, logging.INFO, __file__, 0, line, (), None, "access"
    )
    access_logger.handle(record)


class HeadMiddleware:
    """HEAD wherever GET is served (RFC 9110 §9.3.2): the GET's status and headers, ETag and
    Content-Length included, without its body. FastAPI routes answer GET only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)

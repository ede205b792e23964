"""JSON responses with strong ETags (If-None-Match gets a 304 and no body), and their cache.

Every representation with a strong ETag and no Vary header is a function of the dataset version,
the path and the query alone, so each worker keeps the bytes it sent, per snapshot, and replays
them: a repeated GET skips routing, dependencies, validation and serialisation. A new dataset
version brings a new snapshot with an empty cache, so nothing stale is ever replayed.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import get_settings

# Bounds of one worker's cache: a few hundred representations of a few kB each in practice; the
# byte budget keeps many distinct queries from growing a worker past its memory target.
CACHE_MAX_ENTRIES = 1024
CACHE_MAX_BYTES = 16 * 1024 * 1024
# RFC 9110 §15.4.5: the headers a 304 carries when the 200 would have them.
NOT_MODIFIED_HEADERS = {b"cache-control", b"content-location", b"etag", b"expires", b"vary"}


def etag_for(body: bytes) -> str:
    # The body embeds everything the representation depends on (the dataset version changes it).
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def json_response(request: Request, payload: Any) -> Response:
    return bytes_response(request, orjson.dumps(payload))


def bytes_response(request: Request, body: bytes, etag: str | None = None) -> Response:
    etag = etag or etag_for(body)
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={get_settings().cache_max_age}"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


@dataclass(frozen=True)
class CachedResponse:
    """A 200 as the application sent it: raw headers (uvicorn adds date and server) and body."""

    etag: str
    headers: tuple[tuple[bytes, bytes], ...]
    not_modified_headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


class ResponseCache:
    """A bounded LRU of responses by (path, normalised query), held by one catalog snapshot."""

    def __init__(self, max_entries: int = CACHE_MAX_ENTRIES, max_bytes: int = CACHE_MAX_BYTES):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[tuple[str, bytes], CachedResponse] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: tuple[str, bytes]) -> CachedResponse | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: tuple[str, bytes], response: CachedResponse) -> None:
        if len(response.body) > self.max_bytes:
            return
        previous = self._entries.pop(key, None)
        if previous is not None:
            self.size -= len(previous.body)
        self._entries[key] = response
        self.size += len(response.body)
        while len(self._entries) > self.max_entries or self.size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.size -= len(evicted.body)


def cache_key(scope: Scope) -> tuple[str, bytes]:
    """Path and query; parameters sorted by name (stable, so a repeated name keeps its order)."""
    query: bytes = scope["query_string"]
    if b"&" in query:
        pairs: list[bytes] = sorted(query.split(b"&"), key=_parameter_name)
        query = b"&".join(pairs)
    return scope["path"], query


def _parameter_name(pair: bytes) -> bytes:
    return pair.partition(b"=")[0]


class ResponseCacheMiddleware:
    """Replays cached GET responses of the current snapshot; caches each cacheable 200 it sees.

    It must be the innermost middleware (app.user_middleware's last entry): every middleware
    outside it still runs on each request, so request ids, logs and headers stay per request.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        store = getattr(scope["app"].state, "store", None)
        catalog = store.catalog if store is not None else None
        if catalog is None:
            await self.app(scope, receive, send)
            return
        key = cache_key(scope)
        cached = catalog.responses.get(key)
        if cached is not None:
            await _replay(cached, scope, send)
            return
        await self.app(scope, receive, _recorder(send, catalog.responses, key))


async def _replay(cached: CachedResponse, scope: Scope, send: Send) -> None:
    if_none_match = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
    if if_none_match is not None and _matches(if_none_match.decode("latin-1"), cached.etag):
        headers, status, body = cached.not_modified_headers, 304, b""
    else:
        headers, status, body = cached.headers, 200, cached.body
    # A fresh list each time: an outer middleware may append to the headers it is sent.
    await send({"type": "http.response.start", "status": status, "headers": list(headers)})
    await send({"type": "http.response.body", "body": body})


def _recorder(send: Send, cache: ResponseCache, key: tuple[str, bytes]) -> Send:
    """A `send` that passes each message on and caches a complete, cacheable 200."""
    start: Message | None = None

    async def record(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body" and start is not None:
            cached = _cacheable(start, message)
            if cached is not None:
                cache.put(key, cached)
        await send(message)

    return record


def _cacheable(start: Message, body: Message) -> CachedResponse | None:
    """The response to keep: a 200 with a strong ETag, no Vary nor cookie, in one body message."""
    if start["status"] != 200 or body.get("more_body", False):
        return None
    headers = tuple((bytes(k).lower(), bytes(v)) for k, v in start.get("headers", ()))
    names = {name for name, _ in headers}
    etag = next((v.decode("latin-1") for k, v in headers if k == b"etag"), None)
    if etag is None or etag.startswith("W/") or names & {b"vary", b"set-cookie"}:
        return None
    return CachedResponse(
        etag=etag,
        headers=headers,
        not_modified_headers=tuple(h for h in headers if h[0] in NOT_MODIFIED_HEADERS),
        body=bytes(body.get("body", b"")),
    )

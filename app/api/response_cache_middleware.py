"""The middleware that replays cached GET responses and records the cacheable 200s it admits.

It owns the response cache (app/api/response_cache.py), handed to it by create_app.
"""

from __future__ import annotations

import gzip
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.response_cache import (
    CachedResponse,
    ResponseCache,
    SnapshotResponseCache,
    cache_key,
    not_modified,
    with_etag_and_length,
)
from app.api.responses import accepts_gzip, conditional_headers, etag_matches, identity_tag
from app.metrics import CACHE_HITS, CACHE_MISSES

# The Vary values of a cacheable response: the cache answers Accept-Encoding itself, and keys on
# Accept (cache_key).
_CACHEABLE_VARY = frozenset({b"accept-encoding", b"accept, accept-encoding"})


class ResponseCacheMiddleware:
    """Replays cached GET responses of the current snapshot; caches the cacheable 200s whose key
    missed before (ResponseCache.doorkeeper).

    It must be the innermost middleware (app.user_middleware's last entry): every middleware
    outside it still runs on each request, so request ids, logs and headers stay per request.
    """

    def __init__(self, app: ASGIApp, responses: SnapshotResponseCache):
        self.app = app
        self.responses = responses

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        cache = self.responses.current()
        if cache is None:
            await self.app(scope, receive, send)
            return
        key = cache_key(scope)
        cached = cache.get(key)
        if cached is not None:
            CACHE_HITS.inc()
            scope["route"] = cached.route
            await _replay(cached, scope, send, cache, key)
            return
        CACHE_MISSES.inc()
        if cache.doorkeeper.missed_before(key):
            send = _recorder(scope, send, cache, key)
        await self.app(scope, receive, send)


async def _replay(
    cached: CachedResponse, scope: Scope, send: Send, cache: ResponseCache, key: tuple[str, bytes]
) -> None:
    accept_encoding, if_none_match = conditional_headers(scope["headers"])
    headers, not_modified_headers, body = cached.headers, cached.not_modified_headers, cached.body
    if cached.compressible and accepts_gzip(accept_encoding):
        first = cached.gzip is None
        variant = cached.gzipped()
        if first:
            cache.put(key, cached)  # counts the new variant against the cache's byte budget
        headers, not_modified_headers, body = (
            variant.headers,
            variant.not_modified_headers,
            variant.body,
        )
    status = 200
    if etag_matches(if_none_match, cached.etag):
        status, body, headers = 304, b"", not_modified_headers
    # A fresh list each time: an outer middleware may append to the headers it is sent.
    await send({"type": "http.response.start", "status": status, "headers": list(headers)})
    await send({"type": "http.response.body", "body": body})


def _recorder(scope: Scope, send: Send, cache: ResponseCache, key: tuple[str, bytes]) -> Send:
    """A `send` that passes each message on and caches a complete, cacheable 200."""
    start: Message | None = None

    async def record(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            # A copy: outer middleware add per-request headers (the request id) to the original.
            start = {**message, "headers": list(message.get("headers", ()))}
        elif message["type"] == "http.response.body" and start is not None:
            if message.get("more_body", False):
                start = None  # a streamed body (the export): its last message is not all of it
            else:
                cached = _cacheable(start, message, scope.get("route"))
                if cached is not None:
                    cache.put(key, cached)
        await send(message)

    return record


def _cacheable(start: Message, body_message: Message, route: Any) -> CachedResponse | None:
    """The response to keep: a public 200 with a strong ETag, no cookie, in one body message,
    varying on nothing but Accept-Encoding (which the cache itself answers) and Accept (which it
    keys on). One pass over the headers: this runs for every response the cache has not seen."""
    if start["status"] != 200 or body_message.get("more_body", False):
        return None
    headers = [(bytes(k).lower(), bytes(v)) for k, v in start.get("headers", ())]
    etag = encoding = None
    vary = b"accept-encoding"
    public = False
    for name, value in headers:
        if name == b"etag":
            etag = value
        elif name == b"vary":
            vary = value.lower()
        elif name == b"cache-control":
            public = value.startswith(b"public")
        elif name == b"content-encoding":
            encoding = value
        elif name == b"set-cookie":
            return None
    if not etag or etag.startswith(b"W/") or vary not in _CACHEABLE_VARY or not public:
        return None
    body = bytes(body_message.get("body", b""))
    identity_etag = etag.decode("latin-1")
    if encoding == b"gzip":
        # Keep the identity form; the gzip one is rebuilt from it when a client asks.
        body = gzip.decompress(body)
        identity_etag = identity_tag(identity_etag)
        headers = [(k, v) for k, v in headers if k != b"content-encoding"]
    elif encoding is not None:
        return None
    identity = with_etag_and_length(headers, identity_etag, len(body))
    return CachedResponse(identity_etag, identity, not_modified(identity), body, route)

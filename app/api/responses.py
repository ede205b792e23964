"""JSON responses with strong ETags, gzip when accepted, 304 for a matching If-None-Match, and
their cache.

Every GET of the API answers through `bytes_response`. The body embeds everything the
representation depends on (the dataset version changes it), so a hash of the body is a strong
validator. A gzip-compressed body is another representation of the same resource, so it gets
another strong ETag: the identity one with a `-gzip` suffix. If-None-Match matches either form,
since both name the same content, and the 304 carries the ETag the 200 would have carried.

Every public representation with a strong ETag is a function of the dataset version, the path,
the query and (for gzip) Accept-Encoding alone, so each worker keeps the bytes it sent, per
snapshot, and replays them: a repeated GET skips routing, dependencies, validation and
serialisation. The cache keeps the identity encoding, adds the gzip one when a client first asks
for it, and picks per request. A new dataset
version brings a new snapshot with an empty cache, so nothing stale is ever replayed.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import orjson
from fastapi import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics import CACHE_HITS, CACHE_MISSES
from app.settings import Settings

# Smaller bodies gain nothing from compression; DocsGZipMiddleware uses the same floor.
GZIP_MINIMUM_SIZE = 1000
GZIP_SUFFIX = "-gzip"
# Compressed bodies, by identity ETag: the data changes only with the dataset version, so the
# same few representations are compressed once, not on every request. Cleared when full.
_GZIP_CACHE: dict[str, bytes] = {}
_GZIP_CACHE_LIMIT = 2048
# Bounds of one worker's cache: a few hundred representations of a few kB each in practice; the
# byte budget keeps many distinct queries from growing a worker past its memory target.
CACHE_MAX_ENTRIES = 1024
CACHE_MAX_BYTES = 16 * 1024 * 1024
# RFC 9110 §15.4.5: the headers a 304 carries when the 200 would have them.
NOT_MODIFIED_HEADERS = {b"cache-control", b"content-location", b"etag", b"expires", b"vary"}


def etag_for(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def gzip_etag(etag: str) -> str:
    return etag[:-1] + GZIP_SUFFIX + '"'


def json_response(request: Request, payload: Any, cache_control: str | None = None) -> Response:
    return bytes_response(request, orjson.dumps(payload), cache_control=cache_control)


def bytes_response(
    request: Request, body: bytes, etag: str | None = None, cache_control: str | None = None
) -> Response:
    """A 200 (gzip-compressed if the client accepts it and it is worth it) or a 304."""
    etag = etag or etag_for(body)
    compress = len(body) >= GZIP_MINIMUM_SIZE and accepts_gzip(
        request.headers.get("accept-encoding")
    )
    headers = {
        "ETag": gzip_etag(etag) if compress else etag,
        "Cache-Control": cache_control or f"public, max-age={_max_age(request)}",
        "Vary": "Accept-Encoding",
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if compress:
        headers["Content-Encoding"] = "gzip"
        body = _gzipped(etag, body)
    return Response(body, media_type="application/json", headers=headers)


def _max_age(request: Request) -> int:
    settings: Settings = request.app.state.settings
    return settings.cache_max_age


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True if Accept-Encoding lists gzip with a non-zero quality (RFC 9110 section 12.5.3)."""
    if not accept_encoding:
        return False
    for coding in accept_encoding.lower().split(","):
        name, _, params = coding.partition(";")
        if name.strip() not in ("gzip", "x-gzip"):
            continue
        quality = params.strip().removeprefix("q=").strip()
        try:
            return not quality or float(quality) > 0
        except ValueError:
            return False
    return False


def _gzipped(etag: str, body: bytes) -> bytes:
    compressed = _GZIP_CACHE.get(etag)
    if compressed is None:
        if len(_GZIP_CACHE) >= _GZIP_CACHE_LIMIT:
            _GZIP_CACHE.clear()
        # mtime=0: the same body always compresses to the same bytes.
        compressed = _GZIP_CACHE[etag] = gzip.compress(body, compresslevel=6, mtime=0)
    return compressed


def _identity_tag(tag: str) -> str:
    tag = tag.strip().removeprefix("W/")
    if tag.endswith(GZIP_SUFFIX + '"'):
        return tag[: -len(GZIP_SUFFIX) - 1] + '"'
    return tag


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison, as RFC 9110 prescribes for If-None-Match; either encoding matches."""
    if not if_none_match:
        return False
    wanted = _identity_tag(etag)
    return any(
        tag.strip() == "*" or _identity_tag(tag) == wanted for tag in if_none_match.split(",")
    )


@dataclass(frozen=True)
class GzipVariant:
    """The gzip-compressed form of a cached response, with its own ETag in its headers."""

    headers: tuple[tuple[bytes, bytes], ...]
    not_modified_headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


@dataclass
class CachedResponse:
    """A 200 as the application sent it without compression (uvicorn adds date and server), and,
    for a body worth compressing, its gzip variant, made when a client first asks for gzip: most
    clients of a JSON API never do, and compressing every cached body cost a tenth of a miss."""

    etag: str
    headers: tuple[tuple[bytes, bytes], ...]
    not_modified_headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    # The route that answered (its template labels the request's metrics on a replay too).
    route: Any = None
    gzip: GzipVariant | None = None

    @property
    def compressible(self) -> bool:
        return len(self.body) >= GZIP_MINIMUM_SIZE

    @property
    def size(self) -> int:
        return len(self.body) + (len(self.gzip.body) if self.gzip is not None else 0)

    def gzipped(self) -> GzipVariant:
        """The gzip variant, compressed on first use and kept with the entry."""
        if self.gzip is None:
            packed = _gzipped(self.etag, self.body)
            headers = (
                *_with_etag_and_length(self.headers, gzip_etag(self.etag), len(packed)),
                (b"content-encoding", b"gzip"),
            )
            self.gzip = GzipVariant(headers, _not_modified(headers), packed)
        return self.gzip


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
        if response.size > self.max_bytes:
            return
        previous = self._entries.pop(key, None)
        if previous is not None:
            self.size -= previous.size
        self._entries[key] = response
        self.size += response.size
        while len(self._entries) > self.max_entries or self.size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.size -= evicted.size


def cache_key(scope: Scope) -> tuple[str, bytes]:
    """Path and query; parameters sorted by name (stable, so a repeated name keeps its order).

    A representation may depend on Accept (GET /v1/drugs/{drug} answers JSON-LD when asked), so
    an Accept other than the ones every route answers with JSON is part of the key."""
    query: bytes = scope["query_string"]
    if b"&" in query:
        pairs: list[bytes] = sorted(query.split(b"&"), key=_parameter_name)
        query = b"&".join(pairs)
    for name, value in scope["headers"]:
        if name == b"accept" and value not in _JSON_ACCEPTS:
            query += b"\x00accept=" + value
    return scope["path"], query


_JSON_ACCEPTS = frozenset({b"", b"*/*", b"application/json"})
# The Vary values of a cacheable response: the cache answers Accept-Encoding itself, and keys on
# Accept (cache_key).
_CACHEABLE_VARY = frozenset({b"accept-encoding", b"accept, accept-encoding"})


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
            CACHE_HITS.inc()
            scope["route"] = cached.route
            await _replay(cached, scope, send, catalog.responses, key)
            return
        CACHE_MISSES.inc()
        await self.app(scope, receive, _recorder(scope, send, catalog.responses, key))


async def _replay(
    cached: CachedResponse, scope: Scope, send: Send, cache: ResponseCache, key: tuple[str, bytes]
) -> None:
    if_none_match = accept_encoding = None
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            if_none_match = value.decode("latin-1")
        elif name == b"accept-encoding":
            accept_encoding = value.decode("latin-1")
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
    if _matches(if_none_match, cached.etag):
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
                cached = _cacheable(start, message)
                if cached is not None:
                    cache.put(key, replace(cached, route=scope.get("route")))
        await send(message)

    return record


def _cacheable(start: Message, body_message: Message) -> CachedResponse | None:
    """The response to keep: a public 200 with a strong ETag, no cookie, in one body message,
    varying on nothing but Accept-Encoding (which the cache itself answers) and Accept (which it
    keys on)."""
    if start["status"] != 200 or body_message.get("more_body", False):
        return None
    headers = [(bytes(k).lower(), bytes(v)) for k, v in start.get("headers", ())]
    found = dict(headers)
    etag = found.get(b"etag", b"").decode("latin-1")
    if (
        not etag
        or etag.startswith("W/")
        or b"set-cookie" in found
        or found.get(b"vary", b"accept-encoding").lower() not in _CACHEABLE_VARY
        or not found.get(b"cache-control", b"").startswith(b"public")
    ):
        return None
    body = bytes(body_message.get("body", b""))
    if found.get(b"content-encoding") == b"gzip":
        # Keep the identity form; the gzip one is rebuilt from it below.
        body = gzip.decompress(body)
        etag = _identity_tag(etag)
        headers = [(k, v) for k, v in headers if k != b"content-encoding"]
    elif b"content-encoding" in found:
        return None
    identity = _with_etag_and_length(headers, etag, len(body))
    return CachedResponse(etag, identity, _not_modified(identity), body)


def _with_etag_and_length(
    headers: Iterable[tuple[bytes, bytes]], etag: str, length: int
) -> tuple[tuple[bytes, bytes], ...]:
    replaced = {b"etag": etag.encode("latin-1"), b"content-length": str(length).encode()}
    return tuple((k, replaced.get(k, v)) for k, v in headers)


def _not_modified(headers: tuple[tuple[bytes, bytes], ...]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple(h for h in headers if h[0] in NOT_MODIFIED_HEADERS)

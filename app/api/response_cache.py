"""The response cache: the bytes each worker sent, per dataset version, to replay them.

Every public representation with a strong ETag is a function of the dataset version, the path,
the query and (for gzip) Accept-Encoding alone, so each worker keeps the bytes it sent, per
snapshot, and replays them (app/api/response_cache_middleware.py): a repeated GET skips routing,
dependencies, validation and serialisation. The cache keeps the identity encoding, adds the gzip
one when a client first asks for it, and picks per request. A new dataset version brings a new,
empty cache, so nothing stale is ever replayed.

A response is kept only when its key is asked for a second time while the cache would still hold
it (`Doorkeeper`): most distinct URLs of real traffic are asked for once, and keeping each of
those made an uncached search in the server a seventh slower (docs/performance.md), for a replay
that never came.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.types import Scope

from app.api.responses import (
    GZIP_MINIMUM_SIZE,
    NOT_MODIFIED_HEADERS,
    gzip_compressed,
    gzip_etag,
)

# Bounds of one worker's cache: a few hundred representations of a few kB each in practice; the
# byte budget keeps many distinct queries from growing a worker past its memory target.
CACHE_MAX_ENTRIES = 1024
CACHE_MAX_BYTES = 16 * 1024 * 1024


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
            packed = gzip_compressed(self.etag, self.body)
            headers = (
                *with_etag_and_length(self.headers, gzip_etag(self.etag), len(packed)),
                (b"content-encoding", b"gzip"),
            )
            self.gzip = GzipVariant(headers, not_modified(headers), packed)
        return self.gzip


class Doorkeeper:
    """Which keys missed the cache lately: the last `window` to `2 * window` distinct ones.

    The cache admits a response when its key missed before within that window (the second
    request for a URL is cached, the third replayed), the "doorkeeper" of TinyLFU's admission
    policy and what nginx's `proxy_cache_min_uses 2` does. A key asked for once is never kept, and
    one asked for again only after more distinct misses than the cache holds entries would have
    been evicted before its replay anyway. It holds the keys' hashes, not the keys: a few
    thousand integers, whatever the clients send (a collision only caches a response).
    """

    def __init__(self, window: int):
        self.window = window
        self._recent: set[int] = set()
        self._older: set[int] = set()

    def missed_before(self, key: tuple[str, bytes]) -> bool:
        """True when `key` missed within the window; either way, this miss is remembered."""
        hashed = hash(key)
        if hashed in self._recent or hashed in self._older:
            return True
        if len(self._recent) >= self.window:
            self._older, self._recent = self._recent, set()
        self._recent.add(hashed)
        return False

    def __len__(self) -> int:
        return len(self._recent) + len(self._older)


class ResponseCache:
    """A bounded LRU of responses by (path, normalised query), for one dataset version, with the
    doorkeeper that decides which responses it keeps."""

    def __init__(self, max_entries: int = CACHE_MAX_ENTRIES, max_bytes: int = CACHE_MAX_BYTES):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[tuple[str, bytes], CachedResponse] = OrderedDict()
        self.doorkeeper = Doorkeeper(max_entries)

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


def _parameter_name(pair: bytes) -> bytes:
    return pair.partition(b"=")[0]


class SnapshotResponseCache:
    """The response cache of the dataset version being served: a new, empty one with each version.

    `served_version` tells which version the worker serves now (None before the first is loaded).
    A request keeps the cache it started with, so a response built while the dataset is swapped
    lands in the old version's cache, which nothing reads any more.
    """

    def __init__(self, served_version: Callable[[], str | None]):
        self.served_version = served_version
        self._version: str | None = None
        self._cache = ResponseCache()

    def current(self) -> ResponseCache | None:
        """The cache of the version served now, or None while no dataset is served."""
        version = self.served_version()
        if version is None:
            return None
        if version != self._version:
            self._version, self._cache = version, ResponseCache()
        return self._cache


def with_etag_and_length(
    headers: Iterable[tuple[bytes, bytes]], etag: str, length: int
) -> tuple[tuple[bytes, bytes], ...]:
    """The headers with this ETag and Content-Length (an encoding of the body has its own)."""
    replaced = {b"etag": etag.encode("latin-1"), b"content-length": str(length).encode()}
    return tuple((k, replaced.get(k, v)) for k, v in headers)


def not_modified(headers: tuple[tuple[bytes, bytes], ...]) -> tuple[tuple[bytes, bytes], ...]:
    """The headers a 304 carries of those of its 200 (RFC 9110 section 15.4.5)."""
    return tuple(h for h in headers if h[0] in NOT_MODIFIED_HEADERS)

"""JSON responses with strong ETags, gzip when accepted, 304 for a matching If-None-Match.

Every GET of the API answers through `bytes_response`. The body embeds everything the
representation depends on (the dataset version changes it), so a hash of the body is a strong
validator. A gzip-compressed body is another representation of the same resource, so it gets
another strong ETag: the identity one with a `-gzip` suffix. If-None-Match matches either form,
since both name the same content, and the 304 carries the ETag the 200 would have carried.

Their cache is app/api/response_cache.py, filled and replayed by
app/api/response_cache_middleware.py.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from typing import Any

import orjson
from fastapi import Request
from starlette.responses import Response

from app.settings import Settings

# Smaller bodies gain nothing from compression; DocsGZipMiddleware uses the same floor.
GZIP_MINIMUM_SIZE = 1000
GZIP_SUFFIX = "-gzip"
# Compressed bodies, by identity ETag: the data changes only with the dataset version, so the
# same few representations are compressed once, not on every request. Cleared when full.
_GZIP_CACHE: dict[str, bytes] = {}
_GZIP_CACHE_LIMIT = 2048
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
    accept_encoding, if_none_match = conditional_headers(request.scope["headers"])
    compress = len(body) >= GZIP_MINIMUM_SIZE and accepts_gzip(accept_encoding)
    headers = [
        (b"etag", (gzip_etag(etag) if compress else etag).encode("latin-1")),
        (
            b"cache-control",
            cache_control.encode("latin-1") if cache_control else _public_cache_control(request),
        ),
        (b"vary", b"Accept-Encoding"),
    ]
    if etag_matches(if_none_match, etag):
        return RawResponse(304, headers)
    if compress:
        headers.append((b"content-encoding", b"gzip"))
        body = gzip_compressed(etag, body)
    headers += [(b"content-length", str(len(body)).encode()), (b"content-type", JSON_MEDIA_TYPE)]
    return RawResponse(200, headers, body)


JSON_MEDIA_TYPE = b"application/json"


class RawResponse(Response):
    """A response of ready header bytes, as Starlette's `Response` would have encoded them (same
    names, values and order), without building and re-encoding a dictionary per request."""

    def __init__(self, status_code: int, raw_headers: list[tuple[bytes, bytes]], body: bytes = b""):
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = raw_headers


def conditional_headers(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    """Accept-Encoding and If-None-Match, in one pass over the request's headers (the first of
    each, as Starlette's `Request.headers` reads them)."""
    accept_encoding = if_none_match = None
    for name, value in headers:
        if name == b"accept-encoding" and accept_encoding is None:
            accept_encoding = value.decode("latin-1")
        elif name == b"if-none-match" and if_none_match is None:
            if_none_match = value.decode("latin-1")
    return accept_encoding, if_none_match


def _public_cache_control(request: Request) -> bytes:
    settings: Settings = request.scope["app"].state.settings
    return _public_for(settings.cache_max_age)


@functools.cache
def _public_for(max_age: int) -> bytes:
    return f"public, max-age={max_age}".encode("latin-1")


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


def gzip_compressed(etag: str, body: bytes) -> bytes:
    compressed = _GZIP_CACHE.get(etag)
    if compressed is None:
        if len(_GZIP_CACHE) >= _GZIP_CACHE_LIMIT:
            _GZIP_CACHE.clear()
        # mtime=0: the same body always compresses to the same bytes.
        compressed = _GZIP_CACHE[etag] = gzip.compress(body, compresslevel=6, mtime=0)
    return compressed


def identity_tag(tag: str) -> str:
    tag = tag.strip().removeprefix("W/")
    if tag.endswith(GZIP_SUFFIX + '"'):
        return tag[: -len(GZIP_SUFFIX) - 1] + '"'
    return tag


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison, as RFC 9110 prescribes for If-None-Match; either encoding matches."""
    if not if_none_match:
        return False
    wanted = identity_tag(etag)
    return any(
        tag.strip() == "*" or identity_tag(tag) == wanted for tag in if_none_match.split(",")
    )

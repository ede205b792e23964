"""JSON responses with strong ETags: If-None-Match gets a 304 and no body."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from fastapi import Request
from starlette.responses import Response

from app.settings import get_settings


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

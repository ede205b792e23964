"""HTTP details a client trips on: HEAD wherever GET is served, facets of a section without
filters, and an access log that stays short whatever the URL."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.middleware import LOG_MAX_CHARS, MAX_PATH_BYTES, MAX_QUERY_BYTES
from scripts.openapi_examples import example_requests

# Headers that differ between any two responses, whatever the method; and the framing of a
# streamed body, which a HEAD answer has none of (RFC 9110 9.3.2 lets it go).
PER_RESPONSE = {"date", "x-request-id", "transfer-encoding"}


@pytest.fixture(scope="module")
def get_urls(client: httpx.Client) -> list[str]:
    """A URL answering 200 for every GET operation of the document, and the docs pages."""
    document = client.get("/openapi.json").json()
    wanted = example_requests(document, client)
    operations = {r.operation for r in wanted}
    # One per operation: a response's other media types (JSON-LD, CSV) have their own examples.
    urls = [r.url for r in wanted if r.status == "200" and r.example_key == "200"]
    assert len(urls) == len(operations) >= 40
    return [*urls, "/openapi.json", "/docs", "/redoc"]


def comparable(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in PER_RESPONSE}


@pytest.mark.parametrize("accept_encoding", ["identity", "gzip"])
def test_head_answers_like_get_without_a_body_on_every_get_route(
    client: httpx.Client, get_urls: list[str], accept_encoding: str
) -> None:
    headers = {"Accept-Encoding": accept_encoding}
    for url in get_urls:
        got = client.get(url, headers=headers)
        head = client.head(url, headers=headers)
        assert head.status_code == got.status_code == 200, url
        assert head.content == b"", url
        assert comparable(head.headers) == comparable(got.headers), url
        # A body built whole states its length; a streamed one (the export) is sent chunked.
        streamed = got.headers.get("transfer-encoding") == "chunked"
        assert streamed or "content-length" in head.headers, url


def test_head_is_revalidated_like_get(client: httpx.Client) -> None:
    etag = client.head("/v1/drugs/baclofen").headers["etag"]
    again = client.head("/v1/drugs/baclofen", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag


def test_head_of_a_missing_resource_is_a_bodiless_404(client: httpx.Client) -> None:
    got = client.get("/v1/drugs/baclofen/indications/indications-none")
    head = client.head("/v1/drugs/baclofen/indications/indications-none")
    assert head.status_code == got.status_code == 404
    assert head.headers["content-type"] == "application/problem+json"
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.content == b""


def test_facets_of_a_section_without_filters_say_so(client: httpx.Client) -> None:
    response = client.get("/v1/drugs/baclofen/history/facets")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "history section has no filters" in detail
    assert "adverse-effects" in detail  # where facets are to be had
    assert client.get("/v1/drugs/baclofen/adverse-effects/facets").status_code == 200


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect()
    logger = logging.getLogger("app.access")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def logged(lines: list[str], request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5  # the line is written once the response is sent
    while time.monotonic() < deadline:
        mine = [json.loads(line) for line in lines if request_id in line]
        if mine:
            return dict(mine[0])
        time.sleep(0.01)
    raise AssertionError(f"no access-log line for {request_id}")


def test_the_access_log_cuts_long_paths_and_queries(
    client: httpx.Client, access_lines: list[str]
) -> None:
    path = "/v1/drugs/" + "a" * (MAX_PATH_BYTES - 20)
    client.get(path, headers={"X-Request-ID": "long-path-1"})
    entry = logged(access_lines, "long-path-1")
    cut = len(path) - LOG_MAX_CHARS
    assert entry["path"] == f"{path[:LOG_MAX_CHARS]}…(+{cut} characters)"

    query = "q=" + "b" * (MAX_QUERY_BYTES - 10)
    client.get(f"/v1/search?{query}", headers={"X-Request-ID": "long-query-1"})
    entry = logged(access_lines, "long-query-1")
    assert entry["path"] == "/v1/search"
    assert entry["query"].startswith(query[:LOG_MAX_CHARS])
    assert len(entry["query"]) < LOG_MAX_CHARS + 40


def test_the_access_log_keeps_short_queries_whole(
    client: httpx.Client, access_lines: list[str]
) -> None:
    client.get("/v1/search?q=pump&limit=1", headers={"X-Request-ID": "short-query-1"})
    assert logged(access_lines, "short-query-1")["query"] == "q=pump&limit=1"

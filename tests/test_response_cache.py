"""The response cache: a repeated GET replayed byte for byte, per dataset version; no errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi import FastAPI

from app.api.response_cache import (
    CachedResponse,
    Doorkeeper,
    ResponseCache,
    SnapshotResponseCache,
)
from app.api.responses import etag_for
from app.cli import migrate_and_seed
from app.settings import Settings
from tests.conftest import LiveServer

SECTION_FILE = "drugs/baclofen/withdrawal-symptoms.yaml"


def cache_of(server: LiveServer) -> ResponseCache:
    """The cache of the version being served, as the response cache middleware holds it."""
    app = server.server.config.app
    assert isinstance(app, FastAPI)
    # Handed by create_app to the ResponseCacheMiddleware, the only middleware taking it.
    (responses,) = [
        given
        for middleware in app.user_middleware
        if isinstance(given := middleware.kwargs.get("responses"), SnapshotResponseCache)
    ]
    cache = responses.current()
    assert cache is not None
    return cache


def is_cached(server: LiveServer, path: str, query: bytes = b"") -> bool:
    return (path, query) in cache_of(server)


def test_a_repeated_get_is_replayed_byte_for_byte(
    client: httpx.Client, live_server: LiveServer
) -> None:
    path = "/v1/drugs/baclofen/names"
    first = client.get(path, params={"limit": 3})
    assert first.status_code == 200, first.text
    assert not is_cached(live_server, path, b"limit=3")  # asked once: not kept (Doorkeeper)
    second = client.get(path, params={"limit": 3})
    assert is_cached(live_server, path, b"limit=3")  # asked again: kept
    third = client.get(path, params={"limit": 3})
    for again in (second, third):
        assert again.status_code == 200, again.text
        assert again.content == first.content
        for header in ("etag", "cache-control", "content-type", "content-length"):
            assert again.headers[header] == first.headers[header], header


def test_a_url_asked_for_once_is_not_kept(client: httpx.Client, live_server: LiveServer) -> None:
    path = "/v1/drugs/baclofen/withdrawal-symptoms"
    queries = [f"limit={limit}&offset=19" for limit in range(151, 161)]  # asked by no other test
    for query in queries:
        assert client.get(f"{path}?{query}").status_code == 200
    assert not any(is_cached(live_server, path, query.encode()) for query in queries)


def test_the_order_of_query_parameters_shares_one_entry(
    client: httpx.Client, live_server: LiveServer
) -> None:
    path = "/v1/drugs/baclofen/withdrawal-symptoms"
    one = client.get(f"{path}?limit=2&offset=1")
    other = client.get(f"{path}?offset=1&limit=2")
    assert one.status_code == other.status_code == 200, one.text
    assert one.content == other.content
    assert is_cached(live_server, path, b"limit=2&offset=1")
    assert not is_cached(live_server, path, b"offset=1&limit=2")


def test_a_cached_response_still_answers_if_none_match(
    client: httpx.Client, live_server: LiveServer
) -> None:
    path = "/v1/drugs/baclofen"
    etag = client.get(path).headers["etag"]
    assert client.get(path).headers["etag"] == etag
    assert is_cached(live_server, path)
    for tag in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        not_modified = client.get(path, headers={"If-None-Match": tag})
        assert not_modified.status_code == 304, tag
        assert not_modified.content == b""
        assert not_modified.headers["etag"] == etag
        assert "cache-control" in not_modified.headers
        assert "content-type" not in not_modified.headers
    changed = client.get(path, headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200
    assert changed.headers["etag"] == etag


@pytest.mark.parametrize(
    ("path", "query", "status"),
    [("/v1/drugs/aspirin", b"", 404), ("/v1/drugs/baclofen/names", b"limit=0", 422)],
)
def test_errors_are_never_cached(
    client: httpx.Client, live_server: LiveServer, path: str, query: bytes, status: int
) -> None:
    for _ in range(2):
        response = client.get(f"{path}?{query.decode()}")
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert not is_cached(live_server, path, query)


def test_a_streamed_export_is_never_kept(client: httpx.Client, live_server: LiveServer) -> None:
    for _ in range(3):
        assert client.get("/v1/export", params={"format": "csv"}).status_code == 200
    assert not is_cached(live_server, "/v1/export", b"format=csv")


def test_readiness_is_asked_each_time(client: httpx.Client, live_server: LiveServer) -> None:
    assert client.get("/readyz").status_code == 200
    assert not is_cached(live_server, "/readyz")


def test_a_new_dataset_version_is_served_at_once(
    fresh_database_url: str, seed_dir: Path, tmp_path: Path
) -> None:
    migrate_and_seed(fresh_database_url, seed_dir)
    settings = Settings(
        database_url=fresh_database_url, seed_dir=seed_dir, reload_check_seconds=0.05
    )
    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as http:
        path = "/v1/drugs/baclofen/withdrawal-symptoms"
        before = http.get(path)
        assert http.get(path).content == before.content  # the second answer is kept
        assert is_cached(server, path)
        assert http.get(path).content == before.content  # now from the cache
        edited = tmp_path / "seed"
        shutil.copytree(seed_dir, edited)
        facts = yaml.safe_load((edited / SECTION_FILE).read_text(encoding="utf-8"))
        facts[0]["label"] = "Relabelled for the cache test"
        (edited / SECTION_FILE).write_text(yaml.safe_dump(facts, sort_keys=False), "utf-8")
        migrate_and_seed(fresh_database_url, edited)
        deadline = time.monotonic() + 10
        after = http.get(path)
        while after.content == before.content and time.monotonic() < deadline:
            time.sleep(0.05)
            after = http.get(path)
        assert after.status_code == 200, after.text
        assert after.json()["items"][0]["label"] == "Relabelled for the cache test"
        assert after.headers["etag"] != before.headers["etag"]


def test_the_doorkeeper_admits_a_key_that_missed_before() -> None:
    doorkeeper = Doorkeeper(window=3)
    assert not doorkeeper.missed_before(("/a", b""))
    assert not doorkeeper.missed_before(("/a", b"limit=1"))  # the query is part of the key
    assert doorkeeper.missed_before(("/a", b""))
    assert doorkeeper.missed_before(("/a", b""))  # and again, as long as it is remembered


def test_the_doorkeeper_forgets_after_two_windows_of_other_misses() -> None:
    doorkeeper = Doorkeeper(window=3)
    doorkeeper.missed_before(("/a", b""))
    for other in range(3):  # /a is now in the older half
        doorkeeper.missed_before((f"/{other}", b""))
    assert doorkeeper.missed_before(("/a", b""))
    doorkeeper = Doorkeeper(window=3)
    doorkeeper.missed_before(("/a", b""))
    for other in range(6):  # two windows: /a is forgotten
        doorkeeper.missed_before((f"/{other}", b""))
    assert not doorkeeper.missed_before(("/a", b""))


def test_the_doorkeeper_holds_at_most_two_windows_of_keys() -> None:
    doorkeeper = Doorkeeper(window=100)
    for n in range(10_000):
        doorkeeper.missed_before(("/v1/search", f"q=word{n}".encode()))
    assert len(doorkeeper) <= 200


def entry(size: int) -> CachedResponse:
    return CachedResponse('"e"', (), (), b"x" * size)


def test_the_cache_evicts_the_least_recently_used_beyond_its_entry_bound() -> None:
    cache = ResponseCache(max_entries=2, max_bytes=1000)
    cache.put(("/a", b""), entry(1))
    cache.put(("/b", b""), entry(1))
    assert cache.get(("/a", b"")) is not None  # /a is now the most recently used
    cache.put(("/c", b""), entry(1))
    assert cache.get(("/b", b"")) is None
    assert cache.get(("/a", b"")) is not None
    assert cache.get(("/c", b"")) is not None


def test_the_cache_keeps_within_its_byte_budget() -> None:
    cache = ResponseCache(max_entries=100, max_bytes=10)
    cache.put(("/a", b""), entry(6))
    cache.put(("/b", b""), entry(6))
    assert (len(cache), cache.size) == (1, 6)
    assert cache.get(("/a", b"")) is None
    cache.put(("/huge", b""), entry(11))
    assert cache.get(("/huge", b"")) is None
    cache.put(("/b", b""), entry(2))
    assert (len(cache), cache.size) == (1, 2)


def etag_in_a_process_of_its_own(body: bytes, hash_seed: str) -> str:
    """etag_for(body) computed by another Python process, as another worker would."""
    script = (
        "import sys; from app.api.responses import etag_for;"
        " print(etag_for(sys.stdin.buffer.read()))"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        input=body,
        capture_output=True,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
        check=True,
    )
    return run.stdout.decode().strip()


def test_every_worker_gives_one_body_the_same_etag(client: httpx.Client) -> None:
    """Workers behind one load balancer must agree, or a client's If-None-Match misses on the
    next worker: the tag is a digest of the bytes, never of a per-process hash seed."""
    response = client.get("/v1/drugs/baclofen", headers={"Accept-Encoding": "identity"})
    served = response.headers["etag"]
    assert served == etag_for(response.content)
    assert {etag_in_a_process_of_its_own(response.content, seed) for seed in ("1", "2")} == {served}

"""GET /metrics: Prometheus's text format, parsed by prometheus_client's own parser, with counts
that match the requests made, summed over every worker of `monograph serve`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from app.settings import Settings
from tests.conftest import LiveServer
from tests.processes import ServiceProcess, free_port, service_env, shut_down_cleanly

Samples = dict[str, list[tuple[dict[str, str], float]]]


def scrape(url: str) -> Samples:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = defaultdict(list)
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[sample.name].append((sample.labels, sample.value))
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    return sum(
        value
        for found, value in samples.get(name, [])
        if all(found.get(k) == v for k, v in labels.items())
    )


def serve(database_url: str, seed_dir: Path, log: Path, **settings: str) -> ServiceProcess:
    port = free_port()
    env = service_env(
        MONOGRAPH_DATABASE_URL=database_url,
        MONOGRAPH_SEED_DIR=str(seed_dir),
        MONOGRAPH_PORT=str(port),
        **settings,
    )
    return ServiceProcess(["monograph", "serve"], env, port, log).start()


def test_two_workers_count_every_request_once(
    prepared_database: str, seed_dir: Path, tmp_path: Path
) -> None:
    server = serve(prepared_database, seed_dir, tmp_path / "serve.log", MONOGRAPH_WORKERS="2")
    try:
        server.wait_ready(workers=2)  # each reports the version it serves, checked below
        with httpx.Client(base_url=server.url, timeout=10) as http:
            for _ in range(7):
                assert http.get("/v1/drugs/baclofen").status_code == 200
            for query in ("withdrawal", "pump", "hallucination"):
                assert http.get("/v1/search", params={"q": query}).status_code == 200
            matches = [
                http.get("/v1/lookup", params={"name": name}).json().get("match_type", "none")
                for name in ("Lioresal", "lioresl", "zzzzzzzz")
            ]
            assert http.get("/v1/drugs/nothing-of-that-name").status_code == 404
            assert http.get("/no/such/path").status_code == 404
            version = http.get("/readyz").json()["dataset_version"]
        samples = scrape(server.url + "/metrics")
        again = scrape(server.url + "/metrics")
    finally:
        exit_code = server.terminate()
    assert shut_down_cleanly(server, exit_code), server.log

    requests = "monograph_http_requests_total"
    assert total(samples, requests, route="/v1/drugs/{drug}", status="200") == 7
    assert total(samples, requests, route="/v1/drugs/{drug}", status="404") == 1
    assert total(samples, requests, route="/v1/search", method="GET", status="200") == 3
    assert total(samples, requests, route="/v1/lookup", status="200") == 2
    assert total(samples, requests, route="/v1/lookup", status="404") == 1
    assert total(samples, requests, route="<unmatched>", status="404") == 1
    # The first scrape is counted by the second, once.
    assert total(samples, requests, route="/metrics") == 0
    assert total(again, requests, route="/metrics", method="GET", status="200") == 1

    latency = "monograph_http_request_duration_seconds_count"
    assert total(samples, latency, route="/v1/drugs/{drug}") == 8
    assert total(samples, latency) == total(samples, requests)

    # Every GET is looked up in the response cache, the scrape included (its request is not yet
    # counted while it builds the page); of the seven summaries at most four missed: a worker keeps
    # a response the second time it misses it (the Doorkeeper of app/api/response_cache.py).
    cache = "monograph_response_cache_lookups_total"
    assert total(samples, cache) == total(samples, requests, method="GET") + 1
    assert total(samples, cache, result="hit") >= 3

    assert total(samples, "monograph_search_queries_total") == 3
    assert matches == ["alias", "fuzzy", "none"]
    for match in matches:
        assert total(samples, "monograph_name_lookups_total", match=match) == 1

    # Each worker process reports the dataset version it serves.
    serving = [labels for labels, value in samples["monograph_dataset_info"] if value == 1]
    assert {labels["version"] for labels in serving} == {version}
    assert len({labels["pid"] for labels in serving}) == 2
    assert total(samples, "monograph_database_errors_total") == 0


def test_metrics_can_move_to_a_port_of_their_own(
    prepared_database: str, seed_dir: Path, tmp_path: Path
) -> None:
    metrics_port = free_port()
    log = tmp_path / "serve.log"
    server = serve(prepared_database, seed_dir, log, MONOGRAPH_METRICS_PORT=str(metrics_port))
    try:
        server.wait_ready()
        on_api_port = httpx.get(server.url + "/metrics", timeout=10).status_code
        samples = scrape(f"http://127.0.0.1:{metrics_port}/metrics")
    finally:
        server.terminate()
    assert on_api_port == 404
    assert total(samples, "monograph_http_requests_total", route="/readyz", status="200") >= 1
    assert total(samples, "monograph_http_requests_total", route="<unmatched>", status="404") == 1


def test_metrics_can_be_switched_off(prepared_database: str, seed_dir: Path) -> None:
    settings = Settings(database_url=prepared_database, seed_dir=seed_dir, metrics=False)
    with LiveServer(settings) as server:
        assert httpx.get(server.url + "/metrics", timeout=10).status_code == 404
        assert httpx.get(server.url + "/readyz", timeout=10).status_code == 200


def test_the_in_process_server_serves_metrics_too(client: httpx.Client) -> None:
    before = total(scrape(str(client.base_url) + "/metrics"), "monograph_http_requests_total")
    assert client.get("/v1/drugs/baclofen").status_code == 200
    after = scrape(str(client.base_url) + "/metrics")
    # Other tests may share this server, never concurrently: this request and the first scrape.
    assert total(after, "monograph_http_requests_total") == before + 2


# Run in a fresh interpreter: multi-process mode is chosen when prometheus_client is imported.
FORKED_COUNTS = """
import os, sys
from pathlib import Path
from app import metrics
from prometheus_client import CollectorRegistry, multiprocess
metrics.SEARCHES.inc()
child = os.fork()
if child == 0:
    metrics.SEARCHES.inc(2)
    os._exit(0)
os.waitpid(child, 0)
metrics.SEARCHES.inc(4)
files = sorted(p.name for p in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).iterdir())
print(files == sorted([f"counter_{os.getpid()}.db", f"counter_{child}.db"]))
registry = CollectorRegistry()
multiprocess.MultiProcessCollector(registry)
print(registry.get_sample_value("monograph_search_queries_total"))
"""


def test_a_forked_worker_counts_into_a_file_of_its_own(tmp_path: Path) -> None:
    """Each process writes its own file (their sum is the scrape): the process id that names
    the file is kept, not asked for on every update, and must still change with a fork."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", FORKED_COUNTS], env=env, capture_output=True, text=True, check=True
    )
    # The parent counts 1 + 4; the child, from zero in a file of its own, 2.
    assert done.stdout.split() == ["True", str(1.0 + 4 + 2)]

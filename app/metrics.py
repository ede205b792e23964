"""Prometheus metrics: requests, latency, response cache, search, lookup, dataset, database errors.

`monograph serve` runs every worker in multi-process mode: before uvicorn starts, and before
anything imports prometheus_client (which reads it once, on import), it points
PROMETHEUS_MULTIPROC_DIR at a fresh folder (app.cli), each worker writes its samples there and a
scrape of any worker sums them all. A process started another way (the tests'
in-process server) keeps prometheus_client's ordinary in-memory registry.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    make_asgi_app,
    multiprocess,
    start_http_server,
    values,
)
from prometheus_client.registry import Collector
from starlette.types import Receive, Scope, Send

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class _ProcessId:
    """This process's id, asked of the kernel once and again only in a forked child.

    In multi-process mode each update of a value checks the process id, to notice a fork (the
    child must write its own file), and os.getpid() is a system call: with four or five updates a
    request, those calls were about a twentieth of an uncached search in the server. A process
    changes its id only by forking, and os.register_at_fork says when it has."""

    def __init__(self) -> None:
        self.value = os.getpid()
        os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        self.value = os.getpid()

    def __call__(self) -> int:
        return self.value


if values.ValueClass is not values.MutexValue:  # multi-process mode, as prometheus_client chose
    # Before any metric is declared: each takes its value class when it is made.
    values.ValueClass = values.MultiProcessValue(  # type: ignore[no-untyped-call]
        process_identifier=_ProcessId()
    )
# Route label of requests no route matched: their paths would make a label value each.
UNMATCHED = "<unmatched>"
# The service answers in well under a millisecond from memory; the default buckets start at 5 ms.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

REQUESTS = Counter(
    "monograph_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "monograph_http_request_duration_seconds",
    "Time from receiving a request to the end of its response, by route template and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
CACHE_LOOKUPS = Counter(
    "monograph_response_cache_lookups",
    "GET requests looked up in the per-worker response cache, by result (hit or miss).",
    ["result"],
)
SEARCHES = Counter("monograph_search_queries", "Searches the full-text index answered.")
LOOKUPS = Counter(
    "monograph_name_lookups", "Name lookups, by how the name matched (none: no drug).", ["match"]
)
DATASET = Gauge(
    "monograph_dataset_info",
    "1 for the dataset version a worker serves (one series per worker process).",
    ["version"],
    multiprocess_mode="liveall",
)
DATABASE_ERRORS = Counter(
    "monograph_database_errors",
    "Failed or unanswered database calls, by what they were made for (request).",
    ["operation"],
)

CACHE_HITS = CACHE_LOOKUPS.labels("hit")
CACHE_MISSES = CACHE_LOOKUPS.labels("miss")


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV)


def registry() -> Collector:
    """What a scrape reads: every worker's files in multi-process mode, else this process."""
    if multiprocess_dir() is None:
        return REGISTRY
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)  # type: ignore[no-untyped-call]
    return collected


def serve_on_port(host: str, port: int) -> None:
    """/metrics (any path, in fact) on its own port, from a thread of the calling process."""
    start_http_server(port, addr=host, registry=registry())


def worker_stopped() -> None:
    """Drop this process's live gauges (its dataset series) from later scrapes."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class MetricsEndpoint:
    """GET /metrics in the Prometheus text format (gzip when asked), as an ASGI app."""

    def __init__(self) -> None:
        self.app = make_asgi_app(registry())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class RequestMetrics:
    """Counts and times each request; keeps each label set's child, since `labels()` is slow."""

    def __init__(self) -> None:
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}
        self._version: str | None = None

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        if route is not None:
            template = route.path
        elif "endpoint" in scope:
            # A plain Starlette route (docs, OpenAPI, /metrics, static assets): a fixed path.
            template = scope["path"]
        else:
            template = UNMATCHED
        method = scope["method"]
        counter = self._counters.get((template, method, status))
        if counter is None:
            counter = self._counters[template, method, status] = REQUESTS.labels(
                template, method, str(status)
            )
        counter.inc()
        timer = self._timers.get((template, method))
        if timer is None:
            timer = self._timers[template, method] = LATENCY.labels(template, method)
        timer.observe(seconds)
        store = getattr(scope["app"].state, "store", None)
        catalog = store.catalog if store is not None else None
        self.dataset_served(catalog.version if catalog is not None else None)

    def dataset_served(self, version: str | None) -> None:
        """Called on each request with the snapshot's version: cheap unless it changed."""
        if version == self._version:
            return
        if self._version is not None:
            DATASET.labels(self._version).set(0)
        if version is not None:
            DATASET.labels(version).set(1)
        self._version = version

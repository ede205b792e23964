"""The application factory: settings, database, catalog snapshot, routes, errors, offline docs."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from functools import partial

from fastapi import Depends, FastAPI
from fastapi.middleware import Middleware
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.datastructures import State
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route
from starlette.types import Message, Scope

from app import __version__
from app.api.deps import reject_unknown_query_params
from app.api.fast_reads import FastReadsMiddleware, hot_reads
from app.api.openapi import finish_openapi, serve_openapi_with_etag
from app.api.response_cache import SnapshotResponseCache
from app.api.response_cache_middleware import ResponseCacheMiddleware
from app.api.responses import GZIP_MINIMUM_SIZE
from app.api.routes import drugs, export, fhir, meta, problems, search, sources
from app.catalog import CatalogStore
from app.catalog.search import SearchService
from app.db import make_engine
from app.errors import common_responses, install_error_handlers
from app.logs import configure_logging
from app.metrics import MetricsEndpoint, RequestMetrics, worker_stopped
from app.middleware import DocsGZipMiddleware, HeadMiddleware, RequestContextMiddleware
from app.outage import DatabaseGuard
from app.search.backends import backend_for
from app.settings import Settings, get_settings

logger = logging.getLogger(__name__)

DESCRIPTION = """
A structured, evidence-linked monograph of **baclofen** (and, by design, of any drug).

Every fact carries its **evidence**: character offsets into the source text with the exact quote
(`text[start:end] == quote`, fetch the text from `/v1/sources/{source}`), or, for a value the source
lost, an **external citation** marked `"external": true`.

Errors are RFC 9457 `application/problem+json`. Not medical advice.
"""


def _operation_id(route: APIRoute) -> str:
    return route.name


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = make_engine(
        settings.database_url,
        statement_timeout=settings.db_statement_timeout_seconds,
        connect_timeout=settings.db_connect_timeout_seconds,
    )
    database = engine.url.render_as_string(hide_password=True)
    logger.info("starting monograph-api %s on %s", __version__, database)
    guard = DatabaseGuard(settings.db_statement_timeout_seconds, settings.db_retry_after_seconds)
    store = CatalogStore(engine, settings.reload_check_seconds, guard)
    app.state.store = store
    app.state.search = SearchService(backend_for(engine), store)
    await store.wait_until_loaded(timeout=settings.startup_wait_seconds)
    await prepare_routes(app)
    # What start-up built (modules, routes, models, the catalog) lives as long as the worker: out
    # of the collector's sight, a full collection no longer walks it, and pauses every request.
    gc.freeze()
    gc.enable()  # `monograph serve` starts with it off (app.launch); on from here, as it always is
    if app.state.metrics is not None and store.catalog is not None:
        app.state.metrics.dataset_served(store.catalog.version)
    stop_watching = asyncio.Event()
    watcher = asyncio.create_task(store.watch(stop_watching))
    logger.info("ready")
    try:
        yield
    finally:
        logger.info("stopping")
        stop_watching.set()
        await watcher  # lets a check under way finish: nothing uses the engine after this
        app.state.search.close()
        engine.dispose()
        app.state.search.close_files()  # after every connection: closing drops their locks
        worker_stopped()


# A path no route has: the request that makes FastAPI prepare its routes (prepare_routes).
_NO_ROUTE = "/\x00"


async def prepare_routes(app: FastAPI) -> int:
    """Have FastAPI prepare every route's request handling now rather than on the first request.

    FastAPI does it lazily, for all routes at once, when its router first routes a request: some
    400 model fields, about 0.2 s, that the first client of each worker would wait. A request for
    a path no route has, sent to the router alone, makes it do so. Past no middleware, it is
    neither logged nor counted, and its answer goes nowhere; its status is returned (a 404: no
    endpoint ran, tests/test_startup.py)."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": _NO_ROUTE,
        "raw_path": _NO_ROUTE.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses: list[int] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app.router(scope, receive, send)
    return statuses[0]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.access_log)
    app = FastAPIOffline(
        title="Baclofen monograph API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        # Starlette would build the redirect's Location from the Host header, which the client
        # chooses: `/v1/drugs/` is a 404 naming the path, never a redirect to another host.
        redirect_slashes=False,
        # FastAPI's native OpenTelemetry off: operators read /metrics (Prometheus), and the check
        # for configured providers would otherwise run on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        license_info={
            "name": "Data: CC BY-SA 4.0 (from Wikipedia)",
            "url": "https://creativecommons.org/licenses/by-sa/4.0/",
        },
    )
    app.state.settings = settings
    app.state.metrics = RequestMetrics() if settings.metrics else None
    install_error_handlers(app)
    routers = (drugs.router, fhir.drug_router, export.router, search.router, sources.router)
    for router in (*routers, meta.router, problems.router):
        app.include_router(
            router,
            dependencies=[Depends(reject_unknown_query_params)],
            responses=common_responses(),
        )
    app.include_router(
        fhir.router,
        dependencies=[Depends(reject_unknown_query_params)],
        responses=fhir.fhir_common_responses(),
    )
    finish_openapi(app)
    serve_openapi_with_etag(app)
    if settings.metrics and not settings.metrics_port:
        # A plain route, out of the OpenAPI document: it is for Prometheus, not API clients.
        app.router.routes.append(Route("/metrics", MetricsEndpoint(), methods=["GET"]))
    # Appended, not added: the last entry is the innermost, so every other middleware (added
    # before or after this line) still runs on a cached response.
    responses = SnapshotResponseCache(served_version=partial(_served_version, app.state))
    app.user_middleware.append(Middleware(ResponseCacheMiddleware, responses=responses))
    if settings.fast_reads:
        # Inside the cache, so its answers are cached like FastAPI's.
        app.user_middleware.append(
            Middleware(
                FastReadsMiddleware, reads=hot_reads([*drugs.router.routes, *search.router.routes])
            )
        )
    _add_middleware(app, settings)
    return app


def _served_version(state: State) -> str | None:
    """The dataset version this worker serves: None until start-up has loaded one."""
    store: CatalogStore | None = getattr(state, "store", None)  # set by the lifespan
    catalog = store.catalog if store is not None else None
    return catalog.version if catalog is not None else None


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    # Added innermost first.
    app.add_middleware(DocsGZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE, compresslevel=6)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET"],
            allow_headers=["If-None-Match", "X-Request-ID"],
            expose_headers=["ETag", "X-Request-ID"],
            max_age=600,
        )
    app.add_middleware(HeadMiddleware)
    app.add_middleware(
        RequestContextMiddleware,
        vary_origin=bool(settings.cors_origins),
        metrics=app.state.metrics,
    )

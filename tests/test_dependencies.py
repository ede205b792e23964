"""No request waits for a thread it does not need: every endpoint and dependency is async.

FastAPI runs a plain function (endpoint or dependency) in its thread pool, a thread hop on every
request; the unknown-parameter check, a dependency of every included router, did so until it was
made async (docs/performance.md). What blocks (the database) goes to a thread explicitly, under
the outage guard.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.main import create_app
from app.settings import Settings


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def _callables(app: Any) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Every endpoint and dependency of the application's routes, with where it is used."""
    for context in iter_route_contexts(app.routes):
        route = context.route
        if isinstance(route, APIRoute):
            yield route.path, route.endpoint
            for dependant in _dependencies(route.dependant):
                if dependant.call is not None:
                    yield route.path, dependant.call
    for route in app.routes:  # the dependencies given to include_router, for all its routes
        for depends in getattr(getattr(route, "include_context", None), "dependencies", ()):
            yield "an included router", depends.dependency


def test_every_endpoint_and_dependency_runs_on_the_event_loop(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"))
    found = list(_callables(app))
    assert len({path for path, _ in found}) > 40
    assert any(where == "an included router" for where, _ in found)
    plain = [
        f"{where}: {getattr(call, '__name__', call)}"
        for where, call in found
        if not inspect.iscoroutinefunction(call)
    ]
    assert plain == []

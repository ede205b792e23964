"""The hot reads (section lists, facts, search, lookup) answered without FastAPI's router and
dependency solver, when the request is plainly valid.

A profile of requests the response cache cannot answer (py-spy, `bash bench/run`) showed FastAPI's
route matching over some fifty routes and its per-request dependency solving costing several times
what the endpoints themselves do. These four kinds of GET make nearly all of that traffic, and their
inputs are simple: a drug named in the path, and one query-parameter model. So this middleware, the
innermost one, matches their paths itself and calls the very endpoint FastAPI would call:

- the query is parsed as Starlette parses it and validated by the endpoint's own parameter model
  (read from the endpoint's annotations, so there is one declaration of it);
- the drug is resolved by the same resolver, the catalog is the same snapshot;
- anything not plainly valid (an unknown or repeated parameter, a value the model refuses, no
  catalog yet) goes to FastAPI, untouched, which answers it as it always has;
- a problem the endpoint raises is rendered by the application's own exception handler, as
  Starlette's ExceptionMiddleware would render it.

So each answer is the one FastAPI gives, byte for byte: tests/test_fast_reads.py compares the two
over thousands of URLs, valid and not. The setting `MONOGRAPH_FAST_READS=false` turns this off.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from fastapi import params as fastapi_params
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.deps import get_store
from app.api.names import drug_named
from app.domain.sections import Section
from app.errors import ProblemError

DRUGS_PREFIX = "/v1/drugs/"
# The Path(max_length=...) of the drug parameter (app.api.deps.get_drug): longer goes to FastAPI.
MAX_DRUG_NAME = 200

Endpoint = Callable[..., Awaitable[Response]]


# Endpoint arguments this middleware supplies itself; any other must be a service dependency
# that needs only the request (app.api.deps: the store, the search service, the settings).
OWN_ARGUMENTS = frozenset({"request", "catalog", "drug", "params", "return"})
Service = Callable[[Request], Awaitable[Any]]


@dataclass(frozen=True)
class HotRead:
    """One route this middleware answers: the route (for logs and metrics), its endpoint, the
    endpoint's query-parameter model, the names that model accepts, and the services the endpoint
    is given (argument name -> the dependency function that gives it)."""

    route: APIRoute
    endpoint: Endpoint
    params: type[BaseModel]
    names: frozenset[str]
    services: dict[str, Service]

    @classmethod
    def of(cls, route: APIRoute) -> HotRead:
        hints = typing.get_type_hints(route.endpoint, include_extras=True)
        params = typing.get_args(hints["params"])[0]
        names = frozenset(info.alias or name for name, info in params.model_fields.items())
        services = {
            name: _service(route, name, hint)
            for name, hint in hints.items()
            if name not in OWN_ARGUMENTS
        }
        return cls(route, route.endpoint, params, names, services)

    async def arguments(self, request: Request) -> dict[str, Any]:
        return {name: await service(request) for name, service in self.services.items()}


def _service(route: APIRoute, name: str, hint: Any) -> Service:
    """The dependency function of an endpoint argument declared `Annotated[T, Depends(f)]`,
    where f takes the request alone."""
    depends = [m for m in typing.get_args(hint)[1:] if isinstance(m, fastapi_params.Depends)]
    dependency = depends[0].dependency if depends else None
    if dependency is None or list(inspect.signature(dependency).parameters) != ["request"]:
        raise RuntimeError(f"{route.path}: fast reads cannot supply the argument {name!r}")
    return typing.cast(Service, dependency)


def hot_paths() -> set[str]:
    """The route templates answered here: every section list, the facts, search and lookup."""
    lists = {f"/v1/drugs/{{drug}}/{section.value}" for section in Section}
    return {*lists, "/v1/drugs/{drug}/facts", "/v1/search", "/v1/lookup"}


def hot_reads(routes: Iterable[BaseRoute]) -> dict[str, HotRead]:
    """The hot routes of an application, by template."""
    wanted = hot_paths()
    found = {
        route.path: HotRead.of(route)
        for route in routes
        if isinstance(route, APIRoute) and route.path in wanted and "GET" in (route.methods or ())
    }
    missing = wanted - found.keys()
    if missing:
        raise RuntimeError(f"no GET route for {sorted(missing)}")
    return found


class FastReadsMiddleware:
    """Answers the hot reads (see the module's docstring); passes everything else on."""

    def __init__(self, app: ASGIApp, reads: dict[str, HotRead]) -> None:
        self.app = app
        # "/v1/search" -> its read; "indications" (the segment after the drug) -> its list.
        self.top_level = {path: read for path, read in reads.items() if "{drug}" not in path}
        self.per_drug = {
            path.rpartition("/")[2]: read for path, read in reads.items() if "{drug}" in path
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            response = await self._answer(scope)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope) -> Response | None:
        """The response, or None if FastAPI should answer."""
        matched = self._match(scope["path"])
        if matched is None:
            return None
        read, drug_name = matched
        request = Request(scope)
        catalog = (await get_store(request)).catalog
        params = _validated(read, scope["query_string"])
        if catalog is None or params is None:
            return None
        scope["route"] = read.route
        try:
            services = await read.arguments(request)
            if drug_name is None:
                return await read.endpoint(
                    request=request, catalog=catalog, params=params, **services
                )
            drug = drug_named(catalog, drug_name)
            return await read.endpoint(request=request, drug=drug, params=params, **services)
        except ProblemError as error:
            return await _rendered(request, error)

    def _match(self, path: str) -> tuple[HotRead, str | None] | None:
        if not path.startswith(DRUGS_PREFIX):
            read = self.top_level.get(path)
            return None if read is None else (read, None)
        drug, slash, rest = path[len(DRUGS_PREFIX) :].partition("/")
        read = self.per_drug.get(rest) if slash else None
        if read is None or not drug or len(drug) > MAX_DRUG_NAME:
            return None
        return read, drug


def _validated(read: HotRead, query_string: bytes) -> BaseModel | None:
    """The parameters as the endpoint's model validates them, or None when FastAPI would refuse
    them (or might: an unknown or repeated name is refused by app.api.deps for every route)."""
    pairs = query_pairs(query_string)
    values = dict(pairs)
    if len(values) != len(pairs) or not values.keys() <= read.names:
        return None
    try:
        return read.params.model_validate(values)
    except ValidationError:
        return None


def query_pairs(query_string: bytes) -> list[tuple[str, str]]:
    """The query's (name, value) pairs exactly as Starlette's QueryParams parse them: the bytes
    read as latin-1, then what `parse_qsl` does keeping blank values (empty fields skipped, `+`
    a space, %-escapes decoded as UTF-8), with the decoding done only where there is something
    to decode: parse_qsl itself was a twentieth of a list request."""
    pairs = []
    for field in query_string.decode("latin-1").split("&"):
        if field:
            name, _, value = field.partition("=")
            pairs.append((_decoded(name), _decoded(value)))
    return pairs


def _decoded(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    return unquote(text) if "%" in text else text


async def _rendered(request: Request, error: ProblemError) -> Response:
    """The response the application's exception handler gives for `error`."""
    handlers = request.app.exception_handlers
    handler = next(handlers[cls] for cls in type(error).__mro__ if cls in handlers)
    response: Response = await handler(request, error)
    return response

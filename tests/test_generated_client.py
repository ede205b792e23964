"""A client generated from the OpenAPI document by openapi-python-client (a tool nobody on the team
wrote) calls every operation of the live service and gets the generated models back.

This proves the contract is precise enough to generate a typed client from, and that what the
service answers parses into the types the contract promises.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer

PACKAGE = "monograph_client"
FHIR = "application/fhir+json"
PATH_VALUES = {"drug": "baclofen", "source": "baclofen-wikipedia"}


@pytest.fixture(scope="module")
def openapi(live_server: LiveServer) -> dict[str, Any]:
    return dict(httpx.get(live_server.url + "/openapi.json").json())


@pytest.fixture(scope="module")
def generated(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModuleType]:
    workdir = tmp_path_factory.mktemp("client")
    spec = workdir / "openapi.json"
    spec.write_bytes(httpx.get(live_server.url + "/openapi.json").content)
    bin_dir = Path(sys.executable).parent
    run = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(workdir / PACKAGE),
            "--meta",
            "none",
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        # Its post-generation hook formats the code with ruff, from our environment.
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "Warning" not in output, output  # every part of the contract was understood
    sys.path.insert(0, str(workdir))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(workdir))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def operation_modules(package: ModuleType) -> dict[str, ModuleType]:
    """Every generated operation module, by operation id (the module's name)."""
    api = importlib.import_module(f"{package.__name__}.api")
    modules = {}
    for tag in pkgutil.iter_modules(api.__path__):
        tag_package = importlib.import_module(f"{api.__name__}.{tag.name}")
        for operation in pkgutil.iter_modules(tag_package.__path__):
            modules[operation.name] = importlib.import_module(
                f"{tag_package.__name__}.{operation.name}"
            )
    return modules


def test_the_generated_client_covers_every_operation(
    generated: ModuleType, openapi: dict[str, Any]
) -> None:
    operation_ids = {
        operation["operationId"]
        for item in openapi["paths"].values()
        for operation in item.values()
    }
    assert set(operation_modules(generated)) == operation_ids


def test_every_operation_returns_its_generated_model(
    generated: ModuleType, openapi: dict[str, Any], live_server: LiveServer
) -> None:
    operations = {
        operation["operationId"]: operation
        for item in openapi["paths"].values()
        for operation in item.values()
    }
    modules = operation_modules(generated)
    with generated.Client(base_url=live_server.url, raise_on_unexpected_status=True) as client:
        call_every_operation(client, modules, operations, live_server)


def call_every_operation(
    client: Any,
    modules: dict[str, ModuleType],
    operations: dict[str, dict[str, Any]],
    live_server: LiveServer,
) -> None:
    first_ids: dict[str, str] = {}
    # Lists first: their first item names the fact the item operations fetch.
    for operation_id in sorted(modules, key=lambda name: not name.startswith("list_")):
        operation = operations[operation_id]
        kwargs = arguments(modules[operation_id], operation, first_ids)
        if kwargs is None:
            continue  # an empty section has no fact to fetch
        response = modules[operation_id].sync_detailed(client=client, **kwargs)
        assert response.status_code == 200, (operation_id, response.content)
        model = type(response.parsed)
        content = operation["responses"]["200"]["content"]
        # The FHIR operations answer application/fhir+json, a JSON the client parses alike.
        schema = next(content[t] for t in ("application/json", FHIR) if t in content)["schema"]
        expected = schema["$ref"].rsplit("/", 1)[1].replace("_", "")
        assert model.__name__ == expected, operation_id
        assert model.__module__.startswith(f"{PACKAGE}.models"), operation_id
        # Nothing was lost on the way into the typed model.
        assert (
            response.parsed.to_dict()
            == httpx.get(live_server.url + str(response_url(modules[operation_id], kwargs))).json()
        ), operation_id
        items = getattr(response.parsed, "items", None)
        if isinstance(items, list) and items and operation_id.startswith("list_"):
            assert type(items[0]).__module__.startswith(f"{PACKAGE}.models")
            section = operation_id.removeprefix("list_")
            if f"get_{section}_fact" in modules:
                first_ids[section] = items[0].id
    # Each fact operation whose section has data was called.
    called_facts = {f"get_{section}_fact" for section in first_ids}
    assert called_facts <= set(modules)


def test_a_problem_parses_into_the_generated_problem_model(
    generated: ModuleType, live_server: LiveServer
) -> None:
    modules = operation_modules(generated)
    with generated.Client(base_url=live_server.url, raise_on_unexpected_status=True) as client:
        response = modules["get_drug"].sync_detailed(client=client, drug="lioresl")
    assert response.status_code == 404
    assert type(response.parsed).__name__ == "DrugNameProblem"
    assert response.parsed.status == 404
    assert response.parsed.lookup == "/v1/lookup?name=lioresl"
    [suggestion] = response.parsed.suggestions
    assert type(suggestion).__name__ == "DrugSuggestion"
    assert suggestion.slug == "baclofen"


def arguments(
    module: ModuleType, operation: dict[str, Any], first_ids: dict[str, str]
) -> dict[str, Any] | None:
    """Keyword arguments for an operation's required parameters, or None if none can be named."""
    examples = {
        parameter["name"]: (
            parameter.get("examples") or parameter["schema"].get("examples") or [None]
        )[0]
        for parameter in operation.get("parameters", [])
    }
    kwargs: dict[str, Any] = {}
    for name, parameter in inspect.signature(module.sync_detailed).parameters.items():
        if name == "client" or parameter.default is not inspect.Parameter.empty:
            continue
        if name == "fact_id":
            section = operation["operationId"].removeprefix("get_").removesuffix("_fact")
            if section not in first_ids:
                return None
            kwargs[name] = first_ids[section]
        elif name in PATH_VALUES:
            kwargs[name] = PATH_VALUES[name]
        else:
            assert examples.get(name) is not None, f"no example for required parameter {name}"
            kwargs[name] = examples[name]
    return kwargs


def response_url(module: ModuleType, kwargs: dict[str, Any]) -> str:
    request = module._get_kwargs(**kwargs)
    query = httpx.QueryParams(
        {k: v for k, v in (request.get("params") or {}).items() if v is not None}
    )
    return f"{request['url']}?{query}" if query else str(request["url"])

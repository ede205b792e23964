"""Write app/api/examples.json: for every response the OpenAPI document declares, the service's
real answer to a real request, from a fresh database loaded with the real seed.

    .venv/bin/python -m scripts.openapi_examples

Run it whenever an answer changes (the seed, a list's shape, a new endpoint);
tests/test_openapi_examples.py says when. The requests are derived from the document itself
(`example_requests`), so a new operation gets its examples without editing this file.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from fastapi import FastAPI

from app.api.deps import get_catalog
from app.api.examples import EXAMPLES_PATH
from app.cli import migrate_and_seed
from app.main import create_app
from app.middleware import MAX_PATH_BYTES
from app.settings import PROJECT_ROOT, Settings

COMMAND = "python -m scripts.openapi_examples"
# Path parameters of the 200 examples; fact ids are the first of their section's list.
PATH_VALUES = {"drug": "baclofen", "source": "baclofen-wikipedia", "problem_type": "not-found"}
UNKNOWN_DRUG = "aspirin"
# Lists are shown two items long: enough to see the shape, short enough to read.
EXAMPLE_LIMIT = 2
# Parts of an answer that change each time the same data is loaded (JSON pointers).
VARIES = {"get_meta": ["/dataset/loaded_at"], "fhir_capabilities": ["/date"]}


# Media types other than a response's first, asked for with `format=` (the bulk export) or
# negotiated with `Accept` (JSON-LD).
FORMAT_FOR_MEDIA = {"application/x-ndjson": "ndjson", "text/csv": "csv"}
NEGOTIATED_MEDIA = {"application/ld+json"}
# Queries that keep an example short where `limit` does not apply (one small list exported).
EXAMPLE_QUERIES = {"export_dataset": {"section": "specific-populations"}}
# A FHIR read needs a resource id: the first of its type's search, or a served definition.
STRUCTURE_DEFINITION_ID = "evidence"


@dataclass(frozen=True)
class ExampleRequest:
    operation: str
    status: str
    url: str
    # The key the example is filed under: the status, plus the media type for a response's
    # second and later media types ("200 text/csv").
    key: str = ""
    accept: str | None = None

    @property
    def example_key(self) -> str:
        return self.key or self.status


def example_key(status: str, media_types: list[str], media_type: str) -> str:
    return status if media_type == media_types[0] else f"{status} {media_type}"


def example_requests(document: dict[str, Any], client: httpx.Client) -> list[ExampleRequest]:
    """One request per (operation, status, media type) the document declares with a body, except
    the shared problems (414, 500, 503: see `shared_examples`)."""
    wanted: list[ExampleRequest] = []
    for path, path_item in document["paths"].items():
        for operation in path_item.values():
            parameters = {p["name"]: p for p in operation.get("parameters", [])}
            extra = EXAMPLE_QUERIES.get(operation["operationId"], {})
            for status, response in operation["responses"].items():
                if not response.get("content") or status in ("414", "500", "503"):
                    continue
                media_types = list(response["content"])
                url = _request_for(client, path, parameters, status, extra)
                wanted.append(ExampleRequest(operation["operationId"], status, url))
                for media_type in media_types[1:]:
                    key = example_key(status, media_types, media_type)
                    if media_type in FORMAT_FOR_MEDIA and "format" in parameters:
                        query = {**extra, "format": FORMAT_FOR_MEDIA[media_type]}
                        media_url = _request_for(client, path, parameters, status, query)
                        wanted.append(
                            ExampleRequest(operation["operationId"], status, media_url, key)
                        )
                    elif media_type in NEGOTIATED_MEDIA:
                        wanted.append(
                            ExampleRequest(operation["operationId"], status, url, key, media_type)
                        )
    return wanted


def _request_for(
    client: httpx.Client,
    path: str,
    parameters: dict[str, Any],
    status: str,
    extra: dict[str, str] | None = None,
) -> str:
    values = dict(PATH_VALUES)
    query: dict[str, str] = {
        name: str(p["schema"].get("examples", p.get("examples", ["x"]))[0])
        for name, p in parameters.items()
        if p["in"] == "query" and p.get("required")
    }
    if status.startswith("2"):
        query |= extra or {}
    if "limit" in parameters:
        query["limit"] = str(EXAMPLE_LIMIT)
    if "{resource_id}" in path:
        values["resource_id"] = _fhir_resource_id(client, path)
    if "{fact_id}" in path:
        section_list = path.removesuffix("/{fact_id}").replace("{drug}", values["drug"])
        values["fact_id"] = client.get(section_list, params={"limit": 1}).json()["items"][0]["id"]
    if status == "404":
        if "{resource_id}" in path:
            values["resource_id"] = "no-such-resource"
        elif "{problem_type}" in path:
            values["problem_type"] = "no-such-problem"
        elif "{fact_id}" in path:
            values["fact_id"] = path.split("/")[-2] + "-no-such-fact"
        elif "{drug}" in path:
            values["drug"] = UNKNOWN_DRUG
        elif "{source}" in path:
            values["source"] = "no-such-source"
        elif "drug" in parameters:
            query["drug"] = UNKNOWN_DRUG
        elif "name" in parameters:
            query["name"] = UNKNOWN_DRUG
    elif status == "400":  # FHIR: a search parameter it does not support
        query = {"format": "xml"}
    elif status == "422":
        required = [
            name for name, p in parameters.items() if p.get("required") and p["in"] == "query"
        ]
        if required:
            del query[required[0]]  # a required parameter left out
        elif "limit" in parameters:
            query["limit"] = "1000"  # over the bound
        else:
            query = {"format": "xml"}  # a parameter the route does not know
    url = path.format(**{k: v for k, v in values.items() if "{" + k + "}" in path})
    return url + (f"?{urlencode(query)}" if query else "")


def _fhir_resource_id(client: httpx.Client, path: str) -> str:
    search = path.rsplit("/", 1)[0]
    if search.endswith("/StructureDefinition"):
        return STRUCTURE_DEFINITION_ID
    bundle = client.get(search).json()
    return str(bundle["entry"][0]["resource"]["id"])


def body_of(response: httpx.Response) -> Any:
    """JSON bodies (any +json media type) as data; CSV and NDJSON as the text they are."""
    media_type = response.headers.get("content-type", "").split(";")[0]
    if media_type.endswith("json") and media_type != "application/x-ndjson":
        return response.json()
    return response.text


def answer(client: httpx.Client, url: str, accept: str | None = None) -> tuple[str, Any]:
    response = client.get(url, headers={"accept": accept} if accept else None)
    return str(response.status_code), body_of(response)


def operation_examples(client: httpx.Client, document: dict[str, Any]) -> dict[str, Any]:
    operations: dict[str, dict[str, Any]] = {}
    for wanted in example_requests(document, client):
        status, body = answer(client, wanted.url, wanted.accept)
        if status != wanted.status:
            raise SystemExit(f"{wanted}: the service answered {status}: {body}")
        stored: dict[str, Any] = {"request": wanted.url, "body": body}
        if wanted.accept:
            stored["accept"] = wanted.accept
        if wanted.status.startswith("2") and wanted.operation in VARIES:
            stored["varies"] = VARIES[wanted.operation]
        operations.setdefault(wanted.operation, {})[wanted.example_key] = stored
    return operations


def long_path(prefix: str = "/v1/drugs/") -> str:
    return prefix + "a" * (MAX_PATH_BYTES - len(prefix) + 1)


FHIR_SEARCH = "/fhir/R5/MedicationKnowledge"


def shared_examples(client: httpx.Client, database_url: str, seed_dir: Path) -> dict[str, Any]:
    """The problems any route can answer: a path too long, an unexpected error, no database."""
    shared: dict[str, Any] = {}
    _status, body = answer(client, long_path())
    shared["414"] = {
        "request": long_path(),
        "summary": f"A path over {MAX_PATH_BYTES} characters",
        "body": body,
    }
    shared["500"] = {
        "request": "/v1/drugs",
        "summary": "A route that failed unexpectedly",
        "fault": "its catalog dependency raised an error, as a bug would",
        "body": failing_route_answer(database_url, seed_dir),
    }
    # Under /fhir the same problems are FHIR OperationOutcomes.
    _status, body = answer(client, long_path("/fhir/R5/"))
    shared["fhir-414"] = {
        "request": long_path("/fhir/R5/"),
        "summary": f"A path over {MAX_PATH_BYTES} characters",
        "body": body,
    }
    shared["fhir-500"] = {
        "request": FHIR_SEARCH,
        "summary": "A route that failed unexpectedly",
        "fault": "its catalog dependency raised an error, as a bug would",
        "body": failing_route_answer(database_url, seed_dir, FHIR_SEARCH),
    }
    shared["503"] = {
        "request": "/readyz",
        "summary": "The database does not answer",
        "fault": "its SQLite file was overwritten while the service ran",
        "body": database_gone_answer(seed_dir),
    }
    return shared


def failing_route_answer(database_url: str, seed_dir: Path, path: str = "/v1/drugs") -> Any:
    app = create_app(Settings(database_url=database_url, seed_dir=seed_dir))

    def broken_catalog() -> None:
        raise RuntimeError("an unexpected error")

    app.dependency_overrides[get_catalog] = broken_catalog
    with serving(app) as url, quiet_errors():
        return httpx.get(url + path).json()


def database_gone_answer(seed_dir: Path) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "gone.db"
        url = f"sqlite:///{database}"
        migrate_and_seed(url, seed_dir, force=True)
        app = create_app(Settings(database_url=url, seed_dir=seed_dir, reload_check_seconds=60))
        with serving(app) as base:
            app.state.store.engine.dispose()
            for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
                leftover.unlink(missing_ok=True)
            database.write_bytes(b"this is not a database\n" * 100)
            return httpx.get(base + "/readyz").json()


@contextlib.contextmanager
def quiet_errors() -> Iterator[None]:
    import logging

    logger = logging.getLogger("app.errors")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def generate(seed_dir: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{Path(folder) / 'examples.db'}"
        migrate_and_seed(database_url, seed_dir, force=True)
        app = create_app(Settings(database_url=database_url, seed_dir=seed_dir))
        with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            document = client.get("/openapi.json").json()
            operations = operation_examples(client, document)
            shared = shared_examples(client, database_url, seed_dir)
    return {"generated_by": COMMAND, "operations": operations, "shared": shared}


def keep_varying_values(examples: dict[str, Any], previous: dict[str, Any]) -> None:
    """Values that change on every load (`varies`) keep their stored form: no noise in diffs."""
    for operation, by_status in examples["operations"].items():
        for status, example in by_status.items():
            before = previous.get("operations", {}).get(operation, {}).get(status)
            for pointer in example.get("varies", []) if before else []:
                *parents, last = pointer.strip("/").split("/")
                new, old = example["body"], before["body"]
                for part in parents:
                    new, old = new[part], old.get(part, {})
                if last in old:
                    new[last] = old[last]


def main() -> int:
    os.environ["MONOGRAPH_ACCESS_LOG"] = "false"  # a line per request would bury the result
    examples = generate(PROJECT_ROOT / "seed")
    if EXAMPLES_PATH.exists():
        keep_varying_values(examples, json.loads(EXAMPLES_PATH.read_text(encoding="utf-8")))
    text = json.dumps(examples, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    EXAMPLES_PATH.write_text(text, encoding="utf-8")
    count = sum(len(by_status) for by_status in examples["operations"].values())
    print(f"wrote {count} examples and {len(examples['shared'])} shared ones to {EXAMPLES_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

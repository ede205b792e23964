"""HTTP behaviour of every route, over real HTTP: problem+json errors, strong ETags and 304s,
gzip, unknown parameters, URL bounds, request ids, security headers, access log, probes, CORS."""

from __future__ import annotations

import gc
import gzip
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.api.deps import get_catalog
from app.cli import migrate_and_seed
from app.logs import configure_logging
from app.settings import Settings
from tests.conftest import LiveServer

PROBLEM = "application/problem+json"
IDENTITY = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}
# What a response varies on: the drug has a JSON-LD representation too; the export is streamed
# uncompressed.
VARY = {"/v1/drugs/baclofen": "Accept, Accept-Encoding", "/v1/export": None}
# Values for path parameters; fact ids are taken from the section lists.
PATH_VALUES = {"drug": "baclofen", "source": "baclofen-wikipedia", "problem_type": "not-found"}


@pytest.fixture(scope="module")
def openapi(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200, response.text
    return dict(response.json())


def get_operations(openapi: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every GET of the API but the FHIR server's, whose errors are FHIR OperationOutcomes and
    whose bad parameters are 400s, as FHIR specifies (tests/test_fhir.py checks them)."""
    return [
        (path, item["get"])
        for path, item in openapi["paths"].items()
        if "get" in item and not path.startswith("/fhir/")
    ]


def required_query(operation: dict[str, Any]) -> dict[str, Any]:
    """A value for each required query parameter, from the parameter's own example."""
    values = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter.get("required"):
            examples = parameter.get("examples") or parameter["schema"].get("examples")
            assert examples, f"required parameter {parameter['name']} has no example"
            values[parameter["name"]] = examples[0]
    return values


def concrete_url(client: httpx.Client, path: str) -> str | None:
    """The path with real values in it, or None when there is no fact to name."""
    url = path
    for name, value in PATH_VALUES.items():
        url = url.replace("{" + name + "}", value)
    if "{fact_id}" in url:
        listing = client.get(url.rsplit("/", 1)[0], headers=IDENTITY).json()
        if not listing["items"]:
            return None
        url = url.replace("{fact_id}", listing["items"][0]["id"])
    assert "{" not in url, f"no test value for a parameter of {path}"
    return url


@pytest.fixture(scope="module")
def urls(client: httpx.Client, openapi: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(url, query) for every GET route of the contract that has data to answer with."""
    found = []
    for path, operation in get_operations(openapi):
        url = concrete_url(client, path)
        if url is not None:
            found.append((url, required_query(operation)))
    fact_routes = [p for p, _ in get_operations(openapi) if p.endswith("{fact_id}")]
    # Every route but the fact routes of empty sections is exercised.
    assert len(found) >= len(get_operations(openapi)) - len(fact_routes) + 1
    return found


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = dict(response.json())
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body


# --- the contract declares what each route can answer -------------------------------------


def test_every_route_declares_its_statuses_and_problem_bodies(openapi: dict[str, Any]) -> None:
    operations = get_operations(openapi)
    assert {"/healthz", "/readyz", "/v1/meta", "/v1/drugs", "/v1/sources"} <= dict(
        operations
    ).keys()
    for path, operation in operations:
        responses = operation["responses"]
        for status in ("200", "304", "422", "500", "414"):
            assert status in responses, f"{path} does not declare {status}"
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert PROBLEM in response["content"], f"{path} {status} is not problem+json"


# --- errors --------------------------------------------------------------------------------


def test_unknown_path_is_a_problem_404(client: httpx.Client) -> None:
    body = assert_problem(client.get("/v1/no-such-thing"), 404)
    assert body["instance"] == "/v1/no-such-thing"


def test_wrong_method_is_a_problem_405_with_allow(client: httpx.Client) -> None:
    response = client.post("/v1/drugs", json={})
    body = assert_problem(response, 405)
    assert response.headers["allow"] == "GET"
    assert "POST" in body["detail"]


def test_bad_value_is_a_problem_422_naming_it(client: httpx.Client) -> None:
    body = assert_problem(client.get("/v1/drugs", params={"limit": 0}), 422)
    assert body["errors"][0]["location"] == "query.limit"


def test_unknown_drug_is_a_problem_404(client: httpx.Client) -> None:
    body = assert_problem(client.get("/v1/drugs/aspirin"), 404)
    assert "aspirin" in body["detail"]
    assert body["lookup"] == "/v1/lookup?name=aspirin"
    assert "suggestions" not in body


def test_unknown_query_parameter_is_refused_on_every_route(
    client: httpx.Client, urls: list[tuple[str, dict[str, Any]]]
) -> None:
    for url, query in urls:
        response = client.get(url, params={**query, "colour": "blue", "limit2": "1"})
        body = assert_problem(response, 422)
        locations = [error["location"] for error in body["errors"]]
        assert locations == ["query.colour", "query.limit2"], url
        assert "unknown parameter 'colour'" in body["detail"]


def test_declared_query_parameters_are_not_refused(client: httpx.Client) -> None:
    response = client.get(
        "/v1/drugs/baclofen/withdrawal-syndrome", params={"topic": "tapering", "limit": 5}
    )
    assert response.status_code == 200, response.text


def test_an_overlong_query_string_is_a_problem_422(client: httpx.Client) -> None:
    body = assert_problem(client.get("/v1/drugs", params={"x": "a" * 3000}), 422)
    assert "query string" in body["detail"]


def test_an_overlong_path_is_a_problem_414(client: httpx.Client) -> None:
    assert_problem(client.get("/v1/drugs/" + "a" * 3000), 414)


# --- caching -------------------------------------------------------------------------------


def test_every_get_has_a_strong_etag_and_answers_304(
    client: httpx.Client, urls: list[tuple[str, dict[str, Any]]]
) -> None:
    for url, query in urls:
        for encoding in (IDENTITY, GZIP):
            first = client.get(url, params=query, headers=encoding)
            assert first.status_code == 200, (url, first.text)
            etag = first.headers["etag"]
            assert etag.startswith('"') and etag.endswith('"'), (url, etag)  # strong, not W/
            assert first.headers.get("vary") == VARY.get(url, "Accept-Encoding"), url
            assert "max-age=" in first.headers["cache-control"] or url in ("/healthz", "/readyz")
            again = client.get(url, params=query, headers={**encoding, "If-None-Match": etag})
            assert again.status_code == 304, url
            assert again.content == b""
            for header in ("etag", "cache-control", "vary"):
                assert again.headers.get(header) == first.headers.get(header), (url, header)


def test_a_gzipped_body_is_another_representation_with_its_own_etag(
    client: httpx.Client,
) -> None:
    url = "/v1/sources/baclofen-wikipedia"
    plain = client.get(url, headers=IDENTITY)
    packed = client.get(url, headers=GZIP)
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content  # httpx has decoded it
    assert int(packed.headers["content-length"]) < len(plain.content)
    assert packed.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
    # Either tag names the same content: each revalidates, and the 304 carries the tag the 200
    # would have carried for that request.
    for sent in (plain.headers["etag"], packed.headers["etag"]):
        for encoding, expected in ((IDENTITY, plain), (GZIP, packed)):
            response = client.get(url, headers={**encoding, "If-None-Match": sent})
            assert response.status_code == 304
            assert response.headers["etag"] == expected.headers["etag"]


@pytest.mark.parametrize(
    ("url", "kept_first"),
    [("/v1/drugs/BaClOfEn", "gzip"), ("/v1/drugs/bAcLoFeN", "identity")],
)
def test_the_response_cache_serves_each_encoding_whichever_came_first(
    client: httpx.Client, url: str, kept_first: str
) -> None:
    # A spelling of the drug no other test uses: its first two requests are cache misses, and
    # the second one's response is kept (the Doorkeeper), in the encoding it was sent in.
    gzip_first = kept_first == "gzip"
    encodings = (GZIP, IDENTITY) if gzip_first else (IDENTITY, GZIP)
    assert client.get(url, headers=encodings[0]).status_code == 200  # a miss, not kept
    kept, other, kept_again, other_again = (
        client.get(url, headers=h) for h in (*encodings, *encodings)
    )
    packed, plain = (kept, other) if gzip_first else (other, kept)
    packed_again, plain_again = (
        (kept_again, other_again) if gzip_first else (other_again, kept_again)
    )
    assert packed.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert packed.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
    for again, first in ((packed_again, packed), (plain_again, plain)):
        assert again.content == first.content
        for header in ("etag", "content-length", "vary", "cache-control", "content-type"):
            assert again.headers.get(header) == first.headers.get(header), header
    for encoding, expected in ((GZIP, packed), (IDENTITY, plain)):
        revalidated = client.get(url, headers={**encoding, "If-None-Match": plain.headers["etag"]})
        assert revalidated.status_code == 304
        assert revalidated.headers["etag"] == expected.headers["etag"]


def test_a_repeated_conditional_header_is_read_alike_by_a_miss_and_a_replay(
    client: httpx.Client,
) -> None:
    """Of two If-None-Match (or Accept-Encoding) headers the first counts, as Starlette reads
    them, whether the response cache holds the answer yet (a replay) or not (a miss)."""
    etag = client.get("/v1/drugs/baclofen", headers=IDENTITY).headers["etag"]
    matching_first = [("If-None-Match", etag), ("If-None-Match", '"other"'), *IDENTITY.items()]
    other_first = [matching_first[1], matching_first[0], *IDENTITY.items()]
    identity_first = [("Accept-Encoding", "identity"), ("Accept-Encoding", "gzip")]
    # Spellings of the drug no other test uses: the first request of each is a miss, the second
    # a miss whose response is kept (a 304 is never kept, so for baCLOFEN it is the 200 after it),
    # the third a replay.
    for _ in ("miss", "kept", "replay"):
        assert client.get("/v1/drugs/baCLOFEN", headers=matching_first).status_code == 304
        assert client.get("/v1/drugs/baCLOFEN", headers=other_first).status_code == 200
        answer = client.get("/v1/drugs/BAclofen", headers=identity_first)
        assert answer.status_code == 200 and "content-encoding" not in answer.headers


def test_replayed_responses_get_their_own_request_id_and_headers_once(
    client: httpx.Client,
) -> None:
    # Asked for three times: missed, missed and kept, replayed.
    first, second, third = (client.get("/v1/drugs", params={"limit": 7}) for _ in range(3))
    assert len({r.headers["x-request-id"] for r in (first, second, third)}) == 3
    for name in ("x-request-id", "x-content-type-options", "content-security-policy", "vary"):
        for again in (second, third):
            assert len(again.headers.get_list(name)) == 1, name


def test_gzip_refused_with_q_zero_is_not_sent(client: httpx.Client) -> None:
    response = client.get("/v1/sources/baclofen-wikipedia", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in response.headers
    assert not response.headers["etag"].endswith('-gzip"')


def test_raw_gzip_bytes_decompress_to_the_identity_body(live_server: LiveServer) -> None:
    url = live_server.url + "/v1/sources/baclofen-wikipedia"
    with httpx.stream("GET", url, headers=GZIP) as response:
        raw = b"".join(response.iter_raw())
    assert gzip.decompress(raw) == httpx.get(url, headers=IDENTITY).content


def test_a_different_etag_gets_the_body(client: httpx.Client) -> None:
    response = client.get("/v1/drugs", headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200
    assert response.json()["items"]


def test_cache_control_is_the_setting_and_probes_revalidate(client: httpx.Client) -> None:
    assert client.get("/v1/drugs").headers["cache-control"] == "public, max-age=300"
    assert client.get("/healthz").headers["cache-control"] == "no-cache"
    assert client.get("/readyz").headers["cache-control"] == "no-cache"


def test_the_docs_are_compressed_with_a_distinct_etag(client: httpx.Client) -> None:
    response = client.get("/static-offline-docs/swagger-ui-bundle.js", headers=GZIP)
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["etag"].endswith('-gzip"')
    openapi = client.get("/openapi.json", headers=GZIP)
    assert openapi.headers["content-encoding"] == "gzip"


def test_the_openapi_document_has_a_strong_etag_and_answers_304(client: httpx.Client) -> None:
    for encoding in (IDENTITY, GZIP):
        first = client.get("/openapi.json", headers=encoding)
        assert first.json()["openapi"].startswith("3.")
        again = client.get(
            "/openapi.json", headers={**encoding, "If-None-Match": first.headers["etag"]}
        )
        assert again.status_code == 304
        assert again.headers["etag"] == first.headers["etag"]


# --- request id, security headers, access log ----------------------------------------------


def test_a_sane_request_id_is_echoed(client: httpx.Client) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123.X_y:z"})
    assert response.headers["x-request-id"] == "abc-123.X_y:z"


@pytest.mark.parametrize("bad", ["a" * 129, "has space", 'quote"d', "semi;colon", ""])
def test_an_unsafe_request_id_is_replaced(client: httpx.Client, bad: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": bad})
    generated = response.headers["x-request-id"]
    assert generated != bad
    assert len(generated) == 32 and int(generated, 16) >= 0


def test_each_request_gets_its_own_id_even_on_errors(client: httpx.Client) -> None:
    ids = {client.get(path).headers["x-request-id"] for path in ("/healthz", "/nope", "/healthz")}
    assert len(ids) == 3


def test_json_responses_carry_restrictive_security_headers(client: httpx.Client) -> None:
    for response in (client.get("/v1/drugs"), client.get("/nope")):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cross-origin-resource-policy"] == "same-origin"


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/docs/oauth2-redirect", "/openapi.json"])
def test_docs_pages_get_the_common_security_headers(client: httpx.Client, page: str) -> None:
    headers = client.get(page).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cross-origin-resource-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_get_a_csp_that_lets_them_run(client: httpx.Client, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline'" in csp
    assert "worker-src 'self' blob:" in csp
    assert "img-src 'self' data:" in csp
    assert "frame-ancestors 'none'" in csp
    # Offline: every script and stylesheet comes from this server.
    assert "://" not in response.text
    assert "fonts.googleapis" not in response.text


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


def test_one_json_access_log_line_per_request(
    client: httpx.Client, access_lines: list[str]
) -> None:
    client.get("/v1/drugs/aspirin", headers={"X-Request-ID": "log-test-1"})
    # The line is written once the response is sent: give the server thread a moment.
    deadline = time.monotonic() + 5
    while not any("log-test-1" in line for line in access_lines) and time.monotonic() < deadline:
        time.sleep(0.01)
    mine = [json.loads(line) for line in access_lines if "log-test-1" in line]
    assert len(mine) == 1
    entry = mine[0]
    assert entry["method"] == "GET"
    assert entry["path"] == "/v1/drugs/aspirin"
    assert entry["status"] == 404
    assert entry["request_id"] == "log-test-1"
    assert 0 <= entry["duration_ms"] < 60_000


# --- operations ----------------------------------------------------------------------------


def test_healthz(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_names_the_dataset(client: httpx.Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["dataset_version"] == client.get("/v1/meta").json()["dataset"]["version"]


def test_meta_describes_service_dataset_sources_and_licence(client: httpx.Client) -> None:
    from app import __version__

    body = client.get("/v1/meta").json()
    assert body["service_version"] == __version__
    assert len(body["dataset"]["version"]) == 64
    assert body["dataset"]["loaded_at"]
    assert body["dataset"]["fact_count"] > 0
    licences = {source["license"] for source in body["sources"]}
    assert any("CC BY-SA" in licence for licence in licences)
    assert "not medical advice" in body["disclaimer"]


def test_sources_list_links_to_each_text(client: httpx.Client) -> None:
    page = client.get("/v1/sources").json()
    assert page["total"] == len(page["items"]) >= 1
    for item in page["items"]:
        text = client.get(item["href"]).json()
        assert text["id"] == item["id"]
        assert text["length"] == item["length"] == len(text["text"])


@pytest.fixture
def own_database(fresh_database_url: str, seed_dir: Path) -> str:
    migrate_and_seed(fresh_database_url, seed_dir, force=True)
    return fresh_database_url


def test_readyz_is_a_problem_503_when_the_database_is_gone(
    own_database: str, app_records: list[logging.LogRecord]
) -> None:
    if not own_database.startswith("sqlite:///"):
        pytest.skip("breaks the database by overwriting its SQLite file")
    settings = Settings(database_url=own_database, reload_check_seconds=60)
    with LiveServer(settings) as server:
        assert httpx.get(server.url + "/readyz").status_code == 200
        # Break it the way a disk or an operator would: the file is no longer a database.
        server.app.state.store.engine.dispose()
        database = Path(own_database.removeprefix("sqlite:///"))
        for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
            leftover.unlink(missing_ok=True)
        database.write_bytes(b"this is not a database\n" * 100)
        response = httpx.get(server.url + "/readyz")
        body = assert_problem(response, 503)
        assert "database does not answer" in body["detail"]
        failures = [r.getMessage() for r in app_records if r.levelno >= logging.WARNING]
        # One line for the outage (app.outage), however many requests meet it.
        assert len(failures) == 1 and "database unavailable" in failures[0], failures
        # The catalog is in memory: reads go on while the database is away.
        assert httpx.get(server.url + "/v1/drugs").status_code == 200


@pytest.fixture
def app_records() -> Iterator[list[logging.LogRecord]]:
    """The records of the service's loggers (the `app` namespace does not propagate to root)."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    logger = logging.getLogger("app")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_an_unexpected_error_is_a_problem_500_without_trace(
    own_database: str, app_records: list[logging.LogRecord]
) -> None:
    server = LiveServer(Settings(database_url=own_database))

    def broken_catalog() -> None:
        raise RuntimeError("secret internal detail")

    # The real app and route; only its catalog dependency fails, as a bug would make it.
    server.app.dependency_overrides[get_catalog] = broken_catalog
    with server:
        response = httpx.get(server.url + "/v1/drugs", headers={"X-Request-ID": "boom-1"})
    body = assert_problem(response, 500)
    assert "secret internal detail" not in response.text
    assert body["instance"] == "/v1/drugs"
    assert response.headers["x-request-id"] == "boom-1"
    assert response.headers["x-content-type-options"] == "nosniff"
    # Logged once, by the errors module's handler, with the request id and the traceback.
    [logged] = [r for r in app_records if r.levelno >= logging.ERROR]
    assert (logged.name, logged.funcName) == ("app.errors", "on_unexpected")
    assert "boom-1" in logged.getMessage()
    assert logged.exc_info and "secret internal detail" in str(logged.exc_info[1])


def test_cors_when_configured(own_database: str) -> None:
    origin = "https://app.example.org"
    settings = Settings(database_url=own_database, cors_origins=[origin])
    with LiveServer(settings) as server:
        response = httpx.get(server.url + "/v1/drugs", headers={"Origin": origin})
        assert response.headers["access-control-allow-origin"] == origin
        assert "ETag" in response.headers["access-control-expose-headers"]
        without_origin = httpx.get(server.url + "/v1/drugs")
        for answer in (response, without_origin):
            vary = [v.strip() for v in answer.headers["vary"].split(",")]
            assert sorted(vary) == ["Accept-Encoding", "Origin"]
        stranger = httpx.get(server.url + "/v1/drugs", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in stranger.headers
        preflight = httpx.options(
            server.url + "/v1/drugs",
            headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
        )
        assert preflight.status_code == 200


def test_cache_max_age_follows_the_setting(own_database: str) -> None:
    with LiveServer(Settings(database_url=own_database, cache_max_age=42)) as server:
        response = httpx.get(server.url + "/v1/drugs")
    assert response.headers["cache-control"] == "public, max-age=42"


def test_no_cors_headers_by_default(client: httpx.Client) -> None:
    response = client.get("/v1/drugs", headers={"Origin": "https://app.example.org"})
    assert "access-control-allow-origin" not in response.headers
    assert "Origin" not in response.headers["vary"]


def test_the_access_log_can_be_switched_off() -> None:
    logger = logging.getLogger("app.access")
    level = logger.level
    try:
        configure_logging("info", access_log=False)
        assert not logger.isEnabledFor(logging.INFO)
        assert logging.getLogger("app.catalog").isEnabledFor(logging.INFO)
        configure_logging("info", access_log=True)
        assert logger.isEnabledFor(logging.INFO)
    finally:
        logger.setLevel(level)


def test_a_stopped_server_leaves_no_database_connection_open(own_database: str) -> None:
    """Shutdown waits for a dataset check under way before disposing of the engine: a check that
    outlived it opened a connection nothing would close (a PostgreSQL run in 16 warned of one)."""
    if not own_database.startswith("postgresql"):
        pytest.skip("counts the server's connections in pg_stat_activity")
    # Checking all the time, so that a shutdown likely finds a check under way; three times.
    for _ in range(3):
        with LiveServer(Settings(database_url=own_database, reload_check_seconds=0)):
            time.sleep(0.3)
        gc.collect()
        assert open_connections(own_database) == 0


def open_connections(url: str) -> int:
    name = make_url(url).database
    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False)) as c:
        row = c.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    assert row is not None
    return int(row[0])

"""Small leaks in the contract, closed: repeated and loosely written parameters, accents, the
Host header, stored markup in search snippets. On SQLite and on PostgreSQL alike."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from app.cli import migrate_and_seed
from app.settings import Settings
from tests.conftest import LiveServer
from tests.test_http import assert_problem


@pytest.mark.parametrize(
    "query",
    ["q=baclofen&q=pump", "q=pump&limit=5&limit=6", "q=pump&offset=0&offset=0"],
)
def test_a_repeated_parameter_is_a_422_naming_it(client: httpx.Client, query: str) -> None:
    body = assert_problem(client.get(f"/v1/search?{query}"), 422)
    assert "given more than once" in body["detail"]
    repeated = query.split("&")[-1].split("=")[0]
    assert any(e["location"] == f"query.{repeated}" for e in body["errors"]), body


def test_a_repeated_filter_on_a_section_list_is_a_422(client: httpx.Client) -> None:
    url = "/v1/drugs/baclofen/indications?status=primary&status=off_label"
    assert "given more than once" in assert_problem(client.get(url), 422)["detail"]


@pytest.mark.parametrize("limit", ["5.0", "+5", "1_0", " 5", "5e0", "0x5", "-5"])
@pytest.mark.parametrize("path", ["/v1/search", "/v1/drugs", "/v1/drugs/baclofen/routes"])
def test_integers_are_plain_integers(client: httpx.Client, path: str, limit: str) -> None:
    params = {"limit": limit, **({"q": "pump"} if path == "/v1/search" else {})}
    body = assert_problem(client.get(path, params=params), 422)
    assert [e["location"] for e in body["errors"]] == ["query.limit"], body


def test_a_plain_integer_is_taken(client: httpx.Client) -> None:
    response = client.get("/v1/drugs/baclofen/routes", params={"limit": "5"})
    assert response.status_code == 200, response.text
    assert response.json()["limit"] == 5


def test_accents_are_folded_alike_on_both_backends(client: httpx.Client) -> None:
    plain = client.get("/v1/search", params={"q": "baclofen spasticity"}).json()
    accented = client.get("/v1/search", params={"q": "baclofén spastícity"}).json()
    assert plain["total"] > 0
    assert accented["terms"] == ["baclofen", "spasticity"]
    assert [hit["id"] for hit in accented["items"]] == [hit["id"] for hit in plain["items"]]


def test_a_trailing_slash_is_not_redirected_to_the_host_the_client_names(
    client: httpx.Client,
) -> None:
    response = client.get("/v1/drugs/", headers={"Host": "evil.example"})
    assert "location" not in response.headers
    body = assert_problem(response, 404)
    assert "evil.example" not in response.text
    assert body["instance"] == "/v1/drugs/"


def test_no_server_header(client: httpx.Client) -> None:
    assert "server" not in client.get("/v1/drugs").headers


# The real seed no longer holds an ampersand in any indexed text (the "Probes & Drugs" quote gave
# way to the page that states the year), so markup and an ampersand are put into a seed copy.
INJECTED = '<img src=x onerror="alert(1)"> Quivering & <script>x</script>'


@pytest.fixture
def seed_with_markup(seed_dir: Path, tmp_path: Path) -> Path:
    """A seed copy whose first overdose fact's note holds markup and a word found nowhere else."""
    seed = tmp_path / "seed"
    shutil.copytree(seed_dir, seed)
    path = seed / "drugs/baclofen/overdose.yaml"
    facts = yaml.safe_load(path.read_text(encoding="utf-8"))
    facts[0]["note"] = INJECTED
    facts[0]["label"] = f"Label {INJECTED}"
    path.write_text(yaml.safe_dump(facts, allow_unicode=True, sort_keys=False), "utf-8")
    return seed


@pytest.fixture
def markup_server(fresh_database_url: str, seed_with_markup: Path) -> Iterator[LiveServer]:
    migrate_and_seed(fresh_database_url, seed_with_markup, force=True)
    settings = Settings(database_url=fresh_database_url, seed_dir=seed_with_markup)
    with LiveServer(settings) as server:
        yield server


def test_stored_markup_comes_back_escaped_around_the_mark_tags(
    markup_server: LiveServer, backend: str
) -> None:
    response = httpx.get(f"{markup_server.url}/v1/search", params={"q": "quivering"})
    hits = response.json()["items"]
    assert len(hits) == 1, hits
    snippet = hits[0]["snippet"]
    assert "<mark>Quivering</mark> &amp;" in snippet
    text = snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in text and ">" not in text and '"' not in text, snippet
    if backend == "sqlite":  # FTS5 keeps the text whole; ts_headline drops what looks like tags
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in snippet
        assert "&lt;script&gt;" in snippet
    # The record keeps the text as curated: escaping is the snippet's, an HTML fragment.
    assert hits[0]["record"]["note"] == INJECTED


def test_a_503_while_no_dataset_is_served_says_when_to_retry(
    prepared_database: str, seed_dir: Path
) -> None:
    settings = Settings(database_url=prepared_database, seed_dir=seed_dir, reload_check_seconds=60)
    with LiveServer(settings) as server:
        server.app.state.store.catalog = None  # as between start-up and the first snapshot
        response = httpx.get(f"{server.url}/v1/drugs")
    body = assert_problem(response, 503)
    assert response.headers["retry-after"] == "1"
    assert "Error" not in body["detail"]

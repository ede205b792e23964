"""The fast reads (app/api/fast_reads.py) answer exactly as FastAPI does: two servers on one
database, one with MONOGRAPH_FAST_READS off, asked the same thousands of URLs, valid and not, must
give the same status, headers and bytes; and the fast one must really answer them itself."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import QueryParams
from starlette.types import Receive, Scope, Send

from app.api.fast_reads import FastReadsMiddleware, hot_paths, query_pairs
from app.api.routes import drugs
from app.api.routes import search as search_routes
from app.cli import migrate_and_seed
from app.domain.sections import Section
from app.settings import Settings
from tests.conftest import LiveServer
from tests.test_search_two_drugs import write_second_drug

# Headers that differ per request or per process, whichever path answers.
PER_REQUEST = {"date", "x-request-id", "server"}
SECTIONS = [section.value for section in Section]
# Valid and invalid values of every kind of parameter the hot routes take.
PAGING = ["", "limit=1", "limit=3&offset=2", "offset=7", "limit=200", "limit=0", "limit=201"]
PAGING += ["limit=abc", "limit=5.0", "limit=+5", "limit=", "offset=-1", "limit=1&limit=2"]
SORTS = ["sort=label", "sort=-label", "sort=id", "sort=-id", "sort=position", "sort=nope"]
FILTERS = ["status=primary", "route=intrathecal", "route=oral", "frequency=common"]
FILTERS += ["seriousness=fatal", "absent=true", "absent=false", "absent=maybe", "topic=target"]
FILTERS += ["action=agonist", "name_kind=brand", "context=withdrawal", "population=pregnancy"]
FILTERS += ["outcome=positive", "section=overdose", "section=nope", "stauts=primary", "q=x"]
DRUG_NAMES = ["baclofen", "Baclofen", "LIORESAL", "lioresal", "Lioresal%C2%AE", "lioresl", "zzz"]
DRUG_NAMES += ["%20", "x" * 201, "baclofen%2Fx", "Kemstro", "gablofen"]
QUERIES = ["hallucination", "hallu", "intrathecal pump", "the", "", "%22", "a" * 201, "pump*"]
QUERIES += ["withdrawal", "seizures"]
SEARCH_EXTRAS = ["", "&limit=1", "&offset=3", "&sort=label", "&sort=-label", "&sort=position"]
SEARCH_EXTRAS += ["&section=routes", "&section=nope", "&drug=baclofen", "&drug=Lioresal"]
SEARCH_EXTRAS += ["&drug=zzz", "&limit=101", "&bogus=1", "&q=again"]
LOOKUPS = ["baclofen", "BACLOFEN", "lioresl", "Lioresal", "zzzz", "", "%20%20", "b" * 201]
LOOKUPS += ["liorsal", "lyflex", "ozobax"]


def section_urls(drug: str = "baclofen") -> Iterator[str]:
    for section in [*SECTIONS, "facts"]:
        for query in itertools.chain(PAGING, SORTS, FILTERS):
            yield f"/v1/drugs/{drug}/{section}?{query}" if query else f"/v1/drugs/{drug}/{section}"
        yield f"/v1/drugs/{drug}/{section}?status=primary&limit=2&sort=-label"


def drug_urls() -> Iterator[str]:
    for name in DRUG_NAMES:
        for section in ("indications", "names", "facts", "facets", "indications/facets"):
            yield f"/v1/drugs/{name}/{section}?limit=2"


def search_urls() -> Iterator[str]:
    for q in QUERIES:
        for extra in SEARCH_EXTRAS:
            yield f"/v1/search?q={q}{extra}"
    yield "/v1/search"
    yield "/v1/search?limit=2"


def lookup_urls() -> Iterator[str]:
    yield from (f"/v1/lookup?name={name}" for name in LOOKUPS)
    yield from ("/v1/lookup", "/v1/lookup?name=a&name=b", "/v1/lookup?name=baclofen&x=1")


def urls() -> list[str]:
    return [*section_urls(), *drug_urls(), *search_urls(), *lookup_urls()]


def comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in PER_REQUEST]
    return response.status_code, headers, response.content


@pytest.fixture(scope="module")
def both_paths(prepared_database: str, seed_dir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    yield from _servers(prepared_database, seed_dir)


def _servers(database_url: str, seed_dir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    fast = Settings(database_url=database_url, seed_dir=seed_dir, fast_reads=True)
    plain = Settings(database_url=database_url, seed_dir=seed_dir, fast_reads=False)
    with LiveServer(fast) as fast_server, LiveServer(plain) as plain_server:
        yield fast_server, plain_server


def assert_same_answers(servers: tuple[LiveServer, LiveServer], paths: list[str]) -> None:
    fast, plain = servers
    asked = [{}, {"accept-encoding": "gzip"}]
    with httpx.Client(base_url=fast.url) as f, httpx.Client(base_url=plain.url) as p:
        for path, headers in itertools.product(paths, asked):
            # Twice: the first answer is computed, the second replayed from the response cache.
            for _ in range(2):
                expected = p.get(path, headers=headers)
                got = f.get(path, headers=headers)
                assert comparable(got) == comparable(expected), path
            etag = expected.headers.get("etag")
            if etag:
                revalidate = {**headers, "if-none-match": etag}
                assert comparable(f.get(path, headers=revalidate)) == comparable(
                    p.get(path, headers=revalidate)
                ), path


def test_every_hot_url_answers_as_fastapi_does(both_paths: tuple[LiveServer, LiveServer]) -> None:
    assert_same_answers(both_paths, urls())


def test_a_name_two_drugs_share_is_the_same_422_either_way(
    fresh_database_url: str, seed_dir: Path, tmp_path: Path
) -> None:
    seed = tmp_path / "seed"
    shutil.copytree(seed_dir, seed)
    write_second_drug(seed)
    migrate_and_seed(fresh_database_url, seed, force=True)
    paths = [
        "/v1/drugs/Lioresal/names",
        "/v1/drugs/baclofan/withdrawal-symptoms?sort=label&limit=3",
        f"/v1/search?q=tremor&drug={quote('Lioresal')}",
        "/v1/search?q=quivering&sort=label",
        "/v1/lookup?name=Lioresal",
        "/v1/lookup?name=baclofen",
        "/v1/lookup?name=baclofin",
    ]
    for servers in _servers(fresh_database_url, seed):
        assert_same_answers(servers, paths)
        assert httpx.get(servers[0].url + paths[0]).status_code == 422


def test_the_fast_path_answers_the_hot_routes_itself(
    both_paths: tuple[LiveServer, LiveServer],
) -> None:
    """Without this, a fast path that always deferred to FastAPI would pass the test above."""
    fast, _ = both_paths
    middleware = fast.app.middleware_stack
    while middleware is not None and not isinstance(middleware, FastReadsMiddleware):
        middleware = getattr(middleware, "app", None)
    assert isinstance(middleware, FastReadsMiddleware)
    answered = 0
    original = middleware.app

    async def fastapi_must_not_answer(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError(f"FastAPI was asked for {scope['path']}")

    middleware.app = fastapi_must_not_answer
    try:
        with httpx.Client(base_url=fast.url) as client:
            for path in [
                "/v1/drugs/baclofen/indications?route=intrathecal&limit=3&offset=1",
                "/v1/drugs/Lioresal/adverse-effects?sort=-label",
                "/v1/drugs/baclofen/facts?section=overdose",
                "/v1/search?q=hallucination&limit=2",
                "/v1/lookup?name=lioresall",
                "/v1/lookup?name=zzzzq",  # a 404 the endpoint raises, rendered here
            ]:
                response = client.get(path)
                assert response.status_code in (200, 404), (path, response.text)
                answered += 1
    finally:
        middleware.app = original
    assert answered == 6


def test_the_hot_paths_are_routes_of_the_api() -> None:
    templates = {
        getattr(route, "path", None)
        for route in [*drugs.router.routes, *search_routes.router.routes]
    }
    assert hot_paths() <= templates


# Query strings as clients send them, and as they should not: separators doubled or missing,
# names without values, escapes (valid, broken, of UTF-8 and not), plus signs, raw non-ASCII.
QUERY_BYTES = st.lists(
    st.sampled_from(
        [
            b"q",
            b"limit",
            b"=",
            b"&",
            b"&&",
            b"x",
            b"1",
            b"%20",
            b"%2",
            b"%zz",
            b"%C3%A9",
            b"+",
            b"\xc3\xa9",
            b"\xff",
            b";",
            b"a=b=c",
            b" ",
        ]
    ),
    max_size=12,
).map(b"".join)


@given(QUERY_BYTES)
@settings(max_examples=2000, deadline=None)
def test_query_pairs_are_those_starlette_reads(query: bytes) -> None:
    """The fast reads see the very parameters FastAPI would: Starlette's QueryParams."""
    assert query_pairs(query) == QueryParams(query).multi_items()

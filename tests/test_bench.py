"""The benchmark's own parts: reading wrk's report, and the ceiling serving the bytes it is given.

No timing is asserted here (speed is the benchmark's business: `bash bench/run`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.api.response_cache import CACHE_MAX_ENTRIES
from app.domain.sections import Section
from app.formats.export import ExportFormat
from bench import ceiling, workloads
from bench.servers import rss_mb
from bench.wrk import WrkOutputError, parse_wrk_output
from tests.conftest import LiveServer, free_port

WRK_SAMPLES = Path(__file__).parent / "data" / "wrk"


def sample(name: str) -> str:
    return (WRK_SAMPLES / name).read_text()


def test_wrk_report_in_milliseconds() -> None:
    result = parse_wrk_output(sample("service-milliseconds.txt"))
    assert result.requests == 4234
    assert result.seconds == pytest.approx(5.0)
    assert result.rps == pytest.approx(846.09)
    assert result.p50_ms == pytest.approx(70.05)
    assert result.p75_ms == pytest.approx(80.80)
    assert result.p90_ms == pytest.approx(95.78)
    assert result.p99_ms == pytest.approx(207.69)
    assert (result.non_2xx_3xx, result.socket_errors) == (0, 0)


def test_wrk_microseconds_are_converted_to_milliseconds() -> None:
    result = parse_wrk_output(sample("ceiling-microseconds.txt"))
    assert result.p50_ms == pytest.approx(0.094)
    assert result.p75_ms == pytest.approx(0.154)
    assert result.p90_ms == pytest.approx(2.56)
    assert result.p99_ms == pytest.approx(12.71)
    assert result.rps == pytest.approx(7111.21)


def test_wrk_failures_are_counted() -> None:
    assert parse_wrk_output(sample("non-2xx.txt")).non_2xx_3xx == 1000
    errors = parse_wrk_output(sample("socket-errors.txt"))
    assert errors.socket_errors == 14872
    assert errors.seconds == pytest.approx(1.10)


def test_a_report_without_latency_distribution_is_refused() -> None:
    text = sample("service-milliseconds.txt")
    without = "\n".join(line for line in text.splitlines() if "%  " not in line)
    with pytest.raises(WrkOutputError, match="--latency"):
        parse_wrk_output(without)


CANNED = {
    "/v1/drugs/baclofen": ceiling.Canned(
        b'{"slug":"baclofen"}', {"content-type": "application/json", "etag": '"abc"'}
    ),
    "/v1/search?q=withdrawal": ceiling.Canned(b'{"items":[1]}', {"content-type": "text/x-a"}),
    "/v1/search?q=pump": ceiling.Canned(b'{"items":[2]}', {"content-type": "text/x-b"}),
}


@pytest.fixture(scope="module")
def ceiling_url() -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        ceiling.make_app(CANNED), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the ceiling did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.parametrize("url", list(CANNED))
def test_the_ceiling_serves_the_bytes_it_is_given(ceiling_url: str, url: str) -> None:
    response = httpx.get(ceiling_url + url)
    assert response.status_code == 200, response.text
    assert response.content == CANNED[url].body
    for name, value in CANNED[url].headers.items():
        assert response.headers[name] == value


def test_the_ceiling_knows_only_its_urls(ceiling_url: str) -> None:
    assert httpx.get(ceiling_url + "/v1/search?q=other").status_code == 404
    assert httpx.get(ceiling_url + "/v1/elsewhere").status_code == 404


def test_canned_responses_survive_the_file_between_processes(tmp_path: Path) -> None:
    binary = {"/b": ceiling.Canned(bytes(range(256)), {"etag": '"x"'})}
    ceiling.save(binary, tmp_path / "canned.json")
    assert ceiling.load(tmp_path / "canned.json") == binary


def test_resident_memory_is_read_from_proc() -> None:
    assert 1 < rss_mb(os.getpid()) < 10_000


def test_search_queries_are_distinct_runs_of_the_texts_words() -> None:
    queries = workloads.search_queries(
        "Baclofen treats spasticity. Baclofen, at night: spasticity!"
    )
    assert queries[:4] == ["baclofen", "treats", "spasticity", "night"]
    assert "baclofen treats" in queries and "baclofen treats spasticity" in queries
    assert len(queries) == len(set(queries))


def test_name_variants_keep_the_name_and_make_one_typo_each() -> None:
    variants = workloads.name_variants("Lioresal")
    # Cases; a letter dropped, doubled, replaced; two swapped.
    expected = {"Lioresal", "lioresal", "LIORESAL", "Loresal", "Liioresal", "Liaresal", "iLoresal"}
    assert expected <= set(variants)
    assert "Lroesail" not in variants  # two edits
    assert all(abs(len(v) - len("Lioresal")) <= 1 for v in variants)


def test_the_lua_script_cycles_through_the_listed_urls(tmp_path: Path) -> None:
    script = workloads.Workload("a row, uncached", ["/a?x=1", "/b"]).script(tmp_path)
    listed = (tmp_path / "a-row-uncached.urls").read_text().splitlines()
    assert listed == ["/a?x=1", "/b"]
    assert f'io.lines("{tmp_path / "a-row-uncached.urls"}")' in script.read_text()
    assert "next_path % #paths + 1" in script.read_text()


def test_the_fhir_row_reads_and_searches_more_resources_than_a_worker_keeps(
    live_server: LiveServer,
) -> None:
    urls = workloads.fhir(live_server.url, "baclofen").urls
    assert len(urls) == len(set(urls)) > CACHE_MAX_ENTRIES
    base = workloads.FHIR_BASE
    for kind in (
        f"{base}/MedicationKnowledge/",
        f"{base}/ClinicalUseDefinition/",
        f"{base}/ClinicalUseDefinition?type=",
        f"{base}/MedicationKnowledge?name=",
        f"{base}/MedicationKnowledge?code=",
    ):
        assert any(url.startswith(kind) for url in urls), kind


def test_the_export_row_asks_for_every_format_whole_and_by_section(
    live_server: LiveServer,
) -> None:
    urls = workloads.export(live_server.url, "baclofen").urls
    assert len(set(urls)) == len(ExportFormat) * (len(Section) + 1)

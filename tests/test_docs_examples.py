"""Every `$ curl` example in README.md and docs/ runs against the live service, and what it shows
is what the service answers. The syntax for the parts an example leaves out or that vary is in
docs/README.md ("Examples that cannot drift").

A ```console block holds commands (`$ ...`) each followed by its output. Only curl commands run,
as written (one command, no pipes), with http://127.0.0.1:8000 pointed at the test server.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.settings import PROJECT_ROOT
from tests.conftest import LiveServer

DOCUMENTED_HOST = "http://127.0.0.1:8000"
ELLIPSIS = "…"
VARIES = "<varies>"
DOCUMENTS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
_CONSOLE_BLOCK = re.compile(r"^```console\n(.*?)^```", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class Example:
    document: str
    line: int
    command: str
    shown: str

    def __str__(self) -> str:
        return f"{self.document}:{self.line}: $ {self.command}"


def examples_in(path: Path) -> list[Example]:
    text = path.read_text(encoding="utf-8")
    found: list[Example] = []
    for block in _CONSOLE_BLOCK.finditer(text):
        first_line = text.count("\n", 0, block.start(1)) + 1
        command: str | None = None
        output: list[str] = []
        start = 0
        for offset, line in enumerate([*block.group(1).splitlines(), "$ "]):
            if line.startswith("$ "):
                if command is not None and command.startswith("curl "):
                    name = str(path.relative_to(PROJECT_ROOT))
                    found.append(Example(name, start, command, "\n".join(output)))
                command, output, start = line[2:].strip(), [], first_line + offset
            else:
                output.append(line)
    return found


ALL_EXAMPLES = [example for document in DOCUMENTS for example in examples_in(document)]


def test_the_readme_is_short() -> None:
    assert (PROJECT_ROOT / "README.md").stat().st_size <= 15_000, "move details to docs/"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_the_relative_links_lead_somewhere(document: Path) -> None:
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", document.read_text(encoding="utf-8"))
    broken = [link for link in links if not (document.parent / link).exists()]
    assert not broken


def test_the_documents_have_curl_examples() -> None:
    assert len(ALL_EXAMPLES) >= 10
    assert any(e.document == "README.md" for e in ALL_EXAMPLES)


@pytest.mark.parametrize("example", ALL_EXAMPLES, ids=str)
def test_the_example_shows_what_the_service_answers(
    example: Example, live_server: LiveServer, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the examples show the SQLite answers (search scores differ on PostgreSQL)")
    curl = shutil.which("curl")
    assert curl, "curl is needed to run the documented examples"
    argv = shlex.split(example.command, comments=True)
    assert not {"|", ">", "&&", ";"} & set(argv), f"{example}: one command, no pipes"
    argv = [curl, *(arg.replace(DOCUMENTED_HOST, live_server.url) for arg in argv[1:])]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, f"{example}: {run.stderr}"
    mismatches = compare_output(example.shown, run.stdout.replace("\r\n", "\n"))
    assert not mismatches, f"{example}\n" + "\n".join(mismatches) + f"\nreal:\n{run.stdout}"


def compare_output(shown: str, real: str) -> list[str]:
    shown = shown.strip("\n")
    if shown.startswith("HTTP/"):
        shown_head, _, shown_body = shown.partition("\n\n")
        real_head, _, real_body = real.partition("\n\n")
        return compare_headers(shown_head, real_head) + compare_body(shown_body, real_body)
    return compare_body(shown, real)


def compare_headers(shown: str, real: str) -> list[str]:
    shown_status, *shown_lines = shown.splitlines()
    real_status, *real_lines = real.strip().splitlines()
    problems = (
        [] if shown_status == real_status else [f"status {real_status!r}, not {shown_status!r}"]
    )
    real_headers = dict(_header(line) for line in real_lines)
    shown_headers = dict(_header(line) for line in shown_lines if line.strip() != ELLIPSIS)
    for name, value in shown_headers.items():
        if name not in real_headers:
            problems.append(f"no {name} header")
        elif value != VARIES and real_headers[name] != value:
            problems.append(f"{name}: {real_headers[name]!r}, not {value!r}")
    if ELLIPSIS not in (line.strip() for line in shown_lines):
        extra = sorted(real_headers.keys() - shown_headers.keys())
        if extra:
            problems.append(f"headers not shown (end the list with … to allow them): {extra}")
    return problems


def _header(line: str) -> tuple[str, str]:
    name, _, value = line.partition(":")
    return name.strip().lower(), value.strip()


def compare_body(shown: str, real: str) -> list[str]:
    shown, real = shown.strip(), real.strip()
    if not shown:
        return [] if not real else ["a body the example does not show"]
    if shown[0] in "[{":
        try:
            actual = json.loads(real)
        except ValueError:
            return [f"the example shows JSON, the service answered {real[:200]!r}"]
        return match(json.loads(shown), actual, "$")
    return [] if shown == real else [f"body {real[:300]!r}, not {shown[:300]!r}"]


def match(shown: Any, actual: Any, where: str) -> list[str]:
    """Where `shown` differs from `actual`, honouring the elisions of docs/README.md."""
    if shown in (VARIES, ELLIPSIS):
        return []
    if isinstance(shown, str) and shown.endswith(ELLIPSIS) and len(shown) > 1:
        prefix = shown[: -len(ELLIPSIS)]
        ok = isinstance(actual, str) and actual.startswith(prefix)
        return [] if ok else [f"{where}: {actual!r} does not start with {prefix!r}"]
    if isinstance(shown, dict):
        if not isinstance(actual, dict):
            return [f"{where}: {actual!r} is not an object"]
        keys = [key for key in shown if key != ELLIPSIS]
        problems = [f"{where}: no key {key!r}" for key in keys if key not in actual]
        if ELLIPSIS not in shown and actual.keys() - set(keys):
            problems.append(f"{where}: keys not shown: {sorted(actual.keys() - set(keys))}")
        for key in keys:
            if key in actual:
                problems += match(shown[key], actual[key], f"{where}.{key}")
        return problems
    if isinstance(shown, list):
        if not isinstance(actual, list):
            return [f"{where}: {actual!r} is not an array"]
        more = bool(shown) and shown[-1] == ELLIPSIS
        head = shown[:-1] if more else shown
        if len(actual) < len(head) or (not more and len(actual) != len(head)):
            return [f"{where}: {len(actual)} items, the example shows {len(head)}"]
        return [p for i, item in enumerate(head) for p in match(item, actual[i], f"{where}[{i}]")]
    return [] if shown == actual else [f"{where}: {actual!r}, not {shown!r}"]


@pytest.mark.parametrize(
    ("shown", "actual", "agrees"),
    [
        ({"a": 1, "…": "…"}, {"a": 1, "b": 2}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ([1, "…"], [1, 2, 3], True),
        ([1, 2], [1, 2, 3], False),
        ({"id": "<varies>"}, {"id": "x"}, True),
        ({"note": "Baclofen is…"}, {"note": "Baclofen is a drug."}, True),
        ({"note": "Baclofen was…"}, {"note": "Baclofen is a drug."}, False),
        ({"n": 1}, {"n": 2}, False),
        ({"id": "…"}, {"id": "anything"}, True),
        ({"id": "…"}, {"ID": "anything"}, False),
    ],
)
def test_the_comparison_honours_elisions_and_nothing_else(
    shown: Any, actual: Any, agrees: bool
) -> None:
    assert (not match(shown, actual, "$")) is agrees

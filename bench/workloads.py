"""Uncached workloads: many distinct URLs a row, more than a worker's response cache holds.

wrk sends them in a fixed cyclic order (a Lua script reads them from a file), so a least-recently
used cache smaller than the list never hits: every request is routed, validated, computed and
serialised. Each row's ceiling serves the same URLs with the service's own bytes.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import quote

from app.api.response_cache import CACHE_MAX_ENTRIES
from app.api.routes.fhir import router as fhir_routes
from app.domain.sections import Section
from app.formats.export import ExportFormat

SEARCH_QUERIES = 20_000
LIST_LIMITS = range(1, 151)
LIST_OFFSETS = range(40)
MAX_LOOKUPS = 8000  # names tried (each asked once, to keep those that resolve)

LUA_SCRIPT = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local next_path = 0
request = function()
  next_path = next_path %% #paths + 1
  return wrk.format(nil, paths[next_path])
end
"""


@dataclass(frozen=True)
class Workload:
    name: str
    urls: list[str]

    def script(self, folder: Path) -> Path:
        """The URL list and the Lua script that cycles through it, written to `folder`."""
        slug = re.sub(r"\W+", "-", self.name).strip("-")
        listed = folder / f"{slug}.urls"
        listed.write_text("\n".join(self.urls) + "\n")
        script = folder / f"{slug}.lua"
        script.write_text(LUA_SCRIPT % listed)
        return script


def _shuffled(urls: list[str]) -> list[str]:
    unique = list(dict.fromkeys(urls))
    random.Random(15).shuffle(unique)
    return unique


def search_queries(text: str, count: int = SEARCH_QUERIES) -> list[str]:
    """Distinct queries of the source's own words: each word, each run of two and of three."""
    words = [w.lower() for w in re.findall(r"[A-Za-z]{3,}", text)]
    runs = [
        *words,
        *map(" ".join, pairwise(words)),
        *map(" ".join, zip(words, words[1:], words[2:], strict=False)),
    ]
    return list(dict.fromkeys(runs))[:count]


def search(base_url: str, drug: str) -> Workload:
    """Queries made of the words of the drug's source text, at page sizes 1 to 20 if that is what
    it takes to reach SEARCH_QUERIES distinct URLs."""
    source = _get_json(f"{base_url}/v1/drugs/{drug}")["source"]
    text = _get_json(f"{base_url}/v1/sources/{source}")["text"]
    queries = [quote(q) for q in search_queries(text)]
    urls = [f"/v1/search?q={q}" for q in queries]
    for limit in range(1, 21):
        urls += [f"/v1/search?q={q}&limit={limit}" for q in queries]
    return Workload("search, uncached", _shuffled(urls[:SEARCH_QUERIES]))


def section_lists(base_url: str, drug: str) -> Workload:
    """Every section list of the drug at every limit and offset of the ranges above."""
    summary = _get_json(f"{base_url}/v1/drugs/{drug}")
    hrefs = [link["href"] for link in summary["sections"]]
    urls = [
        f"{href}?limit={limit}&offset={offset}"
        for href in hrefs
        for limit in LIST_LIMITS
        for offset in LIST_OFFSETS
    ]
    return Workload("section lists, uncached", _shuffled(urls))


def name_variants(name: str) -> list[str]:
    """The name as typed in other letter cases and with one typo (a letter dropped, doubled,
    replaced or two swapped): most close enough to resolve (app.search.lookup's fuzzy threshold)."""
    variants = [name, name.lower(), name.upper(), name.title()]
    for i in range(len(name)):
        variants.append(name[:i] + name[i + 1 :])
        variants.append(name[:i] + name[i] + name[i:])
        variants += [name[:i] + letter + name[i + 1 :] for letter in "aeiourstln"]
        if i + 1 < len(name):
            variants.append(name[:i] + name[i + 1] + name[i] + name[i + 2 :])
    return [v for v in variants if v.strip()]


def lookup(base_url: str, drug: str) -> Workload:
    """Each of the drug's names with its variants; those that do not resolve are left out."""
    summary = _get_json(f"{base_url}/v1/drugs/{drug}")
    names = [summary["slug"], summary["name"], *summary["names"]]
    candidates = _shuffled(
        [f"/v1/lookup?name={quote(variant)}" for name in names for variant in name_variants(name)]
    )
    urls = [url for url in candidates[:MAX_LOOKUPS] if _status(base_url + url) == 200]
    if len(urls) <= CACHE_MAX_ENTRIES:
        raise RuntimeError(f"only {len(urls)} names resolve: the cache would hold them all")
    return Workload("lookup, uncached", urls)


FHIR_BASE = fhir_routes.prefix  # /fhir/R5, where the FHIR router is mounted


def fhir(base_url: str, drug: str) -> Workload:
    """What a FHIR client asks for: every resource read by id, ClinicalUseDefinition searched by
    every combination of types (for any medication or this one), MedicationKnowledge searched by
    every prefix of every name (as written, lower- and upper-case), by pairs of names and of their
    first three letters, and by every code (with its system or without), alone and with a name.
    Built from the server's own FHIR answers; only URLs answered with a 200 are kept."""
    medications = _resources(base_url, "MedicationKnowledge")
    uses = _resources(base_url, "ClinicalUseDefinition")
    names = sorted({n for m in medications for n in [m["id"], *m.get("name", [])]})
    codes = [
        form
        for m in medications
        for coding in m["code"]["coding"]
        for form in (coding["code"], f"{coding['system']}|{coding['code']}")
    ]
    types = sorted({use["type"] for use in uses})
    subjects = [
        "",
        *(
            f"&subject={s}"
            for m in medications
            for s in (m["id"], f"MedicationKnowledge/{m['id']}")
        ),
    ]
    name_searches = {
        prefix
        for name in names
        for written in (name, name.lower(), name.upper())
        for prefix in (written[:end] for end in range(1, len(written) + 1))
    }
    name_searches |= {f"{a},{b}" for a in names for b in names if a != b}
    name_searches |= {f"{a[:3]},{b[:3]}" for a in names for b in names if a[:3] != b[:3]}
    urls = [
        f"{FHIR_BASE}/metadata",
        *(f"{FHIR_BASE}/MedicationKnowledge/{m['id']}" for m in medications),
        *(f"{FHIR_BASE}/ClinicalUseDefinition/{use['id']}" for use in uses),
        *(
            f"{FHIR_BASE}/ClinicalUseDefinition?type={','.join(chosen)}{subject}"
            for size in range(1, len(types) + 1)
            for chosen in itertools.combinations(types, size)
            for subject in subjects
        ),
        *(f"{FHIR_BASE}/MedicationKnowledge?name={quote(n)}" for n in sorted(name_searches)),
        *(f"{FHIR_BASE}/MedicationKnowledge?code={quote(c)}" for c in codes),
        *(
            f"{FHIR_BASE}/MedicationKnowledge?code={quote(c)}&name={quote(n)}"
            for c in codes
            for n in names
        ),
    ]
    kept = [url for url in _shuffled(urls) if _status(base_url + url) == 200]
    if len(kept) <= CACHE_MAX_ENTRIES:
        raise RuntimeError(f"only {len(kept)} FHIR URLs answer: the cache would hold them all")
    return Workload("FHIR, uncached", kept)


def _resources(base_url: str, resource_type: str) -> list[dict[str, Any]]:
    bundle = _get_json(f"{base_url}{FHIR_BASE}/{resource_type}")
    return [entry["resource"] for entry in bundle.get("entry", [])]


def export(base_url: str, drug: str) -> Workload:
    """The export in every format, whole and of each section. Fewer URLs than a worker's cache
    holds, but every request is uncached: the export is streamed, and the response cache keeps
    only responses sent in one piece."""
    urls = [
        f"/v1/export?format={form.value}{section}"
        for form in ExportFormat
        for section in ["", *(f"&section={s.value}" for s in Section)]
    ]
    return Workload("export, uncached", [url for url in urls if _status(base_url + url) == 200])


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def _get_json(url: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(_get(url))
    return found


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code

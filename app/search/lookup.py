"""Resolving a drug from a name someone typed: exact, alias, normalised, then fuzzy; never a guess.

The stages run in order and the first that matches anything answers:

- `exact`: the drug's slug or display name, ignoring letter case ("baclofen", "Baclofen");
- `alias`: another of its names (nonproprietary, brand, synonym), ignoring letter case ("LIORESAL");
- `normalized`: equal after app.domain.names.normalize_name ("Lioresal®", "lio-resal");
- `fuzzy`: the closest normalised name by Damerau-Levenshtein similarity
  (1 - edits / length of the longer name), when at least FUZZY_THRESHOLD: one typo in a name of
  four letters or more ("lioresl" -> "lioresal", 0.875), two in a name of eight or more.

When the best matches of a stage belong to different drugs, the answer is `ambiguous` with the
candidates, not a choice. Nothing found: no match, with suggestions when some name is close.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from rapidfuzz.distance import DamerauLevenshtein

from app.domain.names import normalize_name

FUZZY_THRESHOLD = 0.75
SUGGESTION_THRESHOLD = 0.5
MAX_SUGGESTIONS = 5

# Which of a drug's names to report when several match equally.
KIND_PRIORITY = ("name", "slug", "nonproprietary", "brand", "synonym")


class MatchType(StrEnum):
    exact = "exact"
    alias = "alias"
    normalized = "normalized"
    fuzzy = "fuzzy"


@dataclass(frozen=True)
class KnownName:
    """One name a drug answers to."""

    slug: str
    name: str
    kind: str

    # Cached: every lookup compares the query with every name, and a name lives as long as its
    # catalog snapshot (cached_property writes the instance's __dict__, which frozen allows).
    @cached_property
    def normalized(self) -> str:
        return normalize_name(self.name)

    @cached_property
    def folded(self) -> str:
        return self.name.casefold()

    @cached_property
    def priority(self) -> int:
        return KIND_PRIORITY.index(self.kind) if self.kind in KIND_PRIORITY else len(KIND_PRIORITY)


class NameIndex:
    """Every name the drugs answer to, found by its letter-case-folded and its normalised
    spelling in one dictionary read each: the exact stages never scan every name, which a
    catalog of many drugs would make the cost of each request naming a drug."""

    def __init__(self, names: Iterable[KnownName] = ()):
        self.names = list(names)
        self.by_folded: dict[str, list[KnownName]] = {}
        self.by_normalized: dict[str, list[KnownName]] = {}
        for name in self.names:  # in order: each list keeps the order of the names
            self.by_folded.setdefault(name.folded, []).append(name)
            self.by_normalized.setdefault(name.normalized, []).append(name)


@dataclass(frozen=True)
class Candidate:
    name: KnownName
    score: float


@dataclass(frozen=True)
class Resolution:
    """The best candidate of each drug at the first stage that matched; one drug = resolved."""

    match_type: MatchType
    candidates: list[Candidate]

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


def resolve_name(index: NameIndex, query: str, *, fuzzy: bool = True) -> Resolution | None:
    """The first stage at which `query` matches some name; None if none does."""
    folded = query.strip().casefold()
    normalized = normalize_name(query)
    same_letters = index.by_folded.get(folded, [])
    stages = (
        (MatchType.exact, [n for n in same_letters if n.kind in ("slug", "name")]),
        (MatchType.alias, same_letters),
        (MatchType.normalized, index.by_normalized.get(normalized, [])),
    )
    for match_type, matched in stages:
        if matched:
            return Resolution(match_type, _best_per_drug([Candidate(n, 1.0) for n in matched]))
    if not fuzzy or not normalized:
        return None
    # Only the best-scored names matter (_best_per_drug orders them): no sort of every name.
    scores = [_similarity(normalized, n) for n in index.names]
    top = max(scores, default=0.0)
    if top < FUZZY_THRESHOLD:
        return None
    best = [
        Candidate(n, score)
        for n, score in zip(index.names, scores, strict=True)
        if math.isclose(score, top)
    ]
    return Resolution(MatchType.fuzzy, _best_per_drug(best))


@dataclass(frozen=True)
class Suggestion:
    """A drug that might be meant, with its names close to what was typed (best first)."""

    slug: str
    names: list[str]


def suggestions(index: NameIndex, query: str) -> list[Suggestion]:
    """Drugs that might be meant, each once: a name close in spelling, or starting with what was
    typed. Best first; each drug's matched names best first, each spelling once."""
    normalized = normalize_name(query)
    close = [
        c
        for c in _scored(index.names, normalized)
        if c.score >= SUGGESTION_THRESHOLD
        or (len(normalized) >= 3 and c.name.normalized.startswith(normalized))
    ]
    by_drug: dict[str, dict[str, str]] = {}
    for candidate in close:  # best first: the first name of a drug places it
        spellings = by_drug.setdefault(candidate.name.slug, {})
        spellings.setdefault(candidate.name.name.casefold(), candidate.name.name)
    return [
        Suggestion(slug, list(spellings.values()))
        for slug, spellings in list(by_drug.items())[:MAX_SUGGESTIONS]
    ]


def _scored(names: list[KnownName], normalized: str) -> list[Candidate]:
    """Every name with its similarity to `normalized`, best first (ties: kind, then name)."""
    if not normalized:
        return []
    scored = [Candidate(n, _similarity(normalized, n)) for n in names]
    return sorted(scored, key=lambda c: (-c.score, c.name.priority, c.name.name, c.name.slug))


def _similarity(normalized: str, name: KnownName) -> float:
    return round(DamerauLevenshtein.normalized_similarity(normalized, name.normalized), 4)


def _best_per_drug(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per drug (its highest-priority name), drugs in slug order."""
    best: dict[str, Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: (c.name.priority, c.name.name)):
        best.setdefault(candidate.name.slug, candidate)
    return [best[slug] for slug in sorted(best)]

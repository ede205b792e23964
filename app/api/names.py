"""Which drug a name means: one resolver for the drug path, the `drug=` filters and /v1/lookup.

A path or a filter takes exact, alias and normalised matches only (a typo must not silently
answer about some drug); /v1/lookup also forgives typos and reports how it matched. Everywhere, a
name several drugs share is the same 422 listing them, and a name no drug has is a 404 with the
drugs that might be meant and a link to /v1/lookup.
"""

from __future__ import annotations

from urllib.parse import urlencode

from app.catalog import Catalog, DrugEntry
from app.errors import AmbiguousNameError, NotFoundError
from app.schemas import DrugSuggestion, LookupCandidate, LookupDrug
from app.search.lookup import Candidate, Resolution, resolve_name, suggestions


def drug_named(catalog: Catalog, name: str) -> DrugEntry:
    """The one drug `name` means, typos not forgiven; else AmbiguousNameError or NotFoundError."""
    resolution = resolve(catalog, name, fuzzy=False)
    if resolution.ambiguous:
        slugs = ", ".join(c.name.slug for c in resolution.candidates)
        raise AmbiguousNameError(
            f"{name!r} names several drugs ({slugs}): name one of them by its slug.",
            candidates=[candidate(catalog, c).model_dump() for c in resolution.candidates],
            lookup=lookup_href(name),
        )
    return catalog.drugs[resolution.candidates[0].name.slug]


def resolve(catalog: Catalog, name: str, *, fuzzy: bool) -> Resolution:
    """What `name` matches (one drug, or several that tie); NotFoundError when nothing does."""
    resolution = resolve_name(catalog.names, name, fuzzy=fuzzy)
    if resolution is None:
        raise _unknown(catalog, name)
    return resolution


def candidate(catalog: Catalog, match: Candidate) -> LookupCandidate:
    slug = match.name.slug
    return LookupCandidate(
        drug=_drug(catalog, slug),
        matched_name=match.name.name,
        matched_kind=match.name.kind,
        score=match.score,
    )


def lookup_href(name: str) -> str:
    return "/v1/lookup?" + urlencode({"name": name})


def _drug(catalog: Catalog, slug: str) -> LookupDrug:
    return LookupDrug(slug=slug, name=catalog.drugs[slug].name, href=f"/v1/drugs/{slug}")


def _unknown(catalog: Catalog, name: str) -> NotFoundError:
    close = [
        DrugSuggestion(**_drug(catalog, s.slug).model_dump(), matched_names=s.names)
        for s in suggestions(catalog.names, name)
    ]
    hint = f" Did you mean {', '.join(_described(s) for s in close)}?" if close else ""
    return NotFoundError(
        f"No drug is named {name!r}.{hint} GET /v1/drugs lists the drugs served.",
        suggestions=[s.model_dump(mode="json") for s in close] or None,
        lookup=lookup_href(name),
    )


def _described(suggestion: DrugSuggestion) -> str:
    """ "Baclofen", or "Baclofen (Lioresal)" when another of its names was close."""
    others = [n for n in suggestion.matched_names if n.casefold() != suggestion.name.casefold()]
    return f"{suggestion.name} ({', '.join(others)})" if others else suggestion.name

"""The check on a quote attributed to the article: reduced, it must give back the source's words.

Only a citation-final word may be missing from the source (the reduction dropped the last word
before each citation marker), and the evidence must declare it in `restores`. The words must sit
at the fact's span or adjoin it: a quote that fits elsewhere in the text is not this fact's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from app.seed.reduction import Alignment, Token, alignments, reduce_text, tokens

# How many source words after a span a quote may reach: a citation-final word was dropped right
# after the span, so the next words of the text belong to the following statement.
CONTEXT_WORDS = 2


class Span(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


class ArticleQuote(Protocol):
    @property
    def quote(self) -> str | None: ...
    @property
    def restores(self) -> list[str]: ...


def check_article_quote(
    evidence: ArticleQuote, spans: Sequence[Span], text: str, stopwords: frozenset[str]
) -> str | None:
    """None when the quote is the article's words at a span of the fact; else why not."""
    quote = evidence.quote or ""
    words = reduce_text(quote, stopwords)
    restored = {word for item in evidence.restores for word in reduce_text(item, stopwords)}
    if not words:
        return None  # only stop words (e.g. "very"): nothing the source could hold
    source = tokens(text)
    ranges = [_token_range(source, span) for span in spans]
    if len(words) == 1 and words[0] in restored:
        return None  # the quote is the one citation-final word itself
    near = [a for a in alignments(words, source) if _adjoins(a, ranges)]
    if not near:
        return _refusal(quote, words, source, ranges)
    undeclared = [word for word in near[0].missing if word not in restored]
    if any(not [w for w in a.missing if w not in restored] for a in near):
        return None
    return (
        f"quote {quote!r} of the article reduces to {' '.join(words)!r}; the source lacks "
        f"{', '.join(map(repr, undeclared))}, which only a citation-final word may be, and the "
        "evidence does not list it in `restores`"
    )


def _token_range(source: list[Token], span: Span) -> tuple[int, int]:
    inside = [i for i, token in enumerate(source) if span.start <= token.start < span.end]
    return (inside[0], inside[-1] + 1) if inside else (0, 0)


def _adjoins(alignment: Alignment, ranges: list[tuple[int, int]]) -> bool:
    return any(
        alignment.first <= last + CONTEXT_WORDS and alignment.last >= first
        for first, last in ranges
    )


def _refusal(
    quote: str, words: list[str], source: list[Token], ranges: list[tuple[int, int]]
) -> str:
    held = " | ".join(" ".join(t.word for t in source[first:last]) for first, last in ranges)
    after = " | ".join(
        " ".join(t.word for t in source[last : last + CONTEXT_WORDS]) for _, last in ranges
    )
    nearby = {t.word for first, last in ranges for t in source[first : last + CONTEXT_WORDS]}
    foreign = [word for word in words if word not in nearby]
    return (
        f"quote {quote!r} of the article reduces to {' '.join(words)!r}, but the source holds "
        f"{held!r} at the fact's span, followed by {after!r}: "
        f"{', '.join(map(repr, foreign)) or 'the order of its words'} "
        "is not the source's there, and only one citation-final word may be missing"
    )

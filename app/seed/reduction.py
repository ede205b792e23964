"""The reduction the source text was made by, run as a check on quotes attributed to the article.

The source text is the article lowercased, with punctuation dropped (a hyphen or apostrophe joins
its neighbours: "sleep-related" reads "sleeprelated", "baclofen's" reads "baclofens"), NLTK's
English stop words dropped, every token containing a digit dropped, and the last word before each
citation marker dropped. A quote attributed to the article, reduced the same way, must give back
the source's words at its fact's span; only a citation-final word may be missing from the source,
and such a word must be one the evidence declares it restores.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

STOPWORDS_FILE = "stopwords-nltk-english.txt"


def read_stopwords(path: Path) -> frozenset[str]:
    """The stop-word list, one word a line; `#` starts a comment line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _is_dropped_character(character: str) -> bool:
    # Punctuation (P*) and symbols (S*: "=", "±", the minus sign) vanish without a trace,
    # joining their neighbours.
    return unicodedata.category(character)[0] in "PS"


def reduce_text(text: str, stopwords: frozenset[str]) -> list[str]:
    """The words that remain of `text` after the source's reduction (citation-final drops aside)."""
    words = []
    for raw in text.lower().split():
        if raw in stopwords:  # NLTK's list holds "don't", "it's": match before the apostrophe goes
            continue
        word = "".join(c for c in raw if not _is_dropped_character(c))
        if not word or word in stopwords or any(c.isdigit() for c in word):
            continue
        words.append(word)
    return words


@dataclass(frozen=True)
class Token:
    word: str
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    """The source text's words with their offsets (the text is already reduced)."""
    found = []
    position = 0
    for word in text.split():
        start = text.index(word, position)
        position = start + len(word)
        found.append(Token(word, start, position))
    return found


@dataclass(frozen=True)
class Alignment:
    """Where a reduced quote sits in the source: the tokens it matched and the words it added."""

    first: int  # index of the first matched source token
    last: int  # index one past the last matched source token
    missing: tuple[str, ...]  # quote words the source lacks (each must be a citation-final word)


def align(words: list[str], source: list[Token], start: int) -> Alignment | None:
    """Match `words` against the source from token `start`, a lost word at most between matches.

    A citation drops one word, so two quote words in a row that the source lacks cannot both be
    citation-final: such a quote is not the article's.
    """
    position = start
    missing: list[str] = []
    previous_missing = False
    matched = 0
    for word in words:
        if position < len(source) and source[position].word == word:
            position += 1
            matched += 1
            previous_missing = False
        elif previous_missing:
            return None
        else:
            missing.append(word)
            previous_missing = True
    if matched == 0:
        return None
    return Alignment(start, position, tuple(missing))


def alignments(words: list[str], source: list[Token]) -> list[Alignment]:
    """Every place in the source where the reduced quote fits."""
    found = []
    for start in range(len(source)):
        alignment = align(words, source, start)
        if alignment is not None:
            found.append(alignment)
    return found

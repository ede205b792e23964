"""Turning what a person typed into search terms, and the terms into each backend's safe query.

User input never reaches FTS5 MATCH or to_tsquery as typed: it is cut into words here, and each
backend builds its query from those words alone, so quotes, `*`, `AND`, `NEAR(`, `-`, `^` or `:`
are never operators, only text.
"""

from __future__ import annotations

import re
import unicodedata

MAX_QUERY_LENGTH = 200

# Letters and digits only: underscore and punctuation separate words, as in both tokenizers
# (FTS5 unicode61, PostgreSQL's default parser).
_WORD = re.compile(r"[^\W_]+")
# The same requirement, for the OpenAPI document: at least one letter or digit somewhere.
HAS_WORD_PATTERN = r"[^\W_]"

# PostgreSQL's 'english' configuration drops these words (its tsearch_data/english.stop); SQLite
# drops them too, so that both backends answer the same question for the same input.
STOP_WORDS = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she
    her hers herself it its itself they them their theirs themselves what which who whom this that
    these those am is are was were be been being have has had having do does did doing a an the and
    but if or because as until while of at by for with about against between into through during
    before after above below to from up down in out on off over under again further then once here
    there when where why how all any both each few more most other some such no nor not only own
    same so than too very s t can will just don should now
    """.split()  # noqa: SIM905 (a word list reads better than 127 quoted lines)
)


class NoSearchableWordsError(ValueError):
    """The query holds no word at all (only punctuation, symbols or spaces)."""


def search_terms(query: str) -> list[str]:
    """The distinct words of `query` to search for, in order, lower-cased, stop words dropped.

    A query of stop words alone ("the", "a") is valid and finds nothing (an empty list); one with
    no letter or digit at all is refused, as the OpenAPI pattern of `q` says.
    """
    text = fold_accents(unicodedata.normalize("NFKC", query).casefold())
    words = _WORD.findall(text)
    if not words:
        raise NoSearchableWordsError("has no letters or digits to search for")
    return list(dict.fromkeys(word for word in words if word not in STOP_WORDS))


def fold_accents(text: str) -> str:
    """`baclofén` -> `baclofen`: the diacritics dropped, as FTS5's unicode61 tokenizer drops them
    from the indexed text, so that PostgreSQL (whose 'english' configuration keeps them) finds
    the same facts for the same words."""
    if text.isascii():
        return text  # nothing to fold (most queries): no pass over every character
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", kept)


def fts5_match(terms: list[str]) -> str:
    """An FTS5 MATCH expression: every term, quoted (so never an operator), as a prefix."""
    return " ".join('"' + term.replace('"', '""') + '"*' for term in terms)


def tsquery(terms: list[str]) -> str:
    """A to_tsquery expression: every term quoted as a literal lexeme, as a prefix, all required."""
    return " & ".join("'" + term.replace("'", "''").replace("\\", "\\\\") + "':*" for term in terms)

"""How names are compared: one normal form for drug names, brands and synonyms."""

from __future__ import annotations

import unicodedata


def normalize_name(name: str) -> str:
    """Case-, accent-, space- and punctuation-insensitive form: 'Lioresal®' -> 'lioresal'."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))

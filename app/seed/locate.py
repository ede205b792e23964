"""Find every whole-word occurrence of a quote in a source text: a curator's aid.

Usage: monograph locate "auditory hallucinations"   (or: python -m app.seed.locate "...")
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


def occurrences(text: str, quote: str) -> list[tuple[int, int]]:
    """Offsets of each whole-word occurrence of quote in text."""
    pattern = re.compile(r"(?<!\S)" + re.escape(quote) + r"(?!\S)")
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def print_occurrences(seed_dir: Path, source: str, quote: str) -> int:
    text = (seed_dir / "sources" / f"{source}.txt").read_text(encoding="utf-8")
    found = occurrences(text, quote)
    for start, end in found:
        context = text[max(0, start - 40) : end + 40]
        print(f"start: {start}\nend: {end}\n# ...{context}...")
    if not found:
        print("not found (quotes must be whole words of the text, single spaces)")
    return 0 if found else 1


if __name__ == "__main__":
    raise SystemExit(print_occurrences(SEED_DIR, "baclofen-wikipedia", " ".join(sys.argv[1:])))

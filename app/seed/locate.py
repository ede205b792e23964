"""Find every whole-word occurrence of a quote in a source text: a curator's aid.

Usage: monograph locate "auditory hallucinations" [--source ID]
(or: python -m app.seed.locate "..."). Without --source, the seed's only source text; a seed with
several asks which.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


def occurrences(text: str, quote: str) -> list[tuple[int, int]]:
    """Offsets of each whole-word occurrence of quote in text."""
    pattern = re.compile(r"(?<!\S)" + re.escape(quote) + r"(?!\S)")
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def source_ids(seed_dir: Path) -> list[str]:
    """The ids of the seed's source texts, as seed/sources.yaml lists them."""
    listed = yaml.safe_load((seed_dir / "sources.yaml").read_text(encoding="utf-8")) or []
    return [entry["id"] for entry in listed if isinstance(entry, dict) and "id" in entry]


def print_occurrences(seed_dir: Path, source: str | None, quote: str) -> int:
    """Print each occurrence with its offsets and context; 0 if found, 1 if not, 2 if no source."""
    if source is None:
        known = source_ids(seed_dir)
        if len(known) != 1:
            print(f"which source? pass --source, one of: {', '.join(known)}", file=sys.stderr)
            return 2
        source = known[0]
    text = (seed_dir / "sources" / f"{source}.txt").read_text(encoding="utf-8")
    found = occurrences(text, quote)
    for start, end in found:
        context = text[max(0, start - 40) : end + 40]
        print(f"start: {start}\nend: {end}\n# ...{context}...")
    if not found:
        print("not found (quotes must be whole words of the text, single spaces)")
    return 0 if found else 1


if __name__ == "__main__":
    raise SystemExit(print_occurrences(SEED_DIR, None, " ".join(sys.argv[1:])))

"""`monograph locate`: offsets of a quote in a source text of the seed, whichever drug it holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.seed.locate import print_occurrences


def test_without_a_source_it_reads_the_seeds_only_source(
    seed_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert print_occurrences(seed_dir, None, "auditory hallucinations") == 0
    assert capsys.readouterr().out.startswith("start: 2095\nend: 2118\n")


def test_with_several_sources_it_asks_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources.yaml").write_text(
        "- id: first-text\n  file: sources/first-text.txt\n"
        "- id: second-text\n  file: sources/second-text.txt\n"
    )
    (tmp_path / "sources" / "second-text.txt").write_text("tablets taken mouth")
    assert print_occurrences(tmp_path, None, "mouth") == 2
    assert "first-text, second-text" in capsys.readouterr().err
    assert print_occurrences(tmp_path, "second-text", "mouth") == 0
    assert capsys.readouterr().out.startswith("start: 14\nend: 19\n")

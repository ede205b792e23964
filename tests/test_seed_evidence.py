"""Evidence that proves itself: quotes of the article checked by the source's own reduction, the
kinds of external evidence, the source's flags, plain labels and notes, one micro sign."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.cli import main
from app.seed.models import SeedError
from app.seed.reader import read_dataset
from app.seed.reduction import read_stopwords, reduce_text

BACLOFEN = "drugs/baclofen"
MICRO_SIGN = "\u00b5"  # the one the seed refuses
MU = "\u03bc"  # the one the seed uses, as the source text does

# The article's lead as a stored copy of the 2024 revision shows it, with its citation markers
# (kiwix wikipedia_en_all_mini_2024-02, and the same revision at anonyproxies.com).
ARTICLE_LEAD = (
    "Baclofen, sold under the brand name Lioresal among others, is a medication used to treat "
    "muscle spasticity such as from a spinal cord injury or multiple sclerosis.[8][9] It may also "
    "be used for hiccups and muscle spasms near the end of life,[9] and off-label to treat alcohol "
    "use disorder[10][11] or opioid withdrawal symptoms.[12] It is taken orally (swallowed by "
    "mouth) or by intrathecal pump (delivered into the spinal canal via an implantable pump "
    "device).[8] It is also sometimes used transdermally (applied topically to the skin) in "
    "combination with gabapentin and clonidine prepared at a compounding pharmacy.[13] Common "
    "side effects include sleepiness, weakness, and dizziness.[8] Serious side effects may occur "
    "if baclofen is rapidly stopped including seizures and rhabdomyolysis.[8] Use in pregnancy is "
    "of unclear safety while use during breastfeeding is probably safe.[14] It is believed to "
    "work by decreasing levels of certain neurotransmitters.[8]"
)


@pytest.fixture
def seed_copy(seed_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "seed"
    shutil.copytree(seed_dir, copy)
    return copy


def edit_fact(seed: Path, section: str, fact_id: str, change: Callable[[Any], None]) -> None:
    path = seed / BACLOFEN / f"{section}.yaml"
    facts = yaml.safe_load(path.read_text(encoding="utf-8"))
    [fact] = [f for f in facts if f["id"] == fact_id]
    change(fact)
    path.write_text(yaml.safe_dump(facts, allow_unicode=True, sort_keys=False), encoding="utf-8")


def refusals(seed: Path) -> list[str]:
    with pytest.raises(SeedError) as refused:
        read_dataset(seed)
    return [str(problem) for problem in refused.value.problems]


def citations(fact: dict[str, Any], citation: str) -> list[dict[str, Any]]:
    return [e for e in fact["evidence"] if e.get("citation") == citation]


def test_the_stop_word_list_reproduces_the_source_lead_exactly(seed_dir: Path) -> None:
    """NLTK's list, digits dropped, and the word before each citation marker dropped."""
    stopwords = read_stopwords(seed_dir / "stopwords-nltk-english.txt")
    assert len(stopwords) == 179
    words: list[str] = []
    pieces = re.split(r"(?:\[\d+\])+", ARTICLE_LEAD)
    for index, piece in enumerate(pieces):
        reduced = reduce_text(piece, stopwords)
        words += reduced[:-1] if index < len(pieces) - 1 else reduced
    text = (seed_dir / "sources/baclofen-wikipedia.txt").read_text(encoding="utf-8")
    assert text.startswith(" ".join(words) + " adverse effects")


def test_the_reduction_joins_hyphenated_words_and_drops_digits(seed_dir: Path) -> None:
    stopwords = read_stopwords(seed_dir / "stopwords-nltk-english.txt")
    assert reduce_text("sleep-related painful erections", stopwords) == [
        "sleeprelated",
        "painful",
        "erections",
    ]
    assert reduce_text(f"It is not the \u03b12\u03b4 subunit (Ki = 156 {MU}M)", stopwords) == [
        "subunit",
        "ki",
        f"{MU}m",
    ]


def test_a_rebuilt_article_quote_is_refused_with_what_the_source_holds(seed_copy: Path) -> None:
    def rebuild(fact: dict[str, Any]) -> None:
        fact["evidence"].append(
            {
                "citation": "wikipedia-article",
                "quote": "predominantly excreted in the unchanged form by the kidneys",
                "verified": False,
            }
        )

    edit_fact(seed_copy, "pharmacokinetics", "pharmacokinetics-excretion", rebuild)
    assert refusals(seed_copy) == [
        "drugs/baclofen/pharmacokinetics.yaml id=pharmacokinetics-excretion: "
        "quote 'predominantly excreted in the unchanged form by the kidneys' of the article "
        "reduces to 'predominantly excreted unchanged form kidneys', but the source holds "
        "'drug predominantly excreted unchanged' at the fact's span, followed by "
        "'halflife baclofen': 'form', 'kidneys' is not the source's there, and only one "
        "citation-final word may be missing"
    ]


def test_an_article_quote_from_elsewhere_in_the_text_is_refused(seed_copy: Path) -> None:
    """Words the article does hold, but not at this fact's span."""

    def misplace(fact: dict[str, Any]) -> None:
        [article] = citations(fact, "wikipedia-article")
        article["quote"] = "muscle spasms near the end of life"

    edit_fact(seed_copy, "adverse-effects", "adverse-effects-common-dizziness", misplace)
    [problem] = refusals(seed_copy)
    assert "id=adverse-effects-common-dizziness: quote 'muscle spasms near the end of life'" in (
        problem
    )
    assert "'common side effects include sleepiness weakness' at the fact's span" in problem


def test_a_citation_final_word_must_be_declared_in_restores(seed_copy: Path) -> None:
    def forget(fact: dict[str, Any]) -> None:
        citations(fact, "wikipedia-article")[0]["restores"] = []

    edit_fact(seed_copy, "adverse-effects", "adverse-effects-common-dizziness", forget)
    assert refusals(seed_copy) == [
        "drugs/baclofen/adverse-effects.yaml id=adverse-effects-common-dizziness: "
        "quote 'sleepiness, weakness, and dizziness' of the article reduces to "
        "'sleepiness weakness dizziness'; the source lacks 'dizziness', which only a "
        "citation-final word may be, and the evidence does not list it in `restores`"
    ]


def test_a_restored_word_must_be_said_by_the_label_or_note(seed_copy: Path) -> None:
    def unsaid(fact: dict[str, Any]) -> None:
        citations(fact, "medpath-baclofen")[0]["restores"] = ["1963"]

    edit_fact(seed_copy, "history", "history-first-made-ciba-geigy", unsaid)
    assert refusals(seed_copy) == [
        "drugs/baclofen/history.yaml[1] id=history-first-made-ciba-geigy: restores '1963' from "
        "medpath-baclofen, but neither the label nor the note says it"
    ]


@pytest.mark.parametrize(
    "remark",
    [
        " (the word was lost from the source text and is restored from the article)",
        " (the source marks this statement as needing a citation)",
        " (the article flags this item as needing clarification)",
    ],
)
def test_a_note_remarking_on_the_source_text_is_refused(seed_copy: Path, remark: str) -> None:
    def add_remark(fact: dict[str, Any]) -> None:
        fact["note"] = fact["note"].removesuffix(".") + remark + "."

    edit_fact(seed_copy, "overdose", "overdose-coma", add_remark)
    [problem] = refusals(seed_copy)
    assert problem.startswith("drugs/baclofen/overdose.yaml[")
    assert "id=overdose-coma: note remarks on the source text" in problem


def test_a_citation_needed_span_must_carry_the_flag(seed_copy: Path) -> None:
    def drop_flag(fact: dict[str, Any]) -> None:
        del fact["evidence"][0]["flags"]

    edit_fact(seed_copy, "routes", "routes-intrathecal-refill", drop_flag)
    [problem] = refusals(seed_copy)
    assert problem.endswith(
        "holds the article's marker 'citation needed', so its flags must include 'citation_needed'"
    )


def test_a_value_citation_gives_a_value_and_not_a_quote(seed_copy: Path) -> None:
    def as_quote(fact: dict[str, Any]) -> None:
        value = citations(fact, "medpath-baclofen")[0]
        value["quote"] = value.pop("value")

    edit_fact(seed_copy, "history", "history-first-made-ciba-geigy", as_quote)
    problems = refusals(seed_copy)
    assert any(
        problem.startswith("drugs/baclofen/history.yaml[1] id=history-first-made-ciba-geigy:")
        and problem.endswith("a value citation gives `value` and only that")
        for problem in problems
    ), problems


def test_an_ambiguous_effect_cannot_say_whether_it_is_absent(seed_copy: Path) -> None:
    def pick_a_reading(fact: dict[str, Any]) -> None:
        fact["attributes"]["absent"] = True

    edit_fact(
        seed_copy, "abuse-and-dependence", "abuse-and-dependence-drug-euphoria", pick_a_reading
    )
    [problem] = refusals(seed_copy)
    assert problem.endswith(
        "id=abuse-and-dependence-drug-euphoria: is ambiguous, so `absent` must be null: "
        "it would pick one of the readings"
    )


RECORDS_PHARMACOLOGY = f"{BACLOFEN}/records/pharmacology.yaml"


def test_the_other_micro_sign_is_refused(seed_copy: Path) -> None:
    # The facts and the records that gather them, alike (so that they still agree).
    for path in (seed_copy / BACLOFEN / "pharmacology.yaml", seed_copy / RECORDS_PHARMACOLOGY):
        text = path.read_text(encoding="utf-8")
        units = text.replace(f"unit: {MU}M", f"unit: {MICRO_SIGN}M").replace(
            f'"unit": "{MU}M"', f'"unit": "{MICRO_SIGN}M"'
        )
        assert units != text
        path.write_text(units, encoding="utf-8")
    problems = refusals(seed_copy)
    assert problems
    assert all(
        re.fullmatch(
            r"drugs/baclofen/(records/)?pharmacology\.yaml line \d+: uses U\+00B5 MICRO SIGN; "
            r"write micro as U\+03BC \(.\) as the source text does",
            problem,
        )
        for problem in problems
    ), problems


def test_check_counts_quotes_values_and_unverified(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    printed = capsys.readouterr().out
    counted = re.search(
        r"external evidence: (\d+) verbatim quotes, (\d+) values; (\d+) not confirmed", printed
    )
    assert counted, printed
    quotes, values, unverified = map(int, counted.groups())
    assert quotes > 0 and values > 0 and 0 < unverified < quotes + values

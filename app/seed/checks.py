"""The checks a seed passes beyond each record's shape: plain wording, references, spans, coverage.

Each problem is reported with its place (file and record) and the reading goes on, so that one run
lists them all. Whether facts and their records agree is app/seed/records.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.domain.evidence import SPAN_FLAG_MARKERS, EvidenceKind
from app.seed.models import (
    DRUG_FILE,
    CitationEvidence,
    DrugData,
    ReportProblem,
    SeedCitation,
    SeedFact,
    SeedStatement,
    SourceData,
    SpanEvidence,
)
from app.seed.restoration import check_article_quote

# The citation that stands for the article the source text was made from: its quotes are checked
# by the source's own reduction (app/seed/reduction.py).
ARTICLE_CITATION = "wikipedia-article"
# Remarks about the source text belong in the evidence's fields, never in a label or a note.
SOURCE_REMARK = re.compile(
    r"source text|the source (marks|says|lost|flags)|the article (marks|flags)|restored from"
    r"|(is|are|was|were) restored|(was|were|is|are) lost|lost from|sentence's last word"
    r"|needing (a )?citation|needing clarification|citation needed|clarification needed",
    re.IGNORECASE,
)


class SeedChecks:
    """Checks records against each other and against the source texts they cite."""

    def __init__(self, report: ReportProblem, stopwords: Callable[[], frozenset[str] | None]):
        self.report = report
        # The source's stop-word list, read (and its absence reported) on first use.
        self.stopwords = stopwords

    def plain_words(self, where: str, fact: SeedFact) -> None:
        """A label or note is for a reader: what the source lost is said by the evidence."""
        self.plain_text(where, fact.label, fact.note)
        plain = f"{fact.label} {fact.note}".casefold()
        for evidence in fact.evidence:
            if isinstance(evidence, CitationEvidence):
                for word in evidence.restores:
                    if not re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", plain):
                        self.report(
                            where,
                            f"restores {word!r} from {evidence.citation}, "
                            "but neither the label nor the note says it",
                        )

    def plain_text(self, where: str, label: str | None, note: str | None) -> None:
        for name, text in (("label", label), ("note", note)):
            remark = SOURCE_REMARK.search(text or "")
            if remark:
                self.report(
                    where,
                    f"{name} remarks on the source text ({remark.group(0)!r}): keep it plain and "
                    "say it in the evidence (`restores` on a citation, `flags` on a span)",
                )

    def unique_fact_ids(self, drugs: list[DrugData]) -> None:
        for data in drugs:
            seen: set[str] = set()
            for section, facts in data.facts.items():
                for fact in facts:
                    if fact.id in seen:
                        self.report(
                            f"drugs/{data.drug.slug}/{section.value}.yaml id={fact.id}",
                            f"duplicate fact id {fact.id!r}",
                        )
                    seen.add(fact.id)

    def references(
        self,
        drugs: list[DrugData],
        sources: dict[str, SourceData],
        citations: dict[str, SeedCitation],
    ) -> None:
        for data in drugs:
            if data.drug.source not in sources:
                self.report(
                    f"drugs/{data.drug.slug}/{DRUG_FILE}", f"unknown source {data.drug.source!r}"
                )
            for section, facts in data.facts.items():
                for fact in facts:
                    where = f"drugs/{data.drug.slug}/{section.value}.yaml id={fact.id}"
                    for evidence in fact.evidence:
                        if isinstance(evidence, CitationEvidence):
                            if evidence.citation not in citations:
                                self.report(where, f"unknown citation {evidence.citation!r}")
                        elif evidence.source not in sources:
                            self.report(where, f"unknown source {evidence.source!r}")
                        else:
                            self.span(where, sources[evidence.source].text, evidence)
                            self.flags(where, evidence)
                    self.article_quotes(where, fact, sources.get(data.drug.source))

    def flags(self, where: str, span: SpanEvidence) -> None:
        """A span carries a flag exactly when it holds the article's marker for it."""
        for flag, marker in SPAN_FLAG_MARKERS.items():
            marked = marker in span.quote
            if marked != (flag in span.flags):
                state, must = ("holds", "must") if marked else ("does not hold", "must not")
                self.report(
                    where,
                    f"span {span.start}..{span.end} {state} the article's marker {marker!r}, "
                    f"so its flags {must} include {flag.value!r}",
                )

    def article_quotes(self, where: str, fact: SeedFact, source: SourceData | None) -> None:
        stopwords = self.stopwords() if source is not None else None
        if source is None or stopwords is None:
            return
        spans = [
            e for e in fact.evidence if isinstance(e, SpanEvidence) and e.source == source.source.id
        ]
        for evidence in fact.evidence:
            if (
                isinstance(evidence, CitationEvidence)
                and evidence.citation == ARTICLE_CITATION
                and evidence.kind is EvidenceKind.quote
            ):
                refusal = check_article_quote(evidence, spans, source.text, stopwords)
                if refusal:
                    self.report(where, refusal)

    def span(self, where: str, text: str, span: SpanEvidence | SeedStatement) -> None:
        if span.end > len(text) or span.start >= span.end:
            self.report(
                where,
                f"span {span.start}..{span.end} is outside the text (length {len(text)}) or empty",
            )
            return
        actual = text[span.start : span.end]
        if actual != span.quote:
            self.report(
                where,
                f"quote {span.quote!r} does not match the text at "
                f"{span.start}..{span.end}, which reads {actual!r}",
            )
        elif not _on_word_boundaries(text, span.start, span.end):
            self.report(where, f"span {span.start}..{span.end} cuts a word")

    def statements(self, where: str, text: str, statements: list[SeedStatement]) -> None:
        expected_start = 0
        seen: set[str] = set()
        for statement in statements:
            here = f"{where} id={statement.id}"
            if statement.id in seen:
                self.report(here, f"duplicate statement id {statement.id!r}")
            seen.add(statement.id)
            self.span(here, text, statement)
            if statement.start != expected_start:
                self.report(
                    here,
                    f"starts at {statement.start}, expected {expected_start}: "
                    "statements must follow each other with one space between",
                )
            expected_start = statement.end + 1
        if statements and statements[-1].end != len(text):
            self.report(
                where, f"the last statement ends at {statements[-1].end}, the text at {len(text)}"
            )

    def coverage(self, drugs: list[DrugData], sources: dict[str, SourceData]) -> None:
        spans = cited_spans(drugs)
        for source_id, data in sources.items():
            for statement in data.statements:
                cited = any(
                    s.start < statement.end and statement.start < s.end
                    for s in spans.get(source_id, [])
                )
                if not cited and not statement.uncited_reason:
                    self.report(
                        f"sources/{source_id}.statements.yaml id={statement.id}",
                        f"statement {statement.quote!r}: no fact cites it, no uncited_reason",
                    )


def cited_spans(drugs: list[DrugData]) -> dict[str, list[SpanEvidence]]:
    spans: dict[str, list[SpanEvidence]] = {}
    for data in drugs:
        for facts in data.facts.values():
            for fact in facts:
                for evidence in fact.evidence:
                    if isinstance(evidence, SpanEvidence):
                        spans.setdefault(evidence.source, []).append(evidence)
    return spans


def _on_word_boundaries(text: str, start: int, end: int) -> bool:
    return (start == 0 or text[start - 1].isspace()) and (end == len(text) or text[end].isspace())

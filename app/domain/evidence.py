"""What a piece of evidence is, said in fields rather than in prose.

A fact's label and note are plain language for a reader. What the evidence knows about itself lives
here: whether an external citation gives the cited work's own words or a value read off it, whether
a stored copy of the work was found to hold them, which words of the fact it restores (the source
text lost them), the source's own maintenance flags on a span, and where the source cannot tell
"is" from "is not".
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.domain.described import described

MICRO_SIGN = "\u03bc"  # GREEK SMALL LETTER MU, as in the source text ("ki μm"); never U+00B5
OTHER_MICRO_SIGN = "\u00b5"  # MICRO SIGN: refused by the loader, so that comparisons are exact


@described(
    {
        "quote": "The cited work's own words, verbatim.",
        "value": "A value read off the cited work (a Ki, a year), not its words.",
    }
)
class EvidenceKind(StrEnum):
    """What an external citation gives."""

    quote = "quote"  # the cited work's own words, verbatim
    value = "value"  # a value read off the cited work (a Ki, a year), not its words


@described(
    {
        "citation_needed": 'The article marks the statement "[citation needed]".',
        "clarification_needed": 'The article marks it "[clarification needed]".',
    }
)
class SpanFlag(StrEnum):
    """A maintenance flag that the source article itself puts on a statement."""

    citation_needed = "citation_needed"  # the article marks it "[citation needed]"
    clarification_needed = "clarification_needed"  # the article marks it "[clarification needed]"


# The words each flag leaves in the source text (the article's bracketed marker, reduced).
SPAN_FLAG_MARKERS: dict[SpanFlag, str] = {
    SpanFlag.citation_needed: "citation needed",
    SpanFlag.clarification_needed: "clarification needed",
}


@described(
    {
        "negation": 'The source text dropped every "not": it reads the same either way.',
    }
)
class AmbiguityKind(StrEnum):
    """Why the source allows more than one reading."""

    negation = "negation"  # the reduction dropped every "not": the text reads the same either way


class Ambiguity(BaseModel):
    """The source allows more than one reading and no citation settles which: none is chosen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: AmbiguityKind = Field(description="Why the source allows more than one reading.")
    readings: list[str] = Field(
        min_length=2,
        description="Every reading the source allows, in plain words; none is preferred.",
        examples=[["It is thought to be mediated by X.", "It is not thought to be mediated by X."]],
    )

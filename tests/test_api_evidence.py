"""Over HTTP: what the evidence says about itself, and the audit's defects fixed as served."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.domain.sections import Section
from app.seed.checks import SOURCE_REMARK

DRUG = "/v1/drugs/baclofen"


def items(client: httpx.Client, section: str) -> list[dict[str, Any]]:
    response = client.get(f"{DRUG}/{section}", params={"limit": 200})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def fact(client: httpx.Client, section: str, fact_id: str) -> dict[str, Any]:
    """A statement-level fact of `section`, its typed attributes beside its other fields."""
    response = client.get(f"{DRUG}/facts/{fact_id}")
    assert response.status_code == 200, response.text
    body = dict(response.json())
    assert body["section"] == section
    return {**body, **body["attributes"]}


def external(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in item["evidence"] if e["type"] == "external_citation"]


@pytest.fixture(scope="module")
def every_fact(client: httpx.Client) -> list[dict[str, Any]]:
    """Every list item and every statement-level fact."""
    listed = [item for section in Section for item in items(client, section.value)]
    return listed + items(client, "facts")


def test_labels_and_notes_are_plain_words_for_a_reader(every_fact: list[dict[str, Any]]) -> None:
    remarks = [
        (item["id"], text)
        for item in every_fact
        for text in (item["label"], item["note"])
        if SOURCE_REMARK.search(text)
    ]
    assert remarks == []


def test_an_external_citation_is_a_quote_or_a_value_and_says_if_it_was_confirmed(
    every_fact: list[dict[str, Any]],
) -> None:
    cited = [e for item in every_fact for e in external(item)]
    assert {e["kind"] for e in cited} == {"quote", "value"}
    for evidence in cited:
        given, absent = ("quote", "value") if evidence["kind"] == "quote" else ("value", "quote")
        assert evidence[given] and evidence[absent] is None, evidence
        assert isinstance(evidence["verified"], bool)
    assert any(e["verified"] for e in cited) and not all(e["verified"] for e in cited)


def test_restored_words_are_named_by_the_evidence(client: httpx.Client) -> None:
    multiple_sclerosis = fact(client, "indications", "indications-multiple-sclerosis")
    [article] = external(multiple_sclerosis)
    assert article["restores"] == ["sclerosis"]
    assert article["quote"] == "spinal cord injury or multiple sclerosis"
    assert multiple_sclerosis["note"].endswith("multiple sclerosis.")


def test_the_source_flags_travel_with_the_span(client: httpx.Client) -> None:
    refill = fact(client, "routes", "routes-intrathecal-refill")
    assert [span["flags"] for span in refill["evidence"]] == [["citation_needed"]]
    pupil = fact(client, "overdose", "overdose-unusual-pupil-size")
    assert pupil["evidence"][0]["flags"] == ["clarification_needed"]
    assert fact(client, "overdose", "overdose-coma")["evidence"][0]["flags"] == []


def test_a_reading_the_source_cannot_settle_is_served_as_ambiguous(client: httpx.Client) -> None:
    mechanism = fact(client, "pharmacology", "pharmacology-alcohol-not-muscle-relaxation-sedation")
    assert mechanism["ambiguity"]["kind"] == "negation"
    readings = mechanism["ambiguity"]["readings"]
    assert len(readings) == 2 and sum(" not " in r for r in readings) == 1
    assert external(mechanism) == []  # no quote of the article picks a reading
    euphoria = fact(client, "abuse-and-dependence", "abuse-and-dependence-drug-euphoria")
    assert euphoria["ambiguity"]["kind"] == "negation"
    assert euphoria["absent"] is None
    assert fact(client, "overdose", "overdose-coma")["ambiguity"] is None


def test_hyperpyrexia_and_fever_are_one_symptom(client: httpx.Client) -> None:
    symptoms = items(client, "facts")
    fevers = [s for s in symptoms if "fever" in s["attributes"].get("term", "")]
    assert [s["id"] for s in fevers] == ["withdrawal-symptoms-hyperpyrexia"]
    [hyperpyrexia] = fevers
    assert hyperpyrexia["label"] == "Hyperpyrexia (fever)"
    assert {c["code"] for c in hyperpyrexia["attributes"]["codes"]} >= {"HP:0033031", "HP:0001945"}
    assert [e["quote"] for e in hyperpyrexia["evidence"]] == ["hyperpyrexia fever"]
    response = client.get(f"{DRUG}/withdrawal-symptoms/withdrawal-symptoms-fever")
    assert response.status_code == 404, response.text
    listed = [s for s in items(client, "withdrawal-symptoms") if "fever" in s["synonyms"]]
    assert [s["id"] for s in listed] == ["withdrawal-symptoms-hyperpyrexia"]


def test_mania_is_only_a_broader_match_of_bipolar_disorder(client: httpx.Client) -> None:
    mania = fact(client, "withdrawal-symptoms", "withdrawal-symptoms-mania")
    matches = {c["code"]: c["match"] for c in mania["codes"]}
    assert matches == {"HP:0100754": "exact", "D001714": "broader"}


def test_the_opioid_trial_is_cited_by_its_own_title(client: httpx.Client) -> None:
    opioid = fact(client, "indications", "indications-opioid-withdrawal")
    [trial] = [e for e in external(opioid) if e["citation"] == "akhondzadeh-2000"]
    assert trial["url"] == "https://pubmed.ncbi.nlm.nih.gov/11123486/"
    assert "Double-blind randomized controlled trial of baclofen vs. clonidine" in trial["title"]
    assert "side-effects aspect" not in trial["title"]


def test_a_temporary_recommendation_is_not_called_a_licence(client: httpx.Client) -> None:
    ansm = fact(client, "history", "history-ansm-temporary-recommendation")
    words = " ".join([ansm["label"], ansm["note"], *(e["quote"] or "" for e in ansm["evidence"])])
    assert "licen" not in words.lower()
    assert ansm["year"] == 2014
    authorization = fact(client, "history", "history-ansm-marketing-authorization")
    assert authorization["year"] == 2018


def test_the_fda_year_is_cited_by_a_page_that_states_it(client: httpx.Client) -> None:
    approval = fact(client, "history", "history-fda-approval")
    [medpath] = external(approval)
    assert medpath["citation"] == "medpath-baclofen"
    assert medpath["quote"] == "approved by the FDA in 1977"


@pytest.mark.parametrize(
    ("section", "fact_id", "cited"),
    [
        ("pharmacokinetics", "pharmacokinetics-protein-binding", "30%"),
        ("names", "names-synonym-beta-4-chlorophenyl-gaba", "β-(4-chlorophenyl)-GABA"),
        ("chemistry", "chemistry-racemate", "Racemic mixture"),
        ("chemistry", "chemistry-r-enantiomer-arbaclofen", "arbaclofen (R-isomer)"),
    ],
)
def test_the_reference_sheet_facts_are_served_with_span_and_citation(
    client: httpx.Client, section: str, fact_id: str, cited: str
) -> None:
    item = fact(client, section, fact_id)
    assert any(e["type"] == "source_span" for e in item["evidence"])
    assert any(cited in (e["quote"] or "") for e in external(item)), item["evidence"]

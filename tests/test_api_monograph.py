"""End to end over HTTP: the monograph's sections, their evidence, and the source's traps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.sections import FACT_ATTRIBUTES, Section
from app.seed.checks import cited_spans
from app.seed.reader import read_dataset

LIST_SECTIONS = [s.value for s in Section]


def items(client: httpx.Client, section: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/v1/drugs/baclofen/{section}", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return list(page["items"])


def labels(facts: list[dict[str, Any]]) -> str:
    return " | ".join(f["label"].lower() for f in facts)


@pytest.fixture(scope="module")
def source_text(client: httpx.Client) -> str:
    response = client.get("/v1/sources/baclofen-wikipedia")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["length"] == len(body["text"])
    return str(body["text"])


def test_drug_list_and_summary(client: httpx.Client) -> None:
    drugs = client.get("/v1/drugs").json()
    assert drugs["total"] == 1
    assert drugs["items"][0]["slug"] == "baclofen"
    summary = client.get("/v1/drugs/baclofen").json()
    assert summary["name"] == "Baclofen"
    linked = {link["section"]: link for link in summary["sections"]}
    for section in LIST_SECTIONS:
        if section != "overview":
            assert linked[section]["count"] > 0, section
            assert linked[section]["href"] == f"/v1/drugs/baclofen/{section}"


@pytest.mark.parametrize("name", ["Lioresal", "LIORESAL", "kemstro", "Chlorophenibut", "BACLOFEN"])
def test_a_brand_or_synonym_in_any_case_names_the_same_drug(
    client: httpx.Client, name: str
) -> None:
    response = client.get(f"/v1/drugs/{name}")
    assert response.status_code == 200, response.text
    assert response.json()["slug"] == "baclofen"


@pytest.mark.parametrize("section", LIST_SECTIONS)
def test_every_fact_carries_evidence_that_matches_the_source(
    client: httpx.Client, source_text: str, section: str
) -> None:
    facts = items(client, section)
    for fact in facts:
        assert fact["id"].startswith(section), fact["id"]
        assert fact["label"] and fact["note"]
        spans = [e for e in fact["evidence"] if e["type"] == "source_span"]
        assert spans, f"{fact['id']} has no span of the source"
        for span in spans:
            assert source_text[span["start"] : span["end"]] == span["quote"], fact["id"]
        for cited in fact["evidence"]:
            if cited["type"] == "external_citation":
                assert cited["external"] is True
                assert cited["url"].startswith("http")


@pytest.mark.parametrize("section", LIST_SECTIONS)
def test_each_fact_is_served_alone_by_its_id(client: httpx.Client, section: str) -> None:
    fact = items(client, section)[0]
    response = client.get(f"/v1/drugs/baclofen/{section}/{fact['id']}")
    assert response.status_code == 200, response.text
    assert response.json() == fact


def test_paging_is_bounded_and_stable(client: httpx.Client) -> None:
    everything = items(client, "withdrawal-symptoms")
    first = client.get("/v1/drugs/baclofen/withdrawal-symptoms", params={"limit": 5}).json()
    second = client.get(
        "/v1/drugs/baclofen/withdrawal-symptoms", params={"limit": 5, "offset": 5}
    ).json()
    assert first["items"] + second["items"] == everything[:10]
    assert first["total"] == len(everything)
    assert client.get("/v1/drugs/baclofen/names", params={"limit": 201}).status_code == 422


def test_sort_by_label_both_ways(client: httpx.Client) -> None:
    ascending = [f["label"].casefold() for f in items(client, "names", sort="label")]
    descending = [f["label"].casefold() for f in items(client, "names", sort="-label")]
    assert ascending == sorted(ascending)
    assert descending == sorted(ascending, reverse=True)


# ----- the meaning of the source, traps included ---------------------------------------------


def test_withdrawal_lists_more_than_thirty_symptoms(client: httpx.Client) -> None:
    symptoms = items(client, "withdrawal-symptoms")
    assert len(symptoms) > 30
    text = labels(symptoms)
    for expected in (
        "auditory hallucinations",
        "visual hallucinations",
        "tactile hallucinations",
        "seizure",
        "hyperthermia",
        "rigidity",
        "spasticity",
        "tachycardia",
        "depersonalization",
        "psychosis",
        "mania",
    ):
        assert expected in text, expected
    topics = {f["topic"] for f in items(client, "withdrawal-syndrome")}
    assert {"resemblance", "tapering", "reinstatement", "risk_factor"} <= topics


def test_stroke_and_parkinsons_are_not_recommended(client: httpx.Client) -> None:
    """The source lost 'not': 'use people stroke parkinsons disease'."""
    not_recommended = labels(items(client, "indications", status="not_recommended"))
    assert "stroke" in not_recommended
    assert "parkinson" in not_recommended
    recommended = labels(
        [f for f in items(client, "indications") if f["status"] != "not_recommended"]
    )
    assert "stroke" not in recommended
    assert "parkinson" not in recommended


def test_indications_have_statuses_and_routes(client: httpx.Client) -> None:
    primary = labels(items(client, "indications", status="primary"))
    assert "spasticity" in primary
    assert "alcohol" in labels(items(client, "indications", status="off_label"))
    assert items(client, "indications", route="intrathecal")


def test_ghb_receptor_has_no_significant_affinity(client: httpx.Client) -> None:
    """The source lost 'no': 'baclofen significant affinity ghb receptor'."""
    targets = items(client, "pharmacology", topic="target")
    ghb = [t for t in targets if "ghb" in t["label"].lower()]
    assert ghb and all(t["action"] == "no_significant_affinity" for t in ghb)
    gaba_b = [t for t in targets if t["action"] == "agonist"]
    assert gaba_b, "GABA-B agonism is missing"
    assert {"GABBR1", "GABBR2"} <= {gene for t in gaba_b for gene in t["genes"]}


def test_restored_ki_values_are_structured_and_cited(client: httpx.Client) -> None:
    targets = items(client, "pharmacology", topic="target")
    affinities = [(t, a) for t in targets for a in t["affinities"]]
    values = {(a["measure"], a["value"], a["unit"]) for _, a in affinities}
    micromolar = "\u03bcM"  # one micro sign throughout, as in the source text
    assert ("Ki", 6.0, micromolar) in values
    assert ("Ki", 156.0, micromolar) in values
    for target, affinity in affinities:
        values_cited = [
            restored
            for e in target["evidence"]
            if e["type"] == "external_citation" and e["kind"] == "value"
            for restored in e["restores"]
        ]
        assert f"{affinity['value']:g} {micromolar}" in values_cited, target["id"]


def test_euphoria_is_common_or_very_common_in_the_bnf(client: httpx.Client) -> None:
    effects = items(client, "adverse-effects")
    euphoria = [f for f in effects if "euphoria" in f["label"].lower()]
    assert any(f["frequency"] == "common_or_very_common" for f in euphoria)


def test_pregnancy_breastfeeding_and_sedatives(client: httpx.Client) -> None:
    populations = {f["population"]: f["safety"] for f in items(client, "specific-populations")}
    assert populations == {"pregnancy": "unclear", "breastfeeding": "probably_safe"}
    agents = {agent.lower() for fact in items(client, "interactions") for agent in fact["agents"]}
    assert {"alcohol", "benzodiazepines"} <= agents


def test_abrupt_discontinuation_is_serious(client: httpx.Client) -> None:
    serious = items(client, "adverse-effects", seriousness="serious")
    assert serious
    assert all(f["contexts"] == ["abrupt_discontinuation"] for f in serious)


def test_overdose_signs_and_management(client: httpx.Client) -> None:
    signs = labels(items(client, "overdose", topic="sign"))
    for expected in ("coma", "respiratory", "bradycardia", "hypothermia", "seizure"):
        assert expected in signs, expected
    assert "intubation" in labels(items(client, "overdose", topic="management"))


def test_every_brand_name_is_served(client: httpx.Client) -> None:
    brands = {f["name"].lower() for f in items(client, "names", name_kind="brand")}
    assert brands >= {
        "beklo",
        "baclodol",
        "flexibac",
        "gablofen",
        "kemstro",
        "liofen",
        "lioresal",
        "lyflex",
        "clofen",
        "muslofen",
        "bacloren",
        "baklofen",
        "sclerofen",
        "pacifen",
    }
    synonyms = {f["name"].lower() for f in items(client, "names", name_kind="synonym")}
    assert "chlorophenibut" in synonyms


def test_the_amsterdam_trial_found_no_effect(client: httpx.Client) -> None:
    """The source lost 'not': 'current study find evidence positive effect'."""
    research = items(client, "research")
    assert any(f["outcome"] == "no_effect" for f in research)
    assert not any(f["outcome"] == "positive" for f in research)


def test_routes_have_their_ncit_codes(client: httpx.Client) -> None:
    routes = items(client, "routes")
    codes = {(f["route"], c["code"]) for f in routes for c in f["codes"]}
    assert codes == {("oral", "C38288"), ("intrathecal", "C38277"), ("transdermal", "C38305")}
    [intrathecal] = items(client, "routes", route="intrathecal")
    aspects = {detail["aspect"] for detail in intrathecal["details"]}
    assert {"pump", "test_dose", "catheter", "refill", "replacement", "rationale"} <= aspects


def test_identifiers_carry_their_record_urls(client: httpx.Client) -> None:
    identifiers = {i["system"]: i for i in client.get("/v1/drugs/baclofen").json()["identifiers"]}
    assert identifiers["ATC"]["value"] == "M03BX01"
    assert identifiers["CAS"]["value"] == "1134-47-0"
    assert identifiers["PubChemCID"]["value"] == "2284"
    assert identifiers["DrugBank"]["value"] == "DB00181"
    assert identifiers["RxCUI"]["value"] == "1292"
    assert identifiers["InChIKey"]["value"] == "KPYSYYIEGFHWSV-UHFFFAOYSA-N"
    assert all(i["url"].startswith("https://") for i in identifiers.values())


def test_history_years_are_restored_with_citations(client: httpx.Client) -> None:
    events = items(client, "history")
    years = {f["year"] for f in events}
    assert {1962, 1971, 1977, 1984} <= years
    for event in events:
        if event["year"] is not None:
            assert any(e["type"] == "external_citation" for e in event["evidence"]), event["id"]


def expected_covered_share(seed_dir: Path) -> float:
    """Of the text's non-space characters, the share inside some fact's span, from the seed."""
    dataset = read_dataset(seed_dir)
    text = dataset.sources["baclofen-wikipedia"].text
    covered: set[int] = set()
    for span in cited_spans(dataset.drugs).get("baclofen-wikipedia", []):
        covered.update(range(span.start, span.end))
    visible = [i for i, ch in enumerate(text) if not ch.isspace()]
    return round(sum(i in covered for i in visible) / len(visible), 4)


def test_coverage_accounts_for_every_statement(client: httpx.Client, seed_dir: Path) -> None:
    coverage = client.get("/v1/sources/baclofen-wikipedia/coverage").json()
    assert coverage["statements_unaccounted"] == 0
    assert coverage["statements_total"] > 50
    assert coverage["characters_covered_share"] > 0.9
    assert coverage["characters_covered_share"] == expected_covered_share(seed_dir)
    for statement in coverage["statements"]:
        assert statement["cited_by"] or statement["uncited_reason"], statement["id"]


# ----- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/drugs/aspirin", 404),
        ("/v1/drugs/aspirin/indications", 404),
        ("/v1/drugs/baclofen/indications/indications-no-such-fact", 404),
        ("/v1/drugs/baclofen/indications/withdrawal-symptoms-tremors", 404),
        ("/v1/sources/nope", 404),
        ("/v1/sources/nope/coverage", 404),
        ("/v1/no-such-thing", 404),
        ("/v1/drugs/baclofen/indications?status=approved-ish", 422),
        ("/v1/drugs/baclofen/indications?colour=blue", 422),
        ("/v1/drugs/baclofen/indications?limit=-1", 422),
        ("/v1/drugs/baclofen/indications?offset=abc", 422),
    ],
)
def test_errors_are_problem_details(client: httpx.Client, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["title"] and problem["detail"] and problem["type"]
    assert problem["instance"] == path.split("?")[0]
    assert "Traceback" not in response.text


def test_an_unknown_parameter_is_named(client: httpx.Client) -> None:
    problem = client.get("/v1/drugs/baclofen/indications?colour=blue").json()
    assert "colour" in problem["detail"]


# ----- what is served is what the seed says ------------------------------------------------


def test_every_fact_is_served_as_the_seed_states_it(client: httpx.Client, seed_dir: Path) -> None:
    """Label, note (where restored negations live), attributes and evidence, fact by fact."""
    dataset = read_dataset(seed_dir)
    for data in dataset.drugs:
        for section, facts in data.facts.items():
            response = client.get(
                f"/v1/drugs/{data.drug.slug}/facts",
                params={"section": section.value, "limit": 200},
            )
            served = {item["id"]: item for item in response.json()["items"]}
            assert list(served) == [fact.id for fact in facts], section
            for fact in facts:
                item = served[fact.id]
                assert (item["label"], item["note"]) == (fact.label, fact.note), fact.id
                stated = FACT_ATTRIBUTES[section].model_validate(fact.attributes)
                assert item["attributes"] == stated.model_dump(mode="json"), fact.id
                quotes = [getattr(e, "text", None) or e.quote for e in fact.evidence]
                assert [e["quote"] or e["value"] for e in item["evidence"]] == quotes, fact.id


def test_every_list_item_is_served_as_the_seed_declares_it(
    client: httpx.Client, seed_dir: Path
) -> None:
    """A record's label and note (its only fact's where it declares none) and its facts."""
    dataset = read_dataset(seed_dir)
    for data in dataset.drugs:
        for section, records in data.records.items():
            response = client.get(f"/v1/drugs/{data.drug.slug}/{section.value}?limit=200")
            served = {item["id"]: item for item in response.json()["items"]}
            assert list(served) == [record.id for record in records], section
            for record in records:
                item = served[record.id]
                assert (item["label"], item["note"]) == (record.label, record.note), record.id
                assert item["facts"] == record.facts, record.id


def test_what_the_source_denies_is_marked_absent(client: httpx.Client) -> None:
    """The source says baclofen "does not appear to possess addictive properties": an effect
    it does not have, which a client must not list among those it has."""
    abuse = {fact["id"]: fact for fact in items(client, "abuse-and-dependence")}
    denied = abuse["abuse-and-dependence-no-addictive-properties"]
    assert denied["absent"] is True
    assert "does not" in denied["note"]
    # The source cannot tell whether it is associated with drug euphoria: neither reading.
    assert abuse["abuse-and-dependence-drug-euphoria"]["absent"] is None
    effects = {fact["id"]: fact for fact in items(client, "adverse-effects")}
    assert effects["adverse-effects-euphoria"]["absent"] is False


LISTS: list[tuple[str, dict[str, str]]] = [
    ("/v1/drugs", {}),
    ("/v1/sources", {}),
    ("/v1/search", {"q": "baclofen"}),
    *((f"/v1/drugs/baclofen/{section.value}", {}) for section in Section),
]


@pytest.mark.parametrize(("url", "query"), LISTS)
def test_every_list_counts_all_its_items_whatever_the_page(
    client: httpx.Client, url: str, query: dict[str, str]
) -> None:
    whole = client.get(url, params={**query, "limit": 100}).json()
    assert whole["total"] == len(whole["items"]) or whole["total"] > 100
    for paging in ({"limit": 1}, {"offset": 1}, {"offset": whole["total"] + 5, "limit": 2}):
        page = client.get(url, params={**query, **paging}).json()
        assert page["total"] == whole["total"], paging

"""One record per thing: each list holds each real-world thing once, with all its evidence, and the
statement-level facts behind it stay reachable. Over HTTP, on the real seed."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import httpx
import pytest

from app.domain.names import normalize_name

# The lists the service exists for: each holds a thing once.
SIX_LISTS = [
    "indications",
    "routes",
    "adverse-effects",
    "withdrawal-symptoms",
    "pharmacology",
    "names",
]
# Words that give away a remark about how the source text was made, not about the drug.
SOURCE_REMARK = re.compile(
    r"source text|restored from|was lost|were lost|needing (a )?citation|clarification", re.I
)


def items(client: httpx.Client, section: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/v1/drugs/baclofen/{section}", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return list(page["items"])


def all_facts(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/drugs/baclofen/facts", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return list(page["items"])


def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in records}


@pytest.mark.parametrize("section", SIX_LISTS)
def test_a_list_holds_each_thing_once(client: httpx.Client, section: str) -> None:
    records = items(client, section)
    labels = Counter(normalize_name(record["label"]) for record in records)
    assert [label for label, n in labels.items() if n > 1] == []
    codes = Counter(
        (code["system"], code["code"])
        for record in records
        for code in record.get("codes", [])
        # A symptom (HPO) code may recur across uses for different conditions.
        if not (section == "indications" and code["system"] == "HPO")
    )
    assert [code for code, n in codes.items() if n > 1] == []


def test_adverse_effects_are_baclofens_own_effects(client: httpx.Client) -> None:
    effects = by_id(items(client, "adverse-effects"))
    text = " ".join(f"{e['label']} {e['note']} {e['term']}" for e in effects.values()).lower()
    for elsewhere in ("ghb", "pregnan", "breastfeed", "abuse", "addict", "sedative drugs"):
        assert elsewhere not in text, elsewhere
    assert all(effect["absent"] is False for effect in effects.values())
    assert items(client, "adverse-effects", absent="true") == []
    drowsiness = effects["adverse-effects-drowsiness"]  # sleepiness and drowsiness: one HPO code
    assert drowsiness["synonyms"] == ["sleepiness"] and drowsiness["frequency"] == "common"
    assert drowsiness["facts"] == [
        "adverse-effects-common-sleepiness",
        "adverse-effects-drowsiness",
    ]
    dizziness = effects["adverse-effects-dizziness"]  # in the lead and in the side effects
    assert len(dizziness["facts"]) == 2 and dizziness["contexts"] == ["treatment"]
    assert effects["adverse-effects-euphoria"]["frequency"] == "common_or_very_common"
    assert effects["adverse-effects-seizures"]["seriousness"] == "serious"


def test_populations_abuse_and_ghb_are_where_their_names_say(client: httpx.Client) -> None:
    populations = {p["population"] for p in items(client, "specific-populations")}
    assert populations == {"pregnancy", "breastfeeding"}
    abuse = by_id(items(client, "abuse-and-dependence"))
    assert abuse["abuse-and-dependence-no-addictive-properties"]["absent"] is True
    assert abuse["abuse-and-dependence-attempted-abuse"]["absent"] is False
    denied = {r["id"] for r in items(client, "abuse-and-dependence", absent="true")}
    assert "abuse-and-dependence-no-addictive-properties" in denied
    pharmacology = by_id(items(client, "pharmacology"))
    ghb = pharmacology["pharmacology-ghb"]
    assert ghb["topic"] == "related_compound" and "GHB" in ghb["compound"]
    assert pharmacology["pharmacology-sedative-anxiolytic"]["topic"] == "effect"


def test_an_indication_is_one_condition_with_every_route(client: httpx.Client) -> None:
    indications = items(client, "indications")
    conditions = Counter(record["condition"].casefold() for record in indications)
    assert [c for c, n in conditions.items() if n > 1] == []
    palsy = by_id(indications)["indications-cerebral-palsy"]
    assert palsy["status"] == "primary" and palsy["routes"] == ["oral", "intrathecal"]
    assert palsy["facts"] == [
        "indications-cerebral-palsy",
        "indications-intrathecal-cerebral-palsy",
    ]
    assert {r["status"] for r in indications} <= {
        "primary",
        "secondary",
        "off_label",
        "investigational",
        "not_recommended",
    }
    for record in items(client, "indications", status="not_recommended"):
        assert record["routes"] == [], record["id"]
    intrathecal = {r["id"] for r in items(client, "indications", route="intrathecal")}
    assert "indications-cerebral-palsy" in intrathecal
    assert "indications-hiccups" not in intrathecal


def test_routes_are_three_with_their_details_nested(client: httpx.Client) -> None:
    routes = items(client, "routes")
    assert [r["route"] for r in routes] == ["oral", "intrathecal", "transdermal"]
    intrathecal = by_id(routes)["routes-intrathecal"]
    assert [d["id"] for d in intrathecal["details"]] == intrathecal["facts"][1:]
    for detail in intrathecal["details"]:
        assert detail["evidence"], detail["id"]


def test_a_withdrawal_symptom_folds_its_synonyms(client: httpx.Client) -> None:
    symptoms = items(client, "withdrawal-symptoms")
    fever = [s for s in symptoms if "fever" in s["label"].lower() or "fever" in s["synonyms"]]
    assert len(fever) == 1
    assert {c["code"] for c in fever[0]["codes"]} >= {"HP:0033031", "HP:0001945"}
    assert all("topic" not in symptom for symptom in symptoms)


def test_baclofens_targets_carry_only_baclofens_values(client: httpx.Client) -> None:
    pharmacology = items(client, "pharmacology")
    targets = [r for r in pharmacology if r["topic"] == "target"]
    assert {t["target"] for t in targets} >= {"GABA-B receptor", "GHB receptor"}
    for target in targets:
        assert all(a["subject"] is None for a in target["affinities"]), target["id"]
    [phenibut] = [r for r in pharmacology if r["id"] == "pharmacology-phenibut"]
    assert {a["value"] for a in phenibut["affinities"]} == {23, 39, 92}
    assert all(a["subject"] for a in phenibut["affinities"])


def test_every_fact_is_gathered_by_exactly_one_item_with_its_evidence(
    client: httpx.Client,
) -> None:
    facts = all_facts(client)
    summary = client.get("/v1/drugs/baclofen").json()
    assert summary["facts"]["count"] == len(facts) > 150
    lists = {link["section"] for link in summary["sections"]} | {"overview"}
    gathered: Counter[str] = Counter()
    records = {}
    for section in lists:
        for record in items(client, section):
            records[record["id"]] = record
            gathered.update(record["facts"])
    assert set(gathered) == {fact["id"] for fact in facts}
    assert [fact_id for fact_id, n in gathered.items() if n > 1] == []
    for fact in facts:
        record = records[fact["record"]["id"]]
        assert fact["id"] in record["facts"]
        assert fact["record"]["section"] == fact["section"] == record["section"]
        assert all(evidence in record["evidence"] for evidence in fact["evidence"]), fact["id"]


def test_the_facts_list_filters_by_section_and_serves_each_fact(client: httpx.Client) -> None:
    effects = all_facts(client, section="adverse-effects")
    assert effects and {fact["section"] for fact in effects} == {"adverse-effects"}
    first = effects[0]
    response = client.get(first["href"])
    assert response.status_code == 200 and response.json() == first
    assert client.get("/v1/drugs/baclofen/facts/no-such-fact").status_code == 404


def test_a_gathered_or_moved_id_redirects_to_its_item(client: httpx.Client) -> None:
    cases = {
        # a fact gathered into an item with another id
        "/v1/drugs/baclofen/adverse-effects/adverse-effects-common-dizziness": (
            "/v1/drugs/baclofen/adverse-effects/adverse-effects-dizziness"
        ),
        # a fact that moved to the list its meaning belongs in
        "/v1/drugs/baclofen/adverse-effects/adverse-effects-pregnancy": (
            "/v1/drugs/baclofen/specific-populations/specific-populations-pregnancy"
        ),
        "/v1/drugs/baclofen/facts/adverse-effects-pregnancy": (
            "/v1/drugs/baclofen/facts/specific-populations-pregnancy"
        ),
    }
    for path, target in cases.items():
        response = client.get(path)
        assert response.status_code == 308, (path, response.text)
        assert response.headers["location"] == target
        assert client.get(target).status_code == 200


def test_no_label_or_note_remarks_on_the_source_text(client: httpx.Client) -> None:
    summary = client.get("/v1/drugs/baclofen").json()
    texts = [(f["id"], f["label"], f["note"]) for f in all_facts(client)]
    for link in summary["sections"]:
        texts += [(r["id"], r["label"], r["note"]) for r in items(client, link["section"])]
    remarks = [(i, label, note) for i, label, note in texts if SOURCE_REMARK.search(label + note)]
    assert remarks == []


def test_search_finds_items_by_the_words_of_their_facts(client: httpx.Client) -> None:
    response = client.get("/v1/search", params={"q": "sleepiness", "section": "adverse-effects"})
    assert response.status_code == 200, response.text
    hits = response.json()["items"]
    assert hits[0]["id"] == "adverse-effects-drowsiness"  # its label names sleepiness: first
    assert hits[0]["record"]["facts"][0] == "adverse-effects-common-sleepiness"
    dizziness = client.get("/v1/search", params={"q": "dizziness", "limit": 100}).json()
    ids = [hit["id"] for hit in dizziness["items"]]
    assert len(ids) == len(set(ids))
    assert ids.count("adverse-effects-dizziness") == 1

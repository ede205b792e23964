"""FHIR R5 over real HTTP: every resource served parses with the fhir.resources R5 models, every
reference in the drug's Bundle finds its target, every claim carries evidence that quotes its
source, and errors are OperationOutcomes with the right status."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fhir.resources import get_fhir_model_class
from pydantic import ValidationError

from app.formats import fhir

FHIR = "application/fhir+json"
BASE = "/fhir/R5"


def get_fhir(client: httpx.Client, url: str, **params: Any) -> dict[str, Any]:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == FHIR
    return dict(response.json())


def parses(resource: dict[str, Any]) -> None:
    """The resource is valid for the R5 model of its type (fhir.resources 8 is R5)."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)


@pytest.fixture(scope="module")
def bundle(client: httpx.Client) -> dict[str, Any]:
    return get_fhir(client, "/v1/drugs/baclofen/fhir")


@pytest.fixture(scope="module")
def resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle["entry"]]


def references(value: Any) -> Iterator[str]:
    """Every `reference` anywhere in a resource."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def extensions(value: Any, url: str) -> Iterator[dict[str, Any]]:
    """Every extension with this url anywhere in a resource (nested ones included)."""
    if isinstance(value, dict):
        if value.get("url") == url and "extension" in value:
            yield value
        for item in value.values():
            yield from extensions(item, url)
    elif isinstance(value, list):
        for item in value:
            yield from extensions(item, url)


def test_the_models_are_r5_and_refuse_what_r5_does_not_have() -> None:
    import fhir.resources as package

    assert package.__fhir_version__ == "5.0.0"
    with pytest.raises(ValidationError):  # R4's MedicationKnowledge.synonym is gone in R5
        parses({"resourceType": "MedicationKnowledge", "synonym": ["x"]})


def test_every_resource_of_the_bundle_parses_as_r5(
    bundle: dict[str, Any], resources: list[dict[str, Any]]
) -> None:
    parses(bundle)
    assert bundle["type"] == "collection"
    kinds = {r["resourceType"] for r in resources}
    assert kinds == {"MedicationKnowledge", "ClinicalUseDefinition"}
    for resource in resources:
        parses(resource)


def test_every_reference_in_the_bundle_finds_its_target(
    bundle: dict[str, Any], resources: list[dict[str, Any]]
) -> None:
    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    by_reference = {f"{r['resourceType']}/{r['id']}": r for r in resources}
    found = [ref for resource in resources for ref in references(resource)]
    assert len(found) > len(resources)  # each CUD names its subject; the drug names each CUD
    for reference in found:
        assert reference in by_reference, reference
        # Resolved against the fullUrl's base, as FHIR resolves a relative reference in a Bundle.
        assert f"{fhir.CANONICAL_BASE}/{reference}" in full_urls
    # Every issue the medication lists is in the bundle, and every CUD is one of its issues.
    medication = by_reference["MedicationKnowledge/baclofen"]
    issues = {ref["reference"] for ref in medication["clinicalUseIssue"]}
    assert issues == {ref for ref in by_reference if ref.startswith("ClinicalUseDefinition/")}


def test_each_resource_read_by_id_is_the_bundle_entry(
    client: httpx.Client, resources: list[dict[str, Any]]
) -> None:
    for resource in resources:
        read = get_fhir(client, f"{BASE}/{resource['resourceType']}/{resource['id']}")
        assert read == resource


def test_the_medication_carries_codes_names_routes_and_uses(client: httpx.Client) -> None:
    medication = get_fhir(client, f"{BASE}/MedicationKnowledge/baclofen")
    codes = {(c["system"], c["code"]) for c in medication["code"]["coding"]}
    assert codes == {
        ("http://www.nlm.nih.gov/research/umls/rxnorm", "1292"),
        ("http://www.whocc.no/atc", "M03BX01"),
        ("http://fdasis.nlm.nih.gov", "H789N3FKE8"),
    }
    assert {"baclofen", "Lioresal", "chlorophenibut"} <= set(medication["name"])
    assert len(medication["_name"]) == len(medication["name"])
    routes = {
        c["code"] for route in medication["definitional"]["intendedRoute"] for c in route["coding"]
    }
    assert routes == {"C38288", "C38277", "C38305"}
    assert {
        c["system"] for r in medication["definitional"]["intendedRoute"] for c in r["coding"]
    } == {"http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"}
    uses = [i["indication"][0]["reference"]["reference"] for i in medication["indicationGuideline"]]
    assert "ClinicalUseDefinition/indications-muscle-spasticity" in uses
    # A use the source advises against is a contraindication, never an indication guideline.
    assert "ClinicalUseDefinition/indications-stroke-not-recommended" not in uses
    atc = medication["medicineClassification"][0]["classification"][0]["coding"][0]
    assert atc == {"system": "http://www.whocc.no/atc", "code": "M03BX01"}


def test_receptor_targets_and_affinities_travel_in_their_extension(client: httpx.Client) -> None:
    medication = get_fhir(client, f"{BASE}/MedicationKnowledge/baclofen")
    targets = list(extensions(medication, fhir.TARGET_EXTENSION))
    pharmacology = client.get("/v1/drugs/baclofen/pharmacology", params={"topic": "target"})
    assert len(targets) == pharmacology.json()["total"] == 3
    gaba_b = next(
        t for t in targets if {"url": "target", "valueString": "GABA-B receptor"} in t["extension"]
    )
    parts = gaba_b["extension"]
    assert {"url": "action", "valueCode": "agonist"} in parts
    affinity = next(p for p in parts if p["url"] == "affinity")["extension"]
    assert {"url": "measure", "valueString": "Ki"} in affinity
    assert {"url": "value", "valueQuantity": {"value": 6.0, "unit": "μM"}} in affinity
    assert any(p["url"] == fhir.EVIDENCE_EXTENSION for p in parts)


def test_clinical_uses_map_each_kind_of_record(
    client: httpx.Client, resources: list[dict[str, Any]]
) -> None:
    by_id = {r["id"]: r for r in resources if r["resourceType"] == "ClinicalUseDefinition"}
    assert by_id["indications-hiccups"]["type"] == "indication"
    stroke = by_id["indications-stroke-not-recommended"]
    assert stroke["type"] == "contraindication"
    assert stroke["contraindication"]["diseaseSymptomProcedure"]["concept"]["coding"] == [
        {"system": "http://human-phenotype-ontology.org", "code": "HP:0001297"},
        {"system": "http://terminology.hl7.org/CodeSystem/MSH", "code": "D020521"},
    ]
    drowsiness = by_id["adverse-effects-drowsiness"]["undesirableEffect"]
    assert drowsiness["frequencyOfOccurrence"]["coding"] == [
        {"system": "http://hl7.org/fhir/undesirable-effect-frequency", "code": "Common"}
    ]
    # "Common or very common" is wider than FHIR's Common: words only, no code.
    euphoria = by_id["adverse-effects-euphoria"]["undesirableEffect"]["frequencyOfOccurrence"]
    assert euphoria == {"text": "common or very common"}
    # An effect without a stated frequency has none.
    assert "frequencyOfOccurrence" not in by_id["adverse-effects-nausea"]["undesirableEffect"]
    assert by_id["interactions-sedative-drugs"]["type"] == "interaction"
    assert by_id["withdrawal-syndrome-abrupt-withdrawal"]["type"] == "warning"
    assert by_id["specific-populations-pregnancy"]["type"] == "warning"
    # Every record of the mapped sections is one resource.
    mapped = (
        "indications",
        "interactions",
        "adverse-effects",
        "withdrawal-symptoms",
        "specific-populations",
        "abuse-and-dependence",
        "withdrawal-syndrome",
        "overdose",
    )
    ids = {
        item["id"]
        for section in mapped
        for item in client.get(f"/v1/drugs/baclofen/{section}", params={"limit": 200}).json()[
            "items"
        ]
    }
    assert ids == set(by_id)


def test_every_claim_carries_evidence_that_quotes_its_source(
    client: httpx.Client, resources: list[dict[str, Any]]
) -> None:
    text = client.get("/v1/sources/baclofen-wikipedia").json()["text"]
    for resource in resources:
        found = list(extensions(resource, fhir.EVIDENCE_EXTENSION))
        assert found, resource["id"]
        for evidence in found:
            fields = {part["url"]: part for part in evidence["extension"]}
            if fields["type"]["valueString"] == "source_span":
                start, end = fields["start"]["valueInteger"], fields["end"]["valueInteger"]
                assert text[start:end] == fields["quote"]["valueString"]
            else:
                assert fields["url"]["valueUri"].startswith("http")
    # Each resource's evidence is exactly its record's.
    stroke = next(r for r in resources if r["id"] == "indications-stroke-not-recommended")
    record = client.get("/v1/drugs/baclofen/indications/indications-stroke-not-recommended")
    quotes = [
        part["valueString"]
        for evidence in extensions(stroke, fhir.EVIDENCE_EXTENSION)
        for part in evidence["extension"]
        if part["url"] == "quote"
    ]
    assert quotes == [e["quote"] for e in record.json()["evidence"]]


def test_every_extension_used_is_defined_by_a_served_structure_definition(
    client: httpx.Client, resources: list[dict[str, Any]]
) -> None:
    used = {
        extension["url"]
        for resource in resources
        for url in (fhir.EVIDENCE_EXTENSION, fhir.TARGET_EXTENSION, fhir.RECORD_EXTENSION)
        for extension in extensions(resource, url)
    } | {e["url"] for r in resources for e in r.get("extension", [])}
    assert used == {fhir.EVIDENCE_EXTENSION, fhir.TARGET_EXTENSION, fhir.RECORD_EXTENSION}
    for url in used:
        path = url.removeprefix(fhir.CANONICAL_BASE)
        definition = get_fhir(client, f"{BASE}{path}")
        parses(definition)
        assert definition["url"] == url
        assert definition["type"] == "Extension"


def test_the_capability_statement_lists_exactly_what_is_served(
    client: httpx.Client, openapi_paths: set[str]
) -> None:
    statement = get_fhir(client, f"{BASE}/metadata")
    parses(statement)
    assert statement["fhirVersion"] == "5.0.0"
    served = {
        resource["type"]: {i["code"] for i in resource["interaction"]}
        for resource in statement["rest"][0]["resource"]
    }
    assert served == {
        "MedicationKnowledge": {"read", "search-type"},
        "ClinicalUseDefinition": {"read", "search-type"},
        "StructureDefinition": {"read"},
    }
    declared = {p for p in openapi_paths if p.startswith(BASE + "/")}
    expected = {f"{BASE}/metadata"}
    for kind, interactions in served.items():
        if "search-type" in interactions:
            expected.add(f"{BASE}/{kind}")
        expected.add(f"{BASE}/{kind}/{{resource_id}}")
    assert declared == expected


@pytest.fixture(scope="module")
def openapi_paths(client: httpx.Client) -> set[str]:
    return set(client.get("/openapi.json").json()["paths"])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, 1),
        ({"code": "1292"}, 1),
        ({"code": "http://www.whocc.no/atc|M03BX01"}, 1),
        ({"code": "http://www.whocc.no/atc|1292"}, 0),
        ({"code": "nothing,H789N3FKE8"}, 1),
        ({"name": "lioresal"}, 1),
        ({"name": "LIOR"}, 1),
        ({"name": "aspirin"}, 0),
        ({"name": "bacl", "code": "0000"}, 0),
    ],
)
def test_medication_search(client: httpx.Client, params: dict[str, str], expected: int) -> None:
    found = get_fhir(client, f"{BASE}/MedicationKnowledge", **params)
    parses(found)
    assert found["type"] == "searchset"
    assert found["total"] == len(found.get("entry", [])) == expected
    for entry in found.get("entry", []):
        assert entry["search"] == {"mode": "match"}
        parses(entry["resource"])


def test_clinical_use_search_by_subject_and_type(
    client: httpx.Client, resources: list[dict[str, Any]]
) -> None:
    every = get_fhir(
        client, f"{BASE}/ClinicalUseDefinition", subject="MedicationKnowledge/baclofen"
    )
    parses(every)
    assert every["total"] == len(resources) - 1
    for kind in fhir.CUD_TYPES:
        found = get_fhir(client, f"{BASE}/ClinicalUseDefinition", subject="baclofen", type=kind)
        expected = [r for r in resources if r.get("type") == kind]
        assert [e["resource"] for e in found["entry"]] == expected, kind
        assert expected, kind
    effects = get_fhir(
        client, f"{BASE}/ClinicalUseDefinition", type="undesirable-effect,contraindication"
    )
    assert {e["resource"]["type"] for e in effects["entry"]} == {
        "undesirable-effect",
        "contraindication",
    }
    none = get_fhir(client, f"{BASE}/ClinicalUseDefinition", subject="MedicationKnowledge/aspirin")
    assert none["total"] == 0
    assert "entry" not in none  # FHIR has no empty arrays


def assert_outcome(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == FHIR
    outcome = dict(response.json())
    parses(outcome)
    assert outcome["issue"][0]["code"] == code
    assert "Traceback" not in response.text
    return outcome


def test_errors_under_fhir_are_operation_outcomes(client: httpx.Client) -> None:
    assert_outcome(client.get(f"{BASE}/MedicationKnowledge/aspirin"), 404, "not-found")
    assert_outcome(client.get(f"{BASE}/ClinicalUseDefinition/nothing"), 404, "not-found")
    assert_outcome(client.get(f"{BASE}/StructureDefinition/nothing"), 404, "not-found")
    assert_outcome(client.get(f"{BASE}/Patient/1"), 404, "not-found")
    # A parameter the server cannot process is a 400, as FHIR search specifies.
    outcome = assert_outcome(
        client.get(f"{BASE}/MedicationKnowledge", params={"colour": "blue"}), 400, "invalid"
    )
    assert "colour" in outcome["issue"][0]["diagnostics"]
    assert_outcome(client.get(f"{BASE}/MedicationKnowledge/bad id!"), 400, "invalid")
    assert_outcome(client.get(f"{BASE}/metadata", params={"x": "1" * 3000}), 400, "invalid")
    assert_outcome(client.get(f"{BASE}/" + "a" * 3000), 414, "too-long")
    response = client.post(f"{BASE}/metadata", json={})
    assert_outcome(response, 405, "not-supported")
    assert response.headers["allow"] == "GET"
    # Outside /fhir, errors stay problem+json.
    assert client.get("/v1/drugs/aspirin/fhir").headers["content-type"] == (
        "application/problem+json"
    )


def test_fhir_reads_have_strong_etags_and_answer_304(client: httpx.Client) -> None:
    for url in (
        f"{BASE}/metadata",
        f"{BASE}/MedicationKnowledge/baclofen",
        "/v1/drugs/baclofen/fhir",
    ):
        first = client.get(url)
        etag = first.headers["etag"]
        assert etag.startswith('"'), etag
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
        # Replayed from the response cache, it keeps its media type.
        assert client.get(url).headers["content-type"] == FHIR

"""schema.org JSON-LD: a drug's records as one schema.org `Drug`.

The `@context` is inline and names each term it uses, mapped to the IRIs schema.org's own context
gives them (the http://schema.org/ namespace, which https://schema.org/docs/jsonldcontext.json
maps every term to). Inline, a consumer expands the document without fetching anything, and a
term the context does not name would be dropped on expansion: the tests check that none is.
"""

from __future__ import annotations

from typing import Any

from app.catalog import DrugEntry
from app.domain.sections import Section

MEDIA_TYPE = "application/ld+json"
SCHEMA = "http://schema.org/"

# Terms whose values are IRIs, not text.
_IRI_TERMS = {"sameAs", "url", "license"}
_TERMS = [
    "Drug",
    "DrugClass",
    "MedicalCode",
    "MedicalEntity",
    "PropertyValue",
    "Article",
    "name",
    "alternateName",
    "nonProprietaryName",
    "proprietaryName",
    "description",
    "identifier",
    "propertyID",
    "value",
    "code",
    "codeValue",
    "codingSystem",
    "administrationRoute",
    "mechanismOfAction",
    "drugClass",
    "warning",
    "pregnancyWarning",
    "breastfeedingWarning",
    "overdosage",
    "adverseOutcome",
    "seriousAdverseOutcome",
    "sameAs",
    "subjectOf",
    "url",
    "license",
]
CONTEXT: dict[str, Any] = {
    term: ({"@id": SCHEMA + term, "@type": "@id"} if term in _IRI_TERMS else SCHEMA + term)
    for term in _TERMS
}
# Identifiers a knowledge graph knows as codes, with the name schema.org's codingSystem takes.
_CODING_SYSTEMS = {"RxCUI": "RxNorm", "ATC": "ATC", "UNII": "UNII"}
# Identifier systems whose URL is the drug's own page (not a search or a shared page).
_SAME_AS = ("DrugBank", "ChEBI", "ChEMBL", "PubChemCID", "MedlinePlus", "UNII")
_SCHEMA_CODING = {"HPO": "HPO", "MeSH": "MeSH", "NCIt": "NCI Thesaurus"}


def drug_document(drug: DrugEntry, source: dict[str, Any] | None) -> dict[str, Any]:
    """The drug as a schema.org Drug, from its document (as GET /v1/drugs/{drug} serves it) and
    its records."""
    served = drug.document
    sections = drug.sections
    names = sections[Section.names]
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "Drug",
        "name": drug.name,
        "description": served["summary"],
        "nonProprietaryName": [n["name"] for n in names if n["name_kind"] == "nonproprietary"],
        "proprietaryName": [n["name"] for n in names if n["name_kind"] == "brand"],
        "alternateName": [n["name"] for n in names if n["name_kind"] == "synonym"],
        "identifier": [
            {"@type": "PropertyValue", "propertyID": i["system"], "value": i["value"]}
            for i in served["identifiers"]
        ],
        "code": [
            {
                "@type": "MedicalCode",
                "codeValue": i["value"],
                "codingSystem": _CODING_SYSTEMS[i["system"]],
            }
            for i in served["identifiers"]
            if i["system"] in _CODING_SYSTEMS
        ],
        "sameAs": [i["url"] for i in served["identifiers"] if i["system"] in _SAME_AS],
        "administrationRoute": [r["label"] for r in sections[Section.routes]],
        "mechanismOfAction": [
            p["note"] for p in sections[Section.pharmacology] if p["topic"] == "mechanism"
        ],
        "drugClass": _drug_classes(drug),
        "warning": _warnings(drug),
        "adverseOutcome": _outcomes(drug, serious=False),
        "seriousAdverseOutcome": _outcomes(drug, serious=True),
        "overdosage": [o["note"] for o in sections[Section.overdose]],
        **_population_warnings(drug),
    }
    if source is not None:
        document["subjectOf"] = {
            "@type": "Article",
            "name": source["title"],
            "url": source["url"],
            "license": source["license_url"],
        }
    return {key: value for key, value in document.items() if value not in ([], None, "")}


def _drug_classes(drug: DrugEntry) -> list[dict[str, Any]]:
    """Its pharmacological classes (what it is an agonist of) and its chemical class."""
    classes = [
        f"{p['target']} {p['action']}"
        for p in drug.sections[Section.pharmacology]
        if p["topic"] == "target" and p["action"] == "agonist"
    ]
    classes += [
        c["value"] for c in drug.sections[Section.chemistry] if c["property"] == "classification"
    ]
    return [{"@type": "DrugClass", "name": name} for name in classes]


def _warnings(drug: DrugEntry) -> list[str]:
    sections = drug.sections
    not_recommended = [
        i["note"] for i in sections[Section.indications] if i["status"] == "not_recommended"
    ]
    return (
        not_recommended
        + [w["note"] for w in sections[Section.withdrawal_syndrome]]
        + [a["note"] for a in sections[Section.abuse_and_dependence]]
        + [i["note"] for i in sections[Section.interactions]]
    )


def _population_warnings(drug: DrugEntry) -> dict[str, list[str]]:
    by_population = {"pregnancy": "pregnancyWarning", "breastfeeding": "breastfeedingWarning"}
    found: dict[str, list[str]] = {}
    for item in drug.sections[Section.specific_populations]:
        term = by_population.get(item["population"])
        if term:
            found.setdefault(term, []).append(item["note"])
    return found


def _outcomes(drug: DrugEntry, *, serious: bool) -> list[dict[str, Any]]:
    return [
        _medical_entity(effect["label"], effect["codes"])
        for effect in drug.sections[Section.adverse_effects]
        if not effect["absent"] and (effect["seriousness"] == "serious") == serious
    ]


def _medical_entity(name: str, codes: list[dict[str, Any]]) -> dict[str, Any]:
    entity: dict[str, Any] = {"@type": "MedicalEntity", "name": name}
    coded = [
        {
            "@type": "MedicalCode",
            "codeValue": c["code"],
            "codingSystem": _SCHEMA_CODING[c["system"]],
        }
        for c in codes
        if c["system"] in _SCHEMA_CODING
    ]
    if coded:
        entity["code"] = coded
    return entity

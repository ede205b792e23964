"""FHIR R5: the catalog's records as MedicationKnowledge and ClinicalUseDefinition resources.

Built on demand from a drug's records (a few dozen small dicts: well under a millisecond), so no
snapshot holds a second copy; the response cache keeps the bytes of what was asked for.
The mapping is documented in docs/standards.md. Evidence travels in the `evidence` extension on
every element built from a record, each evidence entry's fields as sub-extensions, so a field
added to evidence later flows through unchanged.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson

from app import __version__
from app.catalog import Catalog, DrugEntry
from app.domain.sections import Section
from app.settings import get_settings

FHIR_VERSION = "5.0.0"
MEDIA_TYPE = "application/fhir+json"
# The canonical base of what this service defines (extensions, code systems) and the base of the
# Bundles' fullUrls: the deployment's public URL (MONOGRAPH_PUBLIC_URL), never the request's host,
# so that a representation depends on its URL alone (the response cache and the ETags rely on it).
# Each StructureDefinition is served at the path its canonical URL names.
CANONICAL_BASE = get_settings().public_url.rstrip("/") + "/fhir/R5"
EVIDENCE_EXTENSION = f"{CANONICAL_BASE}/StructureDefinition/evidence"
TARGET_EXTENSION = f"{CANONICAL_BASE}/StructureDefinition/receptor-target"
RECORD_EXTENSION = f"{CANONICAL_BASE}/StructureDefinition/monograph-record"
# Code systems of this service's own qualifiers (identifiers only: not served as resources).
STANDING_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/indication-standing"
CONTEXT_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/effect-context"
SECTION_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/monograph-section"

# The FHIR system URIs of the terminologies the seed codes with (HL7 Terminology, THO).
CODE_SYSTEMS: dict[str, str] = {
    "HPO": "http://human-phenotype-ontology.org",
    "MeSH": "http://terminology.hl7.org/CodeSystem/MSH",
    "NCIt": "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl",
    "HGNC": "http://www.genenames.org/geneId",
    "UniProt": "http://www.uniprot.org",
    "NCBIGene": "http://www.ncbi.nlm.nih.gov/gene",
}
# The drug identifiers that are codes of a terminology FHIR names, by the seed's system name.
DRUG_CODE_SYSTEMS: dict[str, str] = {
    "RxCUI": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "ATC": "http://www.whocc.no/atc",
    "UNII": "http://fdasis.nlm.nih.gov",
}
FREQUENCY_SYSTEM = "http://hl7.org/fhir/undesirable-effect-frequency"
PUBLICATION_STATUS = "http://hl7.org/fhir/publication-status"

CUD_TYPES = ("indication", "contraindication", "interaction", "undesirable-effect", "warning")
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def fhir_id(value: str) -> str:
    """A FHIR id for a record id: itself when it fits FHIR's id rule, else a stable digest."""
    if _FHIR_ID.fullmatch(value):
        return value
    cleaned = re.sub(r"[^A-Za-z0-9\-.]", "-", value)[:47]
    return f"{cleaned}-{hashlib.blake2b(value.encode(), digest_size=8).hexdigest()}"


# ----- extensions ------------------------------------------------------------------------------


def evidence_extensions(evidence: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One `evidence` extension per evidence entry, each of its fields a sub-extension."""
    return [
        {"url": EVIDENCE_EXTENSION, "extension": list(_sub_extensions(entry))} for entry in evidence
    ]


def _sub_extensions(entry: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for key, value in entry.items():
        for item in value if isinstance(value, list) else [value]:
            typed = _typed_value(key, item)
            if typed is not None:
                yield {"url": key, **typed}


def _typed_value(key: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": value}
    if isinstance(value, dict):
        return {"valueString": orjson.dumps(value).decode()}
    text = str(value)
    if key.endswith("url"):
        return {"valueUri": text}
    return {"valueString": text} if text else None


def _record_extension(drug: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": RECORD_EXTENSION,
        "valueUri": f"/v1/drugs/{drug}/{item['section']}/{item['id']}",
    }


def _traced(drug: str, item: dict[str, Any]) -> list[dict[str, Any]]:
    """The extensions every resource built from a record carries: its record, its evidence."""
    return [_record_extension(drug, item), *evidence_extensions(item["evidence"])]


# ----- data types ------------------------------------------------------------------------------


def _coding(code: dict[str, Any], display: str | None = None) -> dict[str, Any] | None:
    system = CODE_SYSTEMS.get(code["system"])
    if system is None:
        return None
    coding = {"system": system, "code": code["code"]}
    return coding | ({"display": display} if display else {})


def _concept(text: str, codes: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    codings = [c for c in (_coding(code) for code in codes) if c is not None]
    return ({"coding": codings} if codings else {}) | {"text": text}


def _reference(resource_type: str, resource_id: str, display: str | None = None) -> dict[str, Any]:
    reference: dict[str, Any] = {"reference": f"{resource_type}/{resource_id}"}
    return reference | ({"display": display} if display else {})


def _category(system: str, code: str, text: str | None = None) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}], "text": text or code.replace("_", " ")}


def _section_category(section: str) -> dict[str, Any]:
    return _category(SECTION_SYSTEM, section, section.replace("-", " "))


# ----- MedicationKnowledge ---------------------------------------------------------------------


# The resources of the drugs asked for last, by (dataset version, slug): a version names its data,
# so an entry never goes stale; a handful of drugs' worth, so a worker's memory stays flat.
_BUILT: OrderedDict[tuple[str, str], tuple[dict[str, Any], list[dict[str, Any]]]] = OrderedDict()
_BUILT_LIMIT = 8


def _resources(drug: DrugEntry) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The drug's MedicationKnowledge and ClinicalUseDefinitions (shared: never mutate them)."""
    key = (drug.document["dataset_version"], drug.slug)
    built = _BUILT.get(key)
    if built is None:
        issues = _clinical_use_definitions(drug)
        built = _BUILT[key] = (_medication_knowledge(drug, issues), issues)
        while len(_BUILT) > _BUILT_LIMIT:
            _BUILT.popitem(last=False)
    return built


def medication_knowledge(drug: DrugEntry) -> dict[str, Any]:
    """The drug: its codes, names, routes, classification, targets and clinical-use issues."""
    return _resources(drug)[0]


def clinical_use_definitions(drug: DrugEntry) -> list[dict[str, Any]]:
    """One resource per indication, contraindication, interaction, undesirable effect, warning."""
    return _resources(drug)[1]


def _medication_knowledge(drug: DrugEntry, issues: list[dict[str, Any]]) -> dict[str, Any]:
    sections = drug.sections
    uses = [cud for cud in issues if cud["type"] == "indication"]
    resource: dict[str, Any] = {
        "resourceType": "MedicationKnowledge",
        "id": fhir_id(drug.slug),
        "extension": [_target_extension(drug.slug, item) for item in _targets(drug)],
        "code": _drug_code(drug),
        "status": "active",
        "name": [item["name"] for item in sections[Section.names]],
        "_name": [{"extension": _traced(drug.slug, item)} for item in sections[Section.names]],
        "clinicalUseIssue": [_reference("ClinicalUseDefinition", cud["id"]) for cud in issues],
        "indicationGuideline": [
            {
                "indication": [
                    {"reference": _reference("ClinicalUseDefinition", cud["id"], _use_text(cud))}
                ]
            }
            for cud in uses
        ],
        "medicineClassification": _classifications(drug),
        "definitional": {
            "intendedRoute": [
                _concept(item["label"], item["codes"]) | {"extension": _traced(drug.slug, item)}
                for item in sections[Section.routes]
            ],
            "drugCharacteristic": [
                _characteristic(drug.slug, item) for item in sections[Section.chemistry]
            ],
        },
    }
    pruned: dict[str, Any] = _pruned(resource)
    return pruned


def _drug_code(drug: DrugEntry) -> dict[str, Any]:
    codings = [
        {"system": DRUG_CODE_SYSTEMS[i["system"]], "code": i["value"], "display": drug.name}
        for i in drug.document["identifiers"]
        if i["system"] in DRUG_CODE_SYSTEMS
    ]
    return {"coding": codings, "text": drug.name}


def _classifications(drug: DrugEntry) -> list[dict[str, Any]]:
    atc = [i for i in drug.document["identifiers"] if i["system"] == "ATC"]
    found = [
        {
            "type": {"text": "Anatomical Therapeutic Chemical (ATC) classification"},
            "classification": [
                {"coding": [{"system": DRUG_CODE_SYSTEMS["ATC"], "code": i["value"]}]} for i in atc
            ],
        }
    ]
    chemical = [
        item for item in drug.sections[Section.chemistry] if item["property"] == "classification"
    ]
    found += [
        {
            "type": {"text": "Chemical classification"},
            "classification": [{"text": item["value"], "extension": _traced(drug.slug, item)}],
        }
        for item in chemical
    ]
    return found if atc else found[1:]


def _characteristic(drug: str, item: dict[str, Any]) -> dict[str, Any]:
    label = item["property"].replace("_", " ")
    if item["solvent"]:
        label += f" in {item['solvent']}"
    characteristic: dict[str, Any] = {
        "extension": _traced(drug, item),
        "type": {"text": label},
    }
    quantity = next((q for q in item["quantities"] if q["value"] is not None), None)
    if quantity is not None:
        characteristic["valueQuantity"] = {"value": quantity["value"], "unit": quantity["unit"]}
    else:
        characteristic["valueString"] = item["value"] or item["label"]
    return characteristic


def _targets(drug: DrugEntry) -> list[dict[str, Any]]:
    return [item for item in drug.sections[Section.pharmacology] if item["topic"] == "target"]


def _target_extension(drug: str, item: dict[str, Any]) -> dict[str, Any]:
    """A receptor target, the drug's action there and its measured affinities (R5 has no element
    for them): the `receptor-target` extension."""
    parts: list[dict[str, Any]] = [{"url": "target", "valueString": item["target"]}]
    if item["action"]:
        parts.append({"url": "action", "valueCode": item["action"]})
    parts += [{"url": "gene", "valueString": gene} for gene in item["genes"]]
    parts += [
        {"url": "code", "valueCoding": coding}
        for coding in (_coding(code) for code in item["codes"])
        if coding is not None
    ]
    parts += [_affinity(quantity) for quantity in item["affinities"]]
    parts += _traced(drug, item)
    return {"url": TARGET_EXTENSION, "extension": parts}


def _affinity(quantity: dict[str, Any]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"url": "measure", "valueString": quantity["measure"]}]
    if quantity["value"] is not None:
        value: dict[str, Any] = {"value": quantity["value"], "unit": quantity["unit"]}
        comparator = {"<": "<", ">": ">"}.get(quantity["comparator"])
        if comparator:
            value["comparator"] = comparator
        parts.append({"url": "value", "valueQuantity": value})
    if quantity["low"] is not None or quantity["high"] is not None:
        bounds = {
            bound: {"value": quantity[bound], "unit": quantity["unit"]}
            for bound in ("low", "high")
            if quantity[bound] is not None
        }
        parts.append({"url": "range", "valueRange": bounds})
    if quantity["subject"]:
        parts.append({"url": "subject", "valueString": quantity["subject"]})
    return {"url": "affinity", "extension": parts}


# ----- ClinicalUseDefinition -------------------------------------------------------------------


def _clinical_use_definitions(drug: DrugEntry) -> list[dict[str, Any]]:
    sections = drug.sections
    built: list[dict[str, Any]] = []
    for item in sections[Section.indications]:
        built.append(_indication(drug.slug, item))
    for item in sections[Section.interactions]:
        built.append(_interaction(drug.slug, item))
    for section in (Section.adverse_effects, Section.withdrawal_symptoms):
        for item in sections[section]:
            built.append(_undesirable_effect(drug.slug, item))
    for section in (
        Section.specific_populations,
        Section.abuse_and_dependence,
        Section.withdrawal_syndrome,
        Section.overdose,
    ):
        for item in sections[section]:
            built.append(_warning(drug.slug, item))
    return [_pruned(resource) for resource in built]


def _cud(
    drug: str, item: dict[str, Any], kind: str, categories: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "resourceType": "ClinicalUseDefinition",
        "id": fhir_id(item["id"]),
        "extension": _traced(drug, item),
        "type": kind,
        "category": [_section_category(item["section"]), *categories],
        "subject": [_reference("MedicationKnowledge", fhir_id(drug))],
        "status": {"coding": [{"system": PUBLICATION_STATUS, "code": "active"}]},
    }


def _indication(drug: str, item: dict[str, Any]) -> dict[str, Any]:
    standing = item["status"]
    condition = {"concept": _concept(item["condition"], item["codes"])}
    if standing == "not_recommended":
        # "Not recommended" uses are the contraindications the source states.
        resource = _cud(drug, item, "contraindication", [])
        resource["contraindication"] = {"diseaseSymptomProcedure": condition}
        return resource
    resource = _cud(drug, item, "indication", [_category(STANDING_SYSTEM, standing)])
    resource["indication"] = {"diseaseSymptomProcedure": condition}
    return resource


def _interaction(drug: str, item: dict[str, Any]) -> dict[str, Any]:
    resource = _cud(drug, item, "interaction", [])
    resource["interaction"] = {
        "interactant": [{"itemCodeableConcept": {"text": agent}} for agent in item["agents"]],
        "effect": {"concept": {"text": item["effect"]}},
    }
    return resource


def _undesirable_effect(drug: str, item: dict[str, Any]) -> dict[str, Any]:
    if item.get("absent"):
        # The source denies the effect: not an undesirable effect, but worth saying.
        return _warning(drug, item)
    contexts = item.get("contexts", [])
    resource = _cud(
        drug, item, "undesirable-effect", [_category(CONTEXT_SYSTEM, c) for c in contexts]
    )
    effect: dict[str, Any] = {
        "symptomConditionEffect": {"concept": _concept(item["term"], item["codes"])}
    }
    if item.get("seriousness"):
        effect["classification"] = {"text": item["seriousness"].replace("_", "-")}
    frequency = _frequency(item.get("frequency"))
    if frequency:
        effect["frequencyOfOccurrence"] = frequency
    resource["undesirableEffect"] = effect
    return resource


def _frequency(frequency: str | None) -> dict[str, Any] | None:
    if frequency == "common":
        return {"coding": [{"system": FREQUENCY_SYSTEM, "code": "Common"}], "text": "common"}
    if frequency == "common_or_very_common":
        # Wider than FHIR's "Common": stated in words only, never narrowed to a code.
        return {"text": "common or very common"}
    return None


def _warning(drug: str, item: dict[str, Any]) -> dict[str, Any]:
    resource = _cud(drug, item, "warning", [])
    warning: dict[str, Any] = {"description": item["note"]}
    term = item.get("term") or item.get("population")
    if term:
        warning["code"] = _concept(term, item.get("codes", []))
    resource["warning"] = warning
    return resource


def _use_text(cud: dict[str, Any]) -> str:
    return str(cud["indication"]["diseaseSymptomProcedure"]["concept"]["text"])


# ----- lookups and bundles ---------------------------------------------------------------------


def find_clinical_use(catalog: Catalog, resource_id: str) -> dict[str, Any] | None:
    for drug in catalog.drugs.values():
        for cud in clinical_use_definitions(drug):
            if cud["id"] == resource_id:
                return cud
    return None


def find_medication(catalog: Catalog, resource_id: str) -> DrugEntry | None:
    return next((d for d in catalog.drugs.values() if fhir_id(d.slug) == resource_id), None)


def full_url(resource: dict[str, Any]) -> str:
    return f"{CANONICAL_BASE}/{resource['resourceType']}/{resource['id']}"


def drug_bundle(drug: DrugEntry, version: str) -> dict[str, Any]:
    """The whole drug as one Bundle of type collection."""
    resources = [medication_knowledge(drug), *clinical_use_definitions(drug)]
    return {
        "resourceType": "Bundle",
        "id": fhir_id(f"{drug.slug}-{version[:12]}"),
        "meta": {"versionId": version[:12]},
        "type": "collection",
        "entry": [{"fullUrl": full_url(r), "resource": r} for r in resources],
    }


def searchset(resources: list[dict[str, Any]], self_url: str) -> dict[str, Any]:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {"fullUrl": full_url(r), "resource": r, "search": {"mode": "match"}} for r in resources
        ],
    }
    return {key: value for key, value in bundle.items() if value != []}  # FHIR: no empty arrays


def _pruned(value: Any) -> Any:
    """Without empty lists, objects and strings: FHIR forbids empty elements."""
    if isinstance(value, dict):
        pruned = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in ([], {}, "", None)}
    if isinstance(value, list):
        return [v for v in (_pruned(v) for v in value) if v not in ([], {}, "", None)]
    return value


# ----- conformance -----------------------------------------------------------------------------

SEARCH_PARAMETERS: dict[str, list[dict[str, str]]] = {
    "MedicationKnowledge": [
        {
            "name": "code",
            "type": "token",
            "documentation": "A code of the medication ([system]|[code] or [code]): RxNorm, ATC "
            "or UNII.",
        },
        {
            "name": "name",
            "type": "string",
            "documentation": "A name, brand or synonym: matches names starting with the value, "
            "ignoring case and accents (FHIR string search).",
        },
    ],
    "ClinicalUseDefinition": [
        {
            "name": "subject",
            "type": "reference",
            "documentation": "The medication: MedicationKnowledge/[id] or [id].",
        },
        {
            "name": "type",
            "type": "token",
            "documentation": "indication | contraindication | interaction | undesirable-effect "
            "| warning.",
        },
    ],
}


def capability_statement(catalog: Catalog) -> dict[str, Any]:
    """What this server serves, exactly: two resource types read and searched, and the
    StructureDefinitions of its extensions read."""
    resources: list[dict[str, Any]] = [
        {
            "type": resource_type,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": params,
        }
        for resource_type, params in SEARCH_PARAMETERS.items()
    ]
    resources.append(
        {
            "type": "StructureDefinition",
            "interaction": [{"code": "read"}],
            "documentation": "The definitions of this server's extensions: "
            + ", ".join(sorted(STRUCTURE_DEFINITIONS)),
        }
    )
    return {
        "resourceType": "CapabilityStatement",
        "id": "monograph",
        "url": f"{CANONICAL_BASE}/CapabilityStatement/monograph",
        "name": "MonographCapabilityStatement",
        "title": "Evidence-linked drug monograph: FHIR R5 read-only API",
        "status": "active",
        "date": _date(catalog.loaded_at),
        "kind": "instance",
        "software": {"name": "monograph-api", "version": __version__},
        "implementation": {
            "description": f"Read-only FHIR R5 view of dataset {catalog.version[:12]}",
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [{"mode": "server", "resource": resources}],
    }


def _date(moment: datetime) -> str:
    return moment.date().isoformat()


def _element(path: str, **fields: Any) -> dict[str, Any]:
    return {"id": path, "path": path, **fields}


def _complex_extension(
    name: str, title: str, description: str, contexts: list[str], parts: list[tuple[str, str, str]]
) -> dict[str, Any]:
    """A complex extension's StructureDefinition: sub-extensions by name, open to others.

    Each part is (url, value types separated by |, definition); a part without value types is
    itself complex (it holds sub-extensions); an absolute url names another extension."""
    elements = [
        _element("Extension", short=title, definition=description),
        _element(
            "Extension.extension",
            slicing={"discriminator": [{"type": "value", "path": "url"}], "rules": "open"},
        ),
    ]
    for url, value_type, definition in parts:
        part = url.rsplit("/", 1)[-1].replace("-", "")
        path = f"Extension.extension:{part}"
        value = (
            _element(f"{path}.value[x]", type=[{"code": code} for code in value_type.split("|")])
            if value_type
            else _element(f"{path}.value[x]", max="0")
        )
        elements += [
            _element(path, sliceName=part, short=definition, definition=definition),
            _element(f"{path}.url", fixedUri=url),
            value,
        ]
    elements += [
        _element("Extension.url", fixedUri=f"{CANONICAL_BASE}/StructureDefinition/{name}"),
        _element("Extension.value[x]", max="0"),
    ]
    return _structure_definition(name, title, description, contexts, elements)


def _structure_definition(
    name: str, title: str, description: str, contexts: list[str], elements: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "id": name,
        "url": f"{CANONICAL_BASE}/StructureDefinition/{name}",
        "name": "".join(part.title() for part in name.split("-")),
        "title": title,
        "status": "active",
        "description": description,
        "fhirVersion": FHIR_VERSION,
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": c} for c in contexts],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {"element": elements},
    }


STRUCTURE_DEFINITIONS: dict[str, dict[str, Any]] = {
    "evidence": _complex_extension(
        "evidence",
        "Evidence of a claim",
        "Where the claim comes from, so that it can be traced to its words: a span of a source "
        "text (`type` source_span: `source`, `start`, `end` as Python string indices, `quote` == "
        "text[start:end], `source_url` where the text is served) or an external citation (`type` "
        "external_citation: `citation`, `title`, `url`, `quote`, and any qualifier the evidence "
        "carries, such as `kind`, `verified`, `restores`). Every field of the API's evidence "
        "object is a sub-extension of the same name; lists repeat it.",
        ["Element"],
        [
            ("type", "code|string", "source_span or external_citation."),
            ("source", "string", "The source text's id (GET /v1/sources/{source})."),
            ("start", "integer", "Start offset of the quote in the source text."),
            ("end", "integer", "End offset (exclusive) of the quote in the source text."),
            ("quote", "string", "The exact words (or, for a citation, value) cited."),
            ("source_url", "uri", "Where the whole source text is served."),
            ("external", "boolean", "True for a citation outside the source text."),
            ("citation", "string", "The external citation's id."),
            ("title", "string", "The cited work's title."),
            ("url", "uri", "The cited work's URL."),
        ],
    ),
    "receptor-target": _complex_extension(
        "receptor-target",
        "Receptor target",
        "A molecular target of the medication with the medication's action there and its "
        "measured affinities (R5 MedicationKnowledge has no element for them), with evidence.",
        ["MedicationKnowledge"],
        [
            ("target", "string", "The target's name."),
            ("action", "code", "agonist | blocker | no_significant_affinity."),
            ("gene", "string", "HGNC symbol of a subunit's gene (repeats)."),
            ("code", "Coding", "A code of the target (HGNC, UniProt, NCBI Gene; repeats)."),
            (
                "affinity",
                "",
                "A measured affinity: sub-extensions `measure` (string, e.g. Ki), `value` "
                "(Quantity), `range` (Range), `subject` (string: who was measured, when not the "
                "medication).",
            ),
            (RECORD_EXTENSION, "uri", "The API record the target comes from."),
            (EVIDENCE_EXTENSION, "", "The evidence of the target, one extension per entry."),
        ],
    ),
    "monograph-record": {
        **_structure_definition(
            "monograph-record",
            "Monograph record",
            "The API record (list item) this element was built from: GET the path for its JSON "
            "form, with every fact it gathers.",
            ["Element"],
            [
                _element("Extension", short="Monograph record"),
                _element("Extension.extension", max="0"),
                _element(
                    "Extension.url",
                    fixedUri=f"{CANONICAL_BASE}/StructureDefinition/monograph-record",
                ),
                _element("Extension.value[x]", min=1, type=[{"code": "uri"}]),
            ],
        )
    },
}

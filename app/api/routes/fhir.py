"""/fhir/R5: a read-only FHIR R5 server over the catalog (app/formats/fhir.py builds the resources),
and /v1/drugs/{drug}/fhir, the whole drug as one Bundle."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from app.api.deps import CatalogDep, DrugDep
from app.api.responses import bytes_response
from app.catalog import DrugEntry
from app.domain.described import described
from app.domain.names import normalize_name
from app.errors import FHIR_MEDIA_TYPE, NotFoundError, problem_responses
from app.formats import fhir
from app.schemas import DrugNameProblem

router = APIRouter(prefix="/fhir/R5", tags=["fhir"])
drug_router = APIRouter(prefix="/v1/drugs", tags=["fhir"])


class FhirMediaResponse(JSONResponse):
    """Declares application/fhir+json in the OpenAPI document (the routes send bytes themselves)."""

    media_type = FHIR_MEDIA_TYPE


class FhirResource(BaseModel):
    """A FHIR R5 resource (its full definition: https://hl7.org/fhir/R5/)."""

    model_config = ConfigDict(extra="allow")
    resourceType: str = Field(
        description="The FHIR resource type.", examples=["MedicationKnowledge"]
    )
    id: str | None = Field(
        default=None, description="The resource's logical id on this server.", examples=["baclofen"]
    )


@described(
    {
        "searchset": "The results of a search.",
        "collection": "A set of resources kept together: a whole drug.",
    }
)
class BundleType(StrEnum):
    """What a Bundle holds."""

    searchset = "searchset"
    collection = "collection"


class Bundle(FhirResource):
    """A FHIR R5 Bundle: a searchset (search results) or a collection (a whole drug)."""

    resourceType: Literal["Bundle"] = Field(default="Bundle", description="Always `Bundle`.")
    type: BundleType = Field(description="What the Bundle holds.")
    entry: list[dict[str, Any]] = Field(
        default=[], description="The resources, each with its `fullUrl`."
    )


@described(
    {
        "fatal": "The request could not be processed at all.",
        "error": "The request was refused or failed.",
        "warning": "Processed, with a caveat.",
        "information": "For information only.",
    }
)
class IssueSeverity(StrEnum):
    """How serious a FHIR issue is."""

    fatal = "fatal"
    error = "error"
    warning = "warning"
    information = "information"


class OutcomeIssue(BaseModel):
    """One issue of an OperationOutcome."""

    model_config = ConfigDict(extra="allow")
    severity: IssueSeverity = Field(description="How serious it is.")
    code: str = Field(
        description="The FHIR issue type (e.g. `not-found`, `invalid`).", examples=["not-found"]
    )
    diagnostics: str | None = Field(default=None, description="What went wrong, in words.")


class OperationOutcome(BaseModel):
    """A FHIR error: what went wrong, in `issue[].diagnostics`."""

    resourceType: Literal["OperationOutcome"] = Field(
        default="OperationOutcome", description="Always `OperationOutcome`."
    )
    issue: list[OutcomeIssue] = Field(description="What went wrong.")


def outcome_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "A search parameter is invalid or unknown (OperationOutcome).",
        404: "No such resource (OperationOutcome).",
        414: "The URL path is too long (OperationOutcome).",
        500: "Unexpected error (OperationOutcome).",
    }
    return {
        status: {
            "model": OperationOutcome,
            "description": descriptions[status],
            "content": {FHIR_MEDIA_TYPE: {}},
        }
        for status in statuses
    }


def fhir_common_responses() -> dict[int | str, dict[str, Any]]:
    """What any /fhir route can answer besides its own statuses."""
    return {
        304: {"description": "Not Modified: the representation matches If-None-Match."},
        **outcome_responses(400, 414, 500),
    }


def fhir_response(request: Request, payload: dict[str, Any]) -> Response:
    """Like every GET of the API (strong ETag, 304, gzip once), as application/fhir+json."""
    response = bytes_response(request, orjson.dumps(payload))
    if response.status_code == 200:
        response.headers["content-type"] = FHIR_MEDIA_TYPE
    return response


FHIR_ID_PATTERN = r"^[A-Za-z0-9\-.]{1,64}$"
MedicationId = Annotated[
    str,
    Path(
        pattern=FHIR_ID_PATTERN,
        description="The MedicationKnowledge's id: the drug's slug.",
        examples=["baclofen"],
    ),
]
ClinicalUseId = Annotated[
    str,
    Path(
        pattern=FHIR_ID_PATTERN,
        description="The ClinicalUseDefinition's id: the id of the list item it maps.",
        examples=["indications-muscle-spasticity"],
    ),
]
DefinitionId = Annotated[
    str,
    Path(
        pattern=FHIR_ID_PATTERN,
        description="The StructureDefinition's id: the extension's name.",
        examples=["evidence"],
    ),
]
SearchValue = Annotated[str | None, Query(max_length=200)]


@router.get(
    "/metadata",
    response_model=FhirResource,
    response_class=FhirMediaResponse,
    summary="FHIR CapabilityStatement",
    operation_id="fhir_capabilities",
)
async def fhir_capabilities(request: Request, catalog: CatalogDep) -> Response:
    """What this FHIR server serves, exactly: resource types, interactions, search parameters."""
    return fhir_response(request, fhir.capability_statement(catalog))


@router.get(
    "/MedicationKnowledge",
    response_model=Bundle,
    response_class=FhirMediaResponse,
    summary="Search MedicationKnowledge",
    operation_id="fhir_search_medication_knowledge",
)
async def fhir_search_medication_knowledge(
    request: Request,
    catalog: CatalogDep,
    code: Annotated[
        SearchValue,
        Query(
            max_length=200,
            description="[system]|[code] or [code], comma-separated for any of several: RxNorm, "
            "ATC or UNII.",
            examples=["http://www.nlm.nih.gov/research/umls/rxnorm|1292"],
        ),
    ] = None,
    name: Annotated[
        SearchValue,
        Query(
            max_length=200,
            description="Matches a name, brand or synonym starting with it (case and accents "
            "ignored); comma-separated for any of several.",
            examples=["lioresal"],
        ),
    ] = None,
) -> Response:
    """The medications matching every parameter given (all of them with none), as a searchset."""
    found = [
        fhir.medication_knowledge(drug)
        for drug in catalog.drugs.values()
        if _matches_code(drug, code) and _matches_name(drug, name)
    ]
    return fhir_response(request, fhir.searchset(found, _self_url(request)))


def _matches_code(drug: DrugEntry, wanted: str | None) -> bool:
    if wanted is None:
        return True
    codings = fhir.medication_knowledge(drug)["code"]["coding"]
    for token in wanted.split(","):
        system, _, code = token.rpartition("|")
        if any(c["code"] == code and system in ("", c["system"]) for c in codings):
            return True
    return False


def _matches_name(drug: DrugEntry, wanted: str | None) -> bool:
    if wanted is None:
        return True
    names = [normalize_name(name) for name in [drug.name, *drug.document["names"]]]
    prefixes = [normalize_name(value) for value in wanted.split(",")]
    return any(name.startswith(prefix) for prefix in prefixes if prefix for name in names)


@router.get(
    "/MedicationKnowledge/{resource_id}",
    response_model=FhirResource,
    response_class=FhirMediaResponse,
    summary="Read a MedicationKnowledge",
    operation_id="fhir_read_medication_knowledge",
    responses=outcome_responses(404),
)
async def fhir_read_medication_knowledge(
    request: Request, catalog: CatalogDep, resource_id: MedicationId
) -> Response:
    """A drug: codes, names, routes, classification, receptor targets, clinical-use issues."""
    drug = fhir.find_medication(catalog, resource_id)
    if drug is None:
        raise NotFoundError(f"No MedicationKnowledge has the id {resource_id!r}.")
    return fhir_response(request, fhir.medication_knowledge(drug))


@router.get(
    "/ClinicalUseDefinition",
    response_model=Bundle,
    response_class=FhirMediaResponse,
    summary="Search ClinicalUseDefinition",
    operation_id="fhir_search_clinical_use_definition",
)
async def fhir_search_clinical_use_definition(
    request: Request,
    catalog: CatalogDep,
    subject: Annotated[
        SearchValue,
        Query(
            max_length=200,
            description="The medication: MedicationKnowledge/[id] or [id].",
            examples=["MedicationKnowledge/baclofen"],
        ),
    ] = None,
    type: Annotated[
        SearchValue,
        Query(
            max_length=200,
            description="indication, contraindication, interaction, undesirable-effect or "
            "warning; comma-separated for any of several.",
            examples=["undesirable-effect"],
        ),
    ] = None,
) -> Response:
    """Indications, contraindications, interactions, undesirable effects and warnings matching
    every parameter given, as a searchset."""
    drugs = list(catalog.drugs.values())
    if subject is not None:
        wanted = subject.removeprefix(fhir.CANONICAL_BASE + "/")
        wanted = wanted.removeprefix("MedicationKnowledge/")
        drugs = [d for d in drugs if fhir.fhir_id(d.slug) == wanted]
    types = set(type.split(",")) if type is not None else set(fhir.CUD_TYPES)
    found = [
        cud for drug in drugs for cud in fhir.clinical_use_definitions(drug) if cud["type"] in types
    ]
    return fhir_response(request, fhir.searchset(found, _self_url(request)))


@router.get(
    "/ClinicalUseDefinition/{resource_id}",
    response_model=FhirResource,
    response_class=FhirMediaResponse,
    summary="Read a ClinicalUseDefinition",
    operation_id="fhir_read_clinical_use_definition",
    responses=outcome_responses(404),
)
async def fhir_read_clinical_use_definition(
    request: Request, catalog: CatalogDep, resource_id: ClinicalUseId
) -> Response:
    """One indication, contraindication, interaction, undesirable effect or warning, with the
    evidence of every claim in it."""
    found = fhir.find_clinical_use(catalog, resource_id)
    if found is None:
        raise NotFoundError(f"No ClinicalUseDefinition has the id {resource_id!r}.")
    return fhir_response(request, found)


@router.get(
    "/StructureDefinition/{resource_id}",
    response_model=FhirResource,
    response_class=FhirMediaResponse,
    summary="Read the definition of an extension",
    operation_id="fhir_read_structure_definition",
    responses=outcome_responses(404),
)
async def fhir_read_structure_definition(request: Request, resource_id: DefinitionId) -> Response:
    """The StructureDefinition of one of this server's extensions (evidence, receptor-target,
    monograph-record), served at the path its canonical URL names."""
    found = fhir.STRUCTURE_DEFINITIONS.get(resource_id)
    if found is None:
        known = ", ".join(sorted(fhir.STRUCTURE_DEFINITIONS))
        raise NotFoundError(f"No StructureDefinition {resource_id!r}; this server defines {known}.")
    return fhir_response(request, found)


def _self_url(request: Request) -> str:
    # Parameters sorted by name, as the response cache keys them: one URL, one body.
    query = urlencode(sorted(request.query_params.multi_items(), key=lambda pair: pair[0]))
    path = request.url.path.removeprefix("/fhir/R5")
    return f"{fhir.CANONICAL_BASE}{path}" + (f"?{query}" if query else "")


@drug_router.get(
    "/{drug}/fhir",
    response_model=Bundle,
    response_class=FhirMediaResponse,
    summary="Get the whole drug as a FHIR R5 Bundle",
    operation_id="get_drug_fhir_bundle",
    responses=problem_responses(404, 422, model=DrugNameProblem),
)
async def get_drug_fhir_bundle(request: Request, drug: DrugDep, catalog: CatalogDep) -> Response:
    """The drug's MedicationKnowledge and every ClinicalUseDefinition, as one Bundle of type
    collection (application/fhir+json)."""
    return fhir_response(request, fhir.drug_bundle(drug, catalog.version))

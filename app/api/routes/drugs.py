"""/v1/drugs: the drugs, each drug's monograph summary, and one list endpoint per section."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from app.api.deps import CatalogDep, DrugDep
from app.api.facets import filter_fields, section_facets
from app.api.openapi import link, ok_with_links
from app.api.params import (
    SECTION_PARAMS,
    FactParams,
    Limit,
    ListParams,
    Offset,
    filter_sort_page,
    params_for,
)
from app.api.responses import bytes_response, json_response
from app.domain.sections import Section
from app.errors import NotFoundError, problem_responses
from app.formats import jsonld
from app.schemas import (
    ITEM_MODELS,
    DrugListItem,
    DrugNameProblem,
    DrugSummary,
    FactItem,
    Page,
    SectionFacets,
    page_envelope,
)

# This module builds its section routes in a loop, so annotations must be evaluated eagerly:
# no `from __future__ import annotations` here.

router = APIRouter(prefix="/v1/drugs", tags=["drugs"])

SECTION_DESCRIPTIONS: dict[Section, str] = {
    Section.indications: "What the drug is used for, one item per condition: its standing "
    "(`status`: primary, secondary, off-label, investigational, not recommended) and the routes it "
    "is used by (`routes`).",
    Section.routes: "Routes of administration, one item per route (oral, intrathecal, "
    "transdermal) with its NCI Thesaurus code and its details (pump, test dose, catheter, refill, "
    "replacement, why it is chosen) nested in `details`.",
    Section.adverse_effects: "Baclofen's adverse effects, one item per effect, coded, with the "
    "best-supported frequency, seriousness and the contexts in which it occurs (during treatment, "
    "on abrupt discontinuation). Use in pregnancy and breastfeeding is under "
    "`specific-populations`, abuse potential under `abuse-and-dependence`.",
    Section.withdrawal_symptoms: "Symptoms of baclofen withdrawal, one item per symptom, "
    "synonyms folded in. What the syndrome resembles, when it is likelier and how to avoid it "
    "are under `withdrawal-syndrome`.",
    Section.withdrawal_syndrome: "The withdrawal syndrome: what it resembles, what makes it "
    "likelier, what its severity depends on, tapering, and reversal by restarting therapy.",
    Section.overdose: "Overdose: its signs, its management and its course.",
    Section.pharmacology: "Receptor pharmacology, one item per target (with the drug's action "
    "and affinity), mechanism, pharmacological effect, and related compound; other compounds' "
    "values (phenibut, GHB) stay with those compounds, as comparators.",
    Section.names: "The nonproprietary name, brand names and synonyms, one item per name.",
    Section.pharmacokinetics: "Absorption, distribution, metabolism, excretion and half-life.",
    Section.chemistry: "Class, appearance, molar mass and solubility.",
    Section.interactions: "What combining the drug with other agents does.",
    Section.history: "A dated timeline of events.",
    Section.research: "What was studied and with what outcome.",
    Section.society: "Prescription volume, generic availability, regulation, misuse.",
    Section.overview: "The lead: what the drug is, in a few facts.",
    Section.specific_populations: "Use in specific populations: pregnancy and breastfeeding.",
    Section.abuse_and_dependence: "Abuse potential and dependence: addictive properties, drug "
    "euphoria and cases of abuse; `absent: true` where the source says they do not occur.",
}

MOVED: dict[int | str, dict[str, Any]] = {
    308: {
        "description": "The id names a fact this list gathers into another item, or an item that "
        "moved: `Location` is the item's path.",
    }
}


def _drug_links() -> dict[int | str, dict[str, Any]]:
    links = {
        f"list_{section.name}": link(f"list_{section.name}", drug="$response.body#/slug")
        for section in Section
    }
    links["get_source"] = link("get_source", source="$response.body#/source")
    return ok_with_links(**links)


@router.get(
    "",
    response_model=Page[DrugListItem],
    summary="List the drugs",
    operation_id="list_drugs",
    responses={
        **ok_with_links(get_drug=link("get_drug", drug="$response.body#/items/0/slug")),
        **problem_responses(422),
    },
)
async def list_drugs(
    request: Request,
    catalog: CatalogDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    """The drugs this service describes, by slug."""
    drugs = [
        {"slug": d.slug, "name": d.name, "href": f"/v1/drugs/{d.slug}"}
        for d in catalog.drugs.values()
    ]
    page = page_envelope(drugs[offset : offset + limit], len(drugs), limit, offset)
    return json_response(request, page)


def _drug_responses() -> dict[int | str, dict[str, Any]]:
    responses = _drug_links()
    responses[200]["content"] = {jsonld.MEDIA_TYPE: {"schema": JSON_LD_SCHEMA}}
    return {**responses, **problem_responses(404, 422, model=DrugNameProblem)}


JSON_LD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A schema.org Drug (with `Accept: application/ld+json`), its @context inline.",
    "required": ["@context", "@type", "name"],
    # The other schema.org Drug properties it carries (docs/standards.md lists them).
    "additionalProperties": True,
    "properties": {
        "@context": {
            "type": "object",
            "description": "Maps each term to its schema.org IRI (inline: nothing to fetch).",
        },
        "@type": {
            "type": "string",
            "enum": ["Drug"],
            "description": "The schema.org type.\n\n- `Drug`: a schema.org Drug.",
            "x-enum-descriptions": {"Drug": "A schema.org Drug."},
        },
        "name": {"type": "string", "description": "The drug's name."},
    },
}


@router.get(
    "/{drug}",
    response_model=DrugSummary,
    summary="Get a drug's monograph summary",
    operation_id="get_drug",
    responses=_drug_responses(),
)
async def get_drug(request: Request, drug: DrugDep, catalog: CatalogDep) -> Response:
    """The drug's names, identifiers, overview facts and a link to each section with its size.
    With `Accept: application/ld+json`: the drug as a schema.org `Drug` in JSON-LD."""
    if prefers_json_ld(request.headers.get("accept")):
        document = jsonld.drug_document(drug, catalog.sources.get(drug.document["source"]))
        response = bytes_response(request, orjson.dumps(document))
        if response.status_code == 200:
            response.headers["content-type"] = jsonld.MEDIA_TYPE
    else:
        response = json_response(request, drug.document)
    response.headers["vary"] = "Accept, Accept-Encoding"
    return response


def prefers_json_ld(accept: str | None) -> bool:
    """True if Accept ranks application/ld+json above JSON (RFC 9110 section 12.5.1 qualities)."""
    if not accept or "ld+json" not in accept:
        return False
    qualities: dict[str, float] = {}
    for media_range in accept.lower().split(","):
        media_type, *params = (part.strip() for part in media_range.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[media_type] = max(quality, qualities.get(media_type, 0.0))
    json_quality = next(
        (qualities[t] for t in ("application/json", "application/*", "*/*") if t in qualities), 0.0
    )
    return qualities.get(jsonld.MEDIA_TYPE, 0.0) > json_quality


def _add_section_routes(section: Section) -> None:
    params_model = params_for(section)
    item_model = ITEM_MODELS[section]
    title = section.value.replace("-", " ")
    op = section.name

    async def list_section(
        request: Request,
        drug: DrugDep,
        params: Annotated[params_model, Query()],  # type: ignore[valid-type]
    ) -> Response:
        query: ListParams = params
        return json_response(request, filter_sort_page(drug.sections[section], query))

    async def get_item(
        request: Request,
        drug: DrugDep,
        fact_id: Annotated[
            str,
            Path(
                max_length=200,
                description="The item's stable id (a fact it gathers, or a former id, redirects).",
            ),
        ],
    ) -> Response:
        item = drug.by_id.get(fact_id)
        if item is not None and item["section"] == section.value:
            return json_response(request, item)
        moved_to = drug.moved.get(fact_id)
        if moved_to is not None:
            return RedirectResponse(moved_to, status_code=308)
        if fact_id == "facets":
            raise NotFoundError(_no_facets(title))
        raise NotFoundError(f"{drug.name} has no {title} item {fact_id!r}.")

    router.add_api_route(
        f"/{{drug}}/{section.value}",
        list_section,
        methods=["GET"],
        response_model=Page[item_model],  # type: ignore[valid-type]
        summary=f"List the drug's {title}",
        description=SECTION_DESCRIPTIONS[section],
        operation_id=f"list_{op}",
        responses={
            **ok_with_links(
                **{
                    f"get_{op}_fact": link(
                        f"get_{op}_fact",
                        drug="$request.path.drug",
                        fact_id="$response.body#/items/0/id",
                    )
                }
            ),
            **problem_responses(404, 422, model=DrugNameProblem),
        },
    )
    if section in SECTION_PARAMS:
        _add_facets_route(section)
    # After the facets route: "facets" is never a fact id (ids start with the section's name).
    router.add_api_route(
        f"/{{drug}}/{section.value}/{{fact_id}}",
        get_item,
        methods=["GET"],
        response_model=item_model,
        summary=f"Get one of the drug's {title}",
        description=f"One item of the {title} list, by its stable id, with its evidence and the "
        "ids of the facts it gathers. The id of a fact it gathers redirects (308) to the item.",
        operation_id=f"get_{op}_fact",
        responses={**MOVED, **problem_responses(404, 422, model=DrugNameProblem)},
    )


def _no_facets(title: str) -> str:
    with_facets = ", ".join(section.value for section in SECTION_PARAMS)
    return (
        f"The {title} section has no filters, so it has no facets. "
        f"Sections with facets: {with_facets}."
    )


def _add_facets_route(section: Section) -> None:
    params_model = params_for(section)
    title = section.value.replace("-", " ")
    fields = ", ".join(f"`{name}`" for name in filter_fields(params_model))

    async def section_facets_route(request: Request, drug: DrugDep) -> Response:
        facets = section_facets(drug.slug, section, drug.sections[section], params_model)
        return json_response(request, facets.model_dump(mode="json"))

    router.add_api_route(
        f"/{{drug}}/{section.value}/facets",
        section_facets_route,
        methods=["GET"],
        response_model=SectionFacets,
        summary=f"Count the drug's {title} by value",
        description=f"For each filter of the {title} list ({fields}): how many facts have each "
        "value (lower-cased), most frequent first, and how many leave it unset (`null`).",
        operation_id=f"get_{section.name}_facets",
        responses=problem_responses(404, 422, model=DrugNameProblem),
    )


@router.get(
    "/{drug}/facts",
    response_model=Page[FactItem],
    summary="List the drug's statement-level facts",
    operation_id="list_facts",
    responses={
        **ok_with_links(
            get_statement_fact=link(
                "get_statement_fact",
                drug="$request.path.drug",
                fact_id="$response.body#/items/0/id",
            )
        ),
        **problem_responses(404, 422, model=DrugNameProblem),
    },
)
async def list_facts(
    request: Request, drug: DrugDep, params: Annotated[FactParams, Query()]
) -> Response:
    """Every fact of the monograph: what one statement of the source says, with its evidence and
    the list item that gathers it. The lists serve one item per thing; these are the statements
    behind them, by section (`section=`) in the seed's order."""
    return json_response(request, filter_sort_page(drug.facts, params))


@router.get(
    "/{drug}/facts/{fact_id}",
    response_model=FactItem,
    summary="Get one statement-level fact",
    operation_id="get_statement_fact",
    responses={**MOVED, **problem_responses(404, 422, model=DrugNameProblem)},
)
async def get_statement_fact(
    request: Request,
    drug: DrugDep,
    fact_id: Annotated[str, Path(max_length=200, description="The fact's stable id.")],
) -> Response:
    """One fact by its id, with its evidence and the item that gathers it; a former id of a fact
    that moved redirects (308) to it."""
    fact = drug.fact_by_id.get(fact_id)
    if fact is not None:
        return json_response(request, fact)
    current = drug.former_fact_ids.get(fact_id)
    if current is not None:
        return RedirectResponse(drug.fact_by_id[current]["href"], status_code=308)
    raise NotFoundError(f"{drug.name} has no fact {fact_id!r}.")


for _section in Section:
    _add_section_routes(_section)

"""/v1/drugs: the drugs, each drug's monograph summary, and one list endpoint per section."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from app.api.deps import CatalogDep, DrugDep
from app.api.facets import filter_fields, section_facets
from app.api.openapi import link, ok_with_links
from app.api.params import SECTION_PARAMS, Limit, ListParams, Offset, apply, page_of, params_for
from app.api.responses import json_response
from app.api.schemas import (
    ITEM_MODELS,
    DrugListItem,
    DrugNameProblem,
    DrugSummary,
    Page,
    SectionFacets,
)
from app.domain.sections import Section
from app.errors import NotFoundError, problem_responses

# This module builds its section routes in a loop, so annotations must be evaluated eagerly:
# no `from __future__ import annotations` here.

router = APIRouter(prefix="/v1/drugs", tags=["drugs"])

SECTION_DESCRIPTIONS: dict[Section, str] = {
    Section.indications: "What the drug is used for: each condition with its status "
    "(primary, secondary, off-label, intrathecal, investigational, not recommended) and route.",
    Section.routes: "Routes of administration (oral, intrathecal, transdermal) and what the source "
    "says of each: pump, test dose, catheter, refills, replacement, why it is used.",
    Section.adverse_effects: "Adverse effects with frequency, seriousness and context (treatment, "
    "abrupt discontinuation, combination), plus pregnancy and breastfeeding.",
    Section.withdrawal_symptoms: "The withdrawal syndrome: every symptom, and what it resembles, "
    "when it is likelier, tapering and reinstating therapy (`topic`).",
    Section.overdose: "Overdose: its signs, its management and its course.",
    Section.pharmacology: "Receptor pharmacology: targets with the drug's action and affinity, "
    "mechanism statements, related compounds.",
    Section.names: "The nonproprietary name, brand names and synonyms.",
    Section.pharmacokinetics: "Absorption, distribution, metabolism, excretion and half-life.",
    Section.chemistry: "Class, appearance, molar mass and solubility.",
    Section.interactions: "What combining the drug with other agents does.",
    Section.history: "A dated timeline of events.",
    Section.research: "What was studied and with what outcome.",
    Section.society: "Prescription volume, generic availability, regulation, misuse.",
    Section.overview: "The lead: what the drug is, in a few facts.",
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
    return json_response(request, page_of(drugs, limit, offset))


@router.get(
    "/{drug}",
    response_model=DrugSummary,
    summary="Get a drug's monograph summary",
    operation_id="get_drug",
    responses={**_drug_links(), **problem_responses(404, 422, model=DrugNameProblem)},
)
async def get_drug(request: Request, drug: DrugDep) -> Response:
    """The drug's names, identifiers, overview facts and a link to each section with its size."""
    return json_response(request, drug.summary)


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
        items, total = apply(drug.sections[section], query)
        page = {"items": items, "total": total, "limit": query.limit, "offset": query.offset}
        return json_response(request, page)

    async def get_fact(
        request: Request,
        drug: DrugDep,
        fact_id: Annotated[str, Path(max_length=200, description="The fact's stable id.")],
    ) -> Response:
        item = drug.by_id.get(fact_id)
        if item is None or item["section"] != section.value:
            raise NotFoundError(f"{drug.name} has no {title} fact {fact_id!r}.")
        return json_response(request, item)

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
        get_fact,
        methods=["GET"],
        response_model=item_model,
        summary=f"Get one of the drug's {title} facts",
        description=f"One fact of the {title} section, by its stable id, with its evidence.",
        operation_id=f"get_{op}_fact",
        responses=problem_responses(404, 422, model=DrugNameProblem),
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


for _section in Section:
    _add_section_routes(_section)

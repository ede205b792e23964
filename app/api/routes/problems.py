"""/problems/{problem_type}: what each problem `type` URI means, served where it points."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from app.api.responses import json_response
from app.errors import PROBLEM_TYPES, NotFoundError, problem_responses

router = APIRouter(prefix="/problems", tags=["meta"])


class ProblemTypeInfo(BaseModel):
    """A problem type: what it means and how to fix a request that met it."""

    type: str = Field(description="The type URI problems carry.", examples=["/problems/not-found"])
    title: str = Field(description="The problem's title, in words.", examples=["Not Found"])
    status: int = Field(description="The HTTP status it comes with.", examples=[404])
    meaning: str = Field(description="What the problem means.")
    fix: str = Field(description="How to change the request.")


@router.get(
    "/{problem_type}",
    response_model=ProblemTypeInfo,
    summary="Explain a problem type",
    operation_id="get_problem_type",
    responses=problem_responses(404, 422),
)
async def get_problem_type(
    request: Request,
    problem_type: Annotated[
        str,
        Path(
            max_length=100,
            description="The last segment of a problem's `type` URI: "
            + ", ".join(PROBLEM_TYPES)
            + ".",
            examples=["not-found"],
        ),
    ],
) -> Response:
    """What a problem `type` means and how to fix the request: each problem's `type` links here."""
    problem = PROBLEM_TYPES.get(problem_type)
    if problem is None:
        known = ", ".join(PROBLEM_TYPES)
        raise NotFoundError(f"No problem type is named {problem_type!r}; the types are {known}.")
    info = ProblemTypeInfo(
        type=problem.uri,
        title=problem.title,
        status=problem.status,
        meaning=problem.meaning,
        fix=problem.fix,
    )
    return json_response(request, info.model_dump(mode="json"))

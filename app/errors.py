"""One error hierarchy, rendered by one set of handlers as RFC 9457 application/problem+json."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://monograph.example/problems/"
logger = logging.getLogger("app.errors")


class FieldError(BaseModel):
    location: str = Field(examples=["query.limit"])
    message: str = Field(examples=["Input should be less than or equal to 200"])


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str = Field(examples=[PROBLEM_TYPE_BASE + "not-found"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["No drug is named 'aspirin'."])
    instance: str = Field(examples=["/v1/drugs/aspirin"])
    errors: list[FieldError] | None = Field(default=None, description="For 422: each bad input.")
    suggestions: list[str] | None = Field(default=None, description="Names that might be meant.")


class ProblemError(Exception):
    """Base of the errors the service reports on purpose."""

    status = 500
    title = "Internal Server Error"
    slug = "internal"

    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFoundError(ProblemError):
    status = 404
    title = "Not Found"
    slug = "not-found"


class AmbiguousNameError(ProblemError):
    """A name given as a filter means several drugs: the client must choose (see `suggestions`)."""

    status = 422
    title = "Ambiguous Name"
    slug = "ambiguous-name"


class ServiceUnavailableError(ProblemError):
    status = 503
    title = "Service Unavailable"
    slug = "unavailable"

    def __init__(self, detail: str, retry_after: int = 1, **extra: Any):
        super().__init__(detail, **extra)
        self.retry_after = retry_after


def problem_body(
    instance: str, status: int, title: str, detail: str, slug: str, **extra: Any
) -> bytes:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    return orjson.dumps(body)


def problem_response(
    request: Request, status: int, title: str, detail: str, slug: str, **extra: Any
) -> Response:
    body = problem_body(request.url.path, status, title, detail, slug, **extra)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entry declaring problem+json for the given statuses."""
    descriptions = {
        404: "Not Found (problem+json).",
        414: "The URL path is too long (problem+json).",
        422: "A parameter is invalid or unknown (problem+json).",
        500: "Unexpected error (problem+json).",
        503: "No dataset is loaded yet, or the database is not answering (problem+json).",
    }
    return {
        status: {
            "model": Problem,
            "description": descriptions[status],
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for status in statuses
    }


def common_responses() -> dict[int | str, dict[str, Any]]:
    """What any route of the API can answer besides its own statuses: declared on every route."""
    not_modified: dict[int | str, dict[str, Any]] = {
        304: {
            "description": "Not Modified: the representation matches If-None-Match (no body).",
            "headers": {
                "ETag": {
                    "description": "The strong ETag of the representation.",
                    "schema": {"type": "string"},
                }
            },
        }
    }
    return {**not_modified, **problem_responses(414, 422, 500)}


def install_error_handlers(app: FastAPI) -> None:
    _declare_problems_as_problem_json(app)
    app.add_exception_handler(ProblemError, _on_problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(SQLAlchemyError, _on_database_error)
    app.add_exception_handler(Exception, _on_unexpected)


def _declare_problems_as_problem_json(app: FastAPI) -> None:
    """Put the Problem schema under application/problem+json, the type the service sends.

    FastAPI files a response `model` under the route's media type (application/json); a client
    generated from that would not find the schema of the bodies it actually receives.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            for path_item in document.get("paths", {}).values():
                for operation in path_item.values():
                    for response in operation.get("responses", {}).values():
                        content = response.get("content", {})
                        if PROBLEM_MEDIA_TYPE in content and "application/json" in content:
                            content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


async def _on_problem(request: Request, error: ProblemError) -> Response:
    response = problem_response(
        request, error.status, error.title, error.detail, error.slug, **error.extra
    )
    if isinstance(error, ServiceUnavailableError):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


async def _on_database_error(request: Request, error: Exception) -> Response:
    # A safety net: database calls go through app.outage, which logs the outage once.
    detail = "The database does not answer; retry later."
    response = problem_response(request, 503, "Service Unavailable", detail, "unavailable")
    response.headers["Retry-After"] = "5"
    return response


async def _on_http_exception(request: Request, error: StarletteHTTPException) -> Response:
    if error.status_code == 404:
        detail = f"No resource at {request.url.path}. See /docs for the endpoints."
        return problem_response(request, 404, "Not Found", detail, "not-found")
    if error.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
        response = problem_response(
            request, 405, "Method Not Allowed", detail, "method-not-allowed"
        )
        if error.headers and "Allow" in error.headers:
            response.headers["Allow"] = error.headers["Allow"]
        return response
    title = _reason(error.status_code)
    return problem_response(request, error.status_code, title, str(error.detail), "http-error")


async def _on_validation_error(request: Request, error: RequestValidationError) -> Response:
    errors = [_field_error(item) for item in error.errors()]
    detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors)
    return problem_response(
        request, 422, "Invalid Request", detail, "invalid-request", errors=errors
    )


async def _on_unexpected(request: Request, error: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    detail = "The service failed to answer this request. The error has been logged."
    return problem_response(request, 500, "Internal Server Error", detail, "internal")


def _field_error(item: dict[str, Any]) -> dict[str, str]:
    location = ".".join(str(part) for part in item.get("loc", ()))
    message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
    if item.get("type") == "extra_forbidden":
        message = f"unknown parameter {location.split('.')[-1]!r}"
    return {"location": location, "message": message}


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"

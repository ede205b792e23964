"""One error hierarchy, rendered by one set of handlers as RFC 9457 application/problem+json."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Relative: a client resolves it against the URL it asked (RFC 9457 section 3.1.1), so it points
# at this service wherever it is deployed, and no Host header a client sends can redirect it.
PROBLEM_TYPE_BASE = "/problems/"


@dataclass(frozen=True)
class ProblemType:
    """What one problem `type` means and how to fix the request: served at its type URI."""

    slug: str
    title: str
    status: int
    meaning: str
    fix: str

    @property
    def uri(self) -> str:
        return PROBLEM_TYPE_BASE + self.slug


PROBLEM_TYPES: dict[str, ProblemType] = {
    problem.slug: problem
    for problem in (
        ProblemType(
            "not-found",
            "Not Found",
            404,
            "Nothing is at this URL: no such drug, fact, source or route.",
            "Check the spelling. For a drug, follow `suggestions` or the `lookup` link, which "
            "forgives typos; GET /v1/drugs lists the drugs and /docs every route.",
        ),
        ProblemType(
            "ambiguous-name",
            "Ambiguous Name",
            422,
            "The drug name given on the path or in the `drug` filter belongs to several drugs "
            "(a shared brand, say); the service does not choose among them.",
            "Repeat the request with the slug of one of the `candidates`.",
        ),
        ProblemType(
            "invalid-request",
            "Invalid Request",
            422,
            "A path or query parameter is missing, malformed, out of range or unknown; "
            "`errors` names each one.",
            "Correct each parameter listed in `errors` (see its description in /docs). Unknown "
            "parameters are refused rather than ignored: check for a misspelt filter.",
        ),
        ProblemType(
            "uri-too-long",
            "URI Too Long",
            414,
            "The URL path is longer than the service accepts.",
            "Shorten the path: no resource of this service has a path that long.",
        ),
        ProblemType(
            "method-not-allowed",
            "Method Not Allowed",
            405,
            "The resource exists but not for this HTTP method: the API is read-only.",
            "Use one of the methods in the `Allow` header (GET).",
        ),
        ProblemType(
            "unavailable",
            "Service Unavailable",
            503,
            "The service has no dataset loaded yet, or cannot reach its database.",
            "Retry shortly; if it persists, the operator must run `monograph seed`.",
        ),
        ProblemType(
            "internal",
            "Internal Server Error",
            500,
            "The service failed while answering; the error is logged with the request id.",
            "Nothing in the request to fix: retry, and report the `X-Request-ID` if it persists.",
        ),
        ProblemType(
            "http-error",
            "HTTP Error",
            400,
            "An HTTP-level error other than the above; `status` and `title` say which.",
            "Follow the `detail`; the request line or headers may be malformed.",
        ),
    )
}
# Under /fhir errors are FHIR OperationOutcome resources, and a bad parameter is a 400 (FHIR
# search: "servers SHALL return 400 for a parameter they cannot process"), not a 422.
FHIR_PATH_PREFIX = "/fhir/"
FHIR_MEDIA_TYPE = "application/fhir+json"
_ISSUE_CODES = {400: "invalid", 404: "not-found", 405: "not-supported", 414: "too-long"}
logger = logging.getLogger(__name__)


class FieldError(BaseModel):
    """One bad input of a request."""

    location: str = Field(
        description="Where: `query.<name>`, `path.<name>` or `query`.", examples=["query.limit"]
    )
    message: str = Field(
        description="What is wrong with it.", examples=["Input should be less than or equal to 200"]
    )


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str = Field(
        description="What kind of problem this is: a URI reference, relative to the request's "
        "URL, that GET answers with what it means and how to fix the request "
        "(see the get_problem_type operation).",
        examples=[PROBLEM_TYPE_BASE + "not-found"],
    )
    title: str = Field(description="The kind of problem, in words.", examples=["Not Found"])
    status: int = Field(description="The HTTP status code.", examples=[404])
    detail: str = Field(
        description="What went wrong with this request, and what to do instead.",
        examples=["No drug is named 'aspirin'."],
    )
    instance: str = Field(description="The path requested.", examples=["/v1/drugs/aspirin"])
    errors: list[FieldError] | None = Field(default=None, description="For 422: each bad input.")


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
    """A name on a path or in a filter means several drugs: the client must choose one of the
    `candidates`."""

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
        "type": PROBLEM_TYPES[slug].uri,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    return orjson.dumps(body)


def error_body(
    path: str, status: int, title: str, detail: str, slug: str, **extra: Any
) -> tuple[int, str, bytes]:
    """Status, media type and body of an error, in the format of the API the path belongs to."""
    if path.startswith(FHIR_PATH_PREFIX):
        status = 400 if status == 422 else status
        return status, FHIR_MEDIA_TYPE, orjson.dumps(operation_outcome(status, detail))
    return status, PROBLEM_MEDIA_TYPE, problem_body(path, status, title, detail, slug, **extra)


def operation_outcome(status: int, detail: str) -> dict[str, Any]:
    issue = {
        "severity": "error" if status < 500 else "fatal",
        "code": _ISSUE_CODES.get(status, "exception" if status >= 500 else "processing"),
        "diagnostics": detail,
    }
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def problem_response(
    request: Request, status: int, title: str, detail: str, slug: str, **extra: Any
) -> Response:
    status, media_type, body = error_body(request.url.path, status, title, detail, slug, **extra)
    return Response(body, status_code=status, media_type=media_type)


def problem_responses(
    *statuses: int, model: type[Problem] = Problem
) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entry declaring problem+json for the given statuses."""
    # A model with extension fields (the drug-name problems) may also be an ambiguous name.
    types = {422: ["invalid-request", "ambiguous-name"]} if model is not Problem else {}
    descriptions = {status: _response_description(status, types.get(status)) for status in statuses}
    return {
        status: {
            "model": model,
            "description": descriptions[status],
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for status in statuses
    }


_STATUS_TYPES = {
    404: ["not-found"],
    414: ["uri-too-long"],
    422: ["invalid-request"],
    500: ["internal"],
    503: ["unavailable"],
}


def _response_description(status: int, slugs: list[str] | None) -> str:
    """The problem types a response may be, each linked to the page that explains it."""
    types = [PROBLEM_TYPES[slug] for slug in slugs or _STATUS_TYPES[status]]
    return " or ".join(f"{t.title} ({t.uri})" for t in types) + ": problem+json."


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
    # Starlette runs an Exception handler outside every middleware, where nothing adds the request
    # id and security headers: RequestContextMiddleware calls on_unexpected itself, and this one
    # only catches what fails in the middleware.
    app.add_exception_handler(SQLAlchemyError, _on_database_error)
    app.add_exception_handler(Exception, on_unexpected)


def _declare_problems_as_problem_json(app: FastAPI) -> None:
    """Put the Problem schema under application/problem+json, the type the service sends.

    FastAPI files a response `model` under the route's media type (application/json); a client
    generated from that would not find the schema of the bodies it actually receives.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            for path, path_item in document.get("paths", {}).items():
                for operation in path_item.values():
                    if path.startswith(FHIR_PATH_PREFIX):
                        # FastAPI declares a 422 on every route with parameters; under /fhir a
                        # bad parameter is a 400 OperationOutcome.
                        operation.get("responses", {}).pop("422", None)
                    for response in operation.get("responses", {}).values():
                        content = response.get("content", {})
                        for filed_under in ("application/json", FHIR_MEDIA_TYPE):
                            if PROBLEM_MEDIA_TYPE in content and filed_under in content:
                                content[PROBLEM_MEDIA_TYPE] = content.pop(filed_under)
            _drop_unused_validation_schemas(document)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def _drop_unused_validation_schemas(document: dict[str, Any]) -> None:
    """FastAPI's own 422 schemas, once no response refers to them any more."""
    schemas = document.get("components", {}).get("schemas", {})
    if (
        "#/components/schemas/HTTPValidationError"
        not in orjson.dumps(document.get("paths")).decode()
    ):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


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


async def on_unexpected(request: Request, error: Exception) -> Response:
    """A 500 problem without the error's details, which go to the log with the traceback."""
    request_id = request.scope.get("state", {}).get("request_id")
    logger.error(
        "unhandled error on %s %s (request %s)",
        request.method,
        request.url.path,
        request_id,
        exc_info=error,
    )
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

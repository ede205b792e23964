"""OpenAPI links: how a client, or a stateful tester such as schemathesis, goes from a response
to the next call (a list to its items, a drug to its sections)."""

from __future__ import annotations

from typing import Any


def link(operation_id: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": parameters}


def ok_with_links(**links: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """The `responses` entry adding links to the 200 response, to merge with problem_responses."""
    return {200: {"links": links}}

"""Enumerations that say what each of their values means, in their OpenAPI schema.

A client reading the contract meets `common_or_very_common` or `no_significant_affinity` with no
source at hand: `@described({...})` puts a sentence per value into the JSON schema twice, as a
list in `description` (which Swagger UI and ReDoc show) and as `x-enum-descriptions` (which tools
and the OpenAPI linters read). Every value must be described, or the module does not import.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

E = TypeVar("E", bound=StrEnum)


def described(meanings: dict[str, str]) -> Callable[[type[E]], type[E]]:
    """Class decorator: `meanings` maps every value of the enumeration to a sentence."""

    def decorate(enum: type[E]) -> type[E]:
        values = [member.value for member in enum]
        if set(meanings) != set(values):
            missing = sorted(set(values) - set(meanings))
            unknown = sorted(set(meanings) - set(values))
            raise TypeError(f"{enum.__name__}: undescribed {missing}, unknown {unknown}")
        ordered = {value: meanings[value] for value in values}
        summary = (enum.__doc__ or enum.__name__).strip()
        listing = "\n".join(f"- `{value}`: {meaning}" for value, meaning in ordered.items())

        def schema(
            cls: type[E], core_schema: CoreSchema, handler: GetJsonSchemaHandler
        ) -> JsonSchemaValue:
            reference = handler(core_schema)
            target: dict[str, Any] = handler.resolve_ref_schema(reference)
            target["description"] = f"{summary}\n\n{listing}"
            target["x-enum-descriptions"] = dict(ordered)
            return reference

        enum.__get_pydantic_json_schema__ = classmethod(schema)  # type: ignore[attr-defined]
        return enum

    return decorate

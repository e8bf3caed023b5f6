"""FHIR validation errors in plain words: the resource, its field, and what is wrong.

fhir.resources validates with pydantic, whose messages speak of Python ("Input should be a
valid string", "Value error, Date value string does not match spec regex.",
"``fhir.resources.R4B.bundle.Bundle`` expects resource type ..."). Each problem becomes a
:class:`FieldProblem` whose field is the path in the document (``Bundle.entry[0].resource.birthDate``,
indices in brackets as in :mod:`.json_input`) and whose message names the resource and its
field as FHIR spells them: ``the Patient's birthDate: '1970-13-45' is not a FHIR date
(YYYY, YYYY-MM or YYYY-MM-DD)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .errors import FieldProblem, shorten

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "float_type": "a number",
    "float_parsing": "a number",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "list_type": "a list",
    "dict_type": "a JSON object",
    "model_type": "a JSON object",
    "model_attributes_type": "a JSON object",
}
_FORMATS = {
    "Date": "a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)",
    "DateTime": "a FHIR dateTime (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone)",
    "Instant": "a FHIR instant (YYYY-MM-DDThh:mm:ss with a time zone)",
    "Time": "a FHIR time (hh:mm:ss)",
}
_SPEC_REGEX = re.compile(r"(\w+) value string does not match spec regex")
_INSTANCE_OF = re.compile(r"Value is expected from the instance of (\w+)")
_SHOWN = 40
"""Characters of a given value a message quotes."""


def validation_problems(error: ValidationError, data: Mapping[str, Any], where: str) -> list[FieldProblem]:
    """Each problem of ``error`` (validating ``data``, found at ``where``) in plain words."""
    return [_problem(detail, data, where) for detail in error.errors()]


def unknown_resource_type(data: Mapping[str, Any], where: str, key: str) -> FieldProblem:
    """fhir.resources raises KeyError('R4.NopeType') for an entry of an unknown resourceType."""
    name = re.sub(r"^R4B?\.|Type$", "", key)
    for index, entry in enumerate(_entries(data)):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if isinstance(resource, Mapping) and resource.get("resourceType") == name:
            return FieldProblem(f"{where}.entry[{index}].resource.resourceType", f"{_show(name)} is not a FHIR R4 resource type")
    return FieldProblem(where, f"{_show(name)} is not a FHIR R4 resource type")


def _entries(data: Mapping[str, Any]) -> Sequence[Any]:
    entries = data.get("entry")
    return entries if isinstance(entries, list) else []


def _problem(detail: ErrorDetails, data: Mapping[str, Any], where: str) -> FieldProblem:
    steps = [name for name in map(_fhir_name, detail["loc"]) if name is not None]
    path = where + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in steps)
    if detail["type"] == "fhir-validation-wrong-resource-type":
        context = detail.get("ctx") or {}
        expected, given = context.get("expected_resource_type"), context.get("resource_type")
        return FieldProblem(path, f"expected a FHIR {expected}, got {_show(given)}")
    resource, field = _resource_and_field(data, steps)
    subject = f"the {resource}'s {field}" if field else f"the {resource}"
    return FieldProblem(path, f"{subject}: {_what(detail, resource)}")


def _fhir_name(step: int | str) -> int | str | None:
    """pydantic's name of a field as FHIR spells it (``resource_type``, ``class_fhir``);
    None for ``root``, the inside of a pydantic root model, which FHIR does not have."""
    if isinstance(step, int):
        return step
    if step == "root":
        return None
    return "resourceType" if step == "resource_type" else step.removesuffix("__ext").removesuffix("_fhir")


def _resource_and_field(data: Mapping[str, Any], steps: list[int | str]) -> tuple[str, str]:
    """The innermost resource on the way to the problem, and the field's path inside it."""
    resource, start = str(data.get("resourceType") or "resource"), 0
    value: Any = data
    for position, step in enumerate(steps):
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(value, Mapping) and isinstance(value.get("resourceType"), str) and position + 1 < len(steps):
            resource, start = value["resourceType"], position + 1
    field = ""
    for step in steps[start:]:
        field += f"[{step}]" if isinstance(step, int) else f".{step}" if field else str(step)
    return resource, field


def _what(detail: ErrorDetails, resource: str) -> str:
    kind, given = detail["type"], detail.get("input")
    context = detail.get("ctx") or {}
    if kind == "missing":
        return "required, and not given"
    if kind == "extra_forbidden":
        return f"not a field of a FHIR R4 {resource}"
    if kind in _EXPECTED:
        return f"must be {_EXPECTED[kind]}, not {_kind(given)}"
    message = str(context.get("error") or detail["msg"]).removeprefix("Value error, ")
    spec = _SPEC_REGEX.match(message)
    instance = _INSTANCE_OF.match(message)
    if instance is not None:
        return f"must be a FHIR {instance.group(1)} (a JSON object), not {_kind(given)}"
    if spec is not None:
        return f"{_show(given)} is not {_FORMATS.get(spec.group(1), 'a valid FHIR ' + spec.group(1)[:1].lower() + spec.group(1)[1:])}"
    if message.startswith("Input should be "):
        return "must be " + message.removeprefix("Input should be ")
    return message.rstrip(".")


def _kind(value: object) -> str:
    """What a JSON value is, in words, with the value when it is short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {shorten(repr(value), _SHOWN)}"
    if isinstance(value, str):
        return f"the string {_show(value)}"
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, Mapping) else type(value).__name__


def _show(value: object) -> str:
    return shorten(repr(value), _SHOWN) if isinstance(value, str) else shorten(str(value), _SHOWN)

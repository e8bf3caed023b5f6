"""A CDS Hooks request body, checked: which orders to decide, with the prefetched resources.

Every fault of the client is a :class:`HookError` with its HTTP status: 400 for a malformed
body, 412 for a prefetch that was not sent. This service never queries the client's FHIR
server (``fhirServer``): it has no network access by design, so the prefetch is required.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest

from ..errors import InputError
from ..fhir import parse_resource, split_bundle
from ..json_input import loads_strict
from ..text_input import decode_utf8
from .services import PREFETCH


class HookError(Exception):
    """A request the service cannot answer, with the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class HookRequest:
    """What a hook call gives the decision: the patient, their conditions, the orders."""

    hook: str
    patient_id: str
    patient: Patient | None
    conditions: tuple[Condition, ...]
    orders: tuple[ServiceRequest, ...]
    other: tuple[str, ...]


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object of a request body; duplicate keys and NaN are malformed, not guessed."""
    try:
        data = loads_strict(decode_utf8(body))  # the reader query uses: same errors, same words
    except ValueError as error:  # not UTF-8, JSONDecodeError (NaN, too deep, a number too long), a key given twice
        raise HookError(400, f"body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise HookError(400, "body must be a JSON object (a CDS Hooks request)")
    return data


def read_request(data: dict[str, Any], hook: str) -> HookRequest:
    """Check a CDS Hooks request for ``hook`` and parse its FHIR resources."""
    if data.get("hook") != hook:
        raise HookError(400, f"hook: expected {hook!r} for this service, got {_show(data.get('hook'))}")
    if not isinstance(data.get("hookInstance"), str):
        raise HookError(400, "hookInstance: expected a string")
    context = data.get("context")
    if not isinstance(context, dict):
        raise HookError(400, "context: expected a JSON object")
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id:
        raise HookError(400, "context.patientId: expected a non-empty string")
    if "fhirServer" in data and not isinstance(data["fhirServer"], str):
        raise HookError(400, "fhirServer: expected a URL string")
    prefetch = data.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, dict):
        raise HookError(400, "prefetch: expected a JSON object")
    missing = [key for key in PREFETCH if not prefetch or key not in prefetch]
    if missing:
        raise HookError(
            412,
            f"prefetch {', '.join(missing)} not sent: this service never queries the FHIR server "
            "(fhirServer) itself; send the prefetch it declares in its discovery document",
        )
    assert prefetch is not None
    try:
        orders = split_bundle(parse_resource(Bundle, context.get("draftOrders"), "context.draftOrders"), "context.draftOrders")
        patient = _patient(prefetch["patient"], patient_id)
        conditions = _conditions(prefetch["conditions"])
    except InputError as error:
        raise HookError(400, str(error)) from None
    selected = _selected(context, orders.orders, hook)
    for order in selected:
        _check_subject(order, patient_id, "context.draftOrders")
    for condition in conditions:
        _check_subject(condition, patient_id, "prefetch.conditions")
    return HookRequest(hook, patient_id, patient, tuple(conditions), tuple(selected), tuple(orders.other))


def _patient(data: object, patient_id: str) -> Patient | None:
    if data is None:  # CDS Hooks: null means the client has no data for this prefetch
        return None
    patient: Patient = parse_resource(Patient, data, "prefetch.patient")
    if patient.id is not None and patient.id != patient_id:
        raise HookError(400, f"prefetch.patient: Patient/{patient.id} is not context.patientId {patient_id!r}")
    return patient


def _conditions(data: object) -> list[Condition]:
    if data is None:
        return []
    return split_bundle(parse_resource(Bundle, data, "prefetch.conditions"), "prefetch.conditions").conditions


def _selected(context: dict[str, Any], orders: list[ServiceRequest], hook: str) -> list[ServiceRequest]:
    """order-select decides the orders just selected; order-sign every draft order."""
    if hook != "order-select":
        return orders
    selections = context.get("selections")
    if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections):
        raise HookError(400, "context.selections: expected a list of references (order-select)")
    return [order for order in orders if f"ServiceRequest/{order.id}" in selections]


def _check_subject(resource: Any, patient_id: str, where: str) -> None:
    reference = resource.subject.reference if resource.subject is not None else None
    if reference and reference.startswith("Patient/") and reference != f"Patient/{patient_id}":
        raise HookError(400, f"{where}: {resource.get_resource_type()}/{resource.id} is about {reference}, "
                             f"not context.patientId {patient_id!r}")


def _show(value: object) -> str:
    return repr(value) if isinstance(value, str) else "nothing" if value is None else type(value).__name__

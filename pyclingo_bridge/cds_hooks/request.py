"""A CDS Hooks request body, checked: which orders to decide, with the prefetched resources.

Every fault of the client is a :class:`HookError` with its HTTP status: 400 for a malformed
body, 412 for a prefetch that was not sent, 413 for more orders or prefetched entries than one
call may carry. The prefetch is needed only when an order is one a policy governs: a call
about other orders (a diet, a medicine) is answered without it. A governed order without it
is a :class:`PrefetchMissing`, which the service answers by reading the client's FHIR server
(fhir_fetch.py) when it may, and with the 412 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import BaseModel

from ..errors import InputError
from ..fhir import parse_resource, split_bundle
from ..json_input import loads_strict
from ..text_input import decode_utf8
from .services import REQUIRED_PREFETCH

MAX_DRAFT_ORDERS = 50
"""Most draft orders decided in one hook call (a clinician signs a handful at a time)."""
MAX_PREFETCH_ENTRIES = 500
"""Most entries of one prefetched Bundle (the patient's conditions)."""

Parse = Callable[[type[BaseModel], object, str], Any]
"""How a resource is validated: ``fhir.parse_resource``, or a memory of it (validated.py)."""


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
    drafts: tuple[dict[str, Any], ...] = ()
    """Each order of ``orders`` as the client sent it (a CRD ``update`` action returns it)."""
    coverages: tuple[str, ...] = ()
    """References of the active Coverages prefetched (``coverage``), for CRD coverage information."""
    observations: tuple[tuple[str, Observation], ...] = ()
    """The Observations prefetched (``observations``, optional), each with its reference."""


class PrefetchMissing(HookError):
    """412: a governed order, and the prefetch ``missing`` (its keys) was not sent."""

    def __init__(self, missing: list[str], data: dict[str, Any], patient_id: str) -> None:
        super().__init__(412, f"prefetch {', '.join(missing)} not sent: send the prefetch this service declares "
                              "in its discovery document, or a fhirServer and fhirAuthorization to read it from")
        self.missing = tuple(missing)
        self.data = data
        self.patient_id = patient_id


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object of a request body; duplicate keys and NaN are malformed, not guessed."""
    try:
        data = loads_strict(decode_utf8(body))  # the reader query uses: same errors, same words
    except ValueError as error:  # not UTF-8, JSONDecodeError (NaN, too deep, a number too long), a key given twice
        raise HookError(400, f"body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise HookError(400, "body must be a JSON object (a CDS Hooks request)")
    return data


def read_request(data: dict[str, Any], hook: str, governs: Callable[[ServiceRequest], bool],
                 parse: Parse = parse_resource) -> HookRequest:
    """Check a CDS Hooks request for ``hook`` and parse its FHIR resources (with ``parse``).

    ``governs`` says which draft orders a policy decides; the prefetch is needed only when
    one of the orders is such an order. ``orders`` holds only those.
    """
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
    _check_count(context.get("draftOrders"), MAX_DRAFT_ORDERS, "context.draftOrders", "draft orders")
    try:
        drafts, other = _draft_orders(context.get("draftOrders"), parse)
    except InputError as error:
        raise HookError(400, str(error)) from None
    sent = {id(order): resource for order, resource in drafts}
    chosen = _selected(context, [order for order, _ in drafts], hook)
    selected = [order for order in chosen if governs(order)]
    if not selected:  # nothing a policy decides: no card, and no need for the prefetch
        return HookRequest(hook, patient_id, None, (), (), tuple(other))
    missing = [key for key in REQUIRED_PREFETCH if not prefetch or key not in prefetch]
    if missing:
        raise PrefetchMissing(missing, data, patient_id)
    assert prefetch is not None
    _check_count(prefetch["conditions"], MAX_PREFETCH_ENTRIES, "prefetch.conditions", "entries")
    _check_count(prefetch.get("observations"), MAX_PREFETCH_ENTRIES, "prefetch.observations", "entries")
    try:
        patient = _patient(prefetch["patient"], patient_id, parse)
        conditions = _conditions(prefetch["conditions"], parse)
        observations = _observations(prefetch.get("observations"), parse)
    except InputError as error:
        raise HookError(400, str(error)) from None
    for order in selected:
        _check_subject(order, patient_id, "context.draftOrders")
    for condition in conditions:
        _check_subject(condition, patient_id, "prefetch.conditions")
    for _, observation in observations:
        _check_subject(observation, patient_id, "prefetch.observations")
    coverages = _coverages(prefetch.get("coverage"), patient_id)
    return HookRequest(hook, patient_id, patient, tuple(conditions), tuple(selected), tuple(other),
                       tuple(sent[id(order)] for order in selected), coverages, tuple(observations))


def _draft_orders(data: object, parse: Parse) -> tuple[list[tuple[ServiceRequest, dict[str, Any]]], list[str]]:
    """The draft ServiceRequests, validated (each with its JSON), and a reference to every other draft order.

    Only ServiceRequests can be decided, so only they are validated: a record system's diet
    or medication order (NutritionOrder, MedicationRequest, ...) is named, not read, and a
    fault in it (as in the Inferno CRD fixture) does not refuse the call.
    """
    where = "context.draftOrders"
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise HookError(400, f"{where}: expected a FHIR Bundle of draft orders")
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise HookError(400, f"{where}.entry: expected a list of entries")
    orders: list[tuple[ServiceRequest, dict[str, Any]]] = []
    other: list[str] = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise HookError(400, f"{where}.entry.{index}.resource: expected a FHIR resource (a JSON object)")
        kind = resource.get("resourceType")
        if kind == "ServiceRequest":
            orders.append((parse(ServiceRequest, resource, f"{where}.entry.{index}.resource"), resource))
        else:
            name = kind if isinstance(kind, str) and kind else "resource"
            known = resource.get("id")
            other.append(f"{name}/{known}" if isinstance(known, str) and known else f"{name}[{index}]")
    return orders, other


def _check_count(bundle: object, limit: int, where: str, what: str) -> None:
    """413 for a Bundle of more entries than one call may carry, before any is parsed."""
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    if isinstance(entries, list) and len(entries) > limit:
        raise HookError(413, f"{where}: {len(entries)} {what}; this service reads at most {limit} per call")


def _patient(data: object, patient_id: str, parse: Parse) -> Patient | None:
    if data is None:  # CDS Hooks: null means the client has no data for this prefetch
        return None
    patient: Patient = parse(Patient, data, "prefetch.patient")
    if patient.id is not None and patient.id != patient_id:
        raise HookError(400, f"prefetch.patient: Patient/{patient.id} is not context.patientId {patient_id!r}")
    return patient


def _conditions(data: object, parse: Parse) -> list[Condition]:
    if data is None:
        return []
    return split_bundle(parse(Bundle, data, "prefetch.conditions"), "prefetch.conditions").conditions


def _observations(data: object, parse: Parse) -> list[tuple[str, Observation]]:
    """The Observations of an ``observations`` prefetch (absent or null: none were sent)."""
    if data is None:
        return []
    return split_bundle(parse(Bundle, data, "prefetch.observations"), "prefetch.observations").observations


def _coverages(data: object, patient_id: str) -> tuple[str, ...]:
    """The active Coverages of a ``coverage`` prefetch, by reference; anything else is not read.

    Only the reference is used (the assertion points at the client's Coverage), so the
    Coverage is not validated as a whole: a malformed one is left out, never refused.
    """
    entries = data.get("entry") if isinstance(data, dict) else None
    found = []
    for entry in entries[:MAX_PREFETCH_ENTRIES] if isinstance(entries, list) else ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "Coverage":
            continue
        coverage_id, status = resource.get("id"), resource.get("status")
        beneficiary = resource.get("beneficiary")
        about = beneficiary.get("reference") if isinstance(beneficiary, dict) else None
        if isinstance(coverage_id, str) and coverage_id and status == "active" and about in (None, f"Patient/{patient_id}"):
            found.append(f"Coverage/{coverage_id}")
    return tuple(found)


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

"""FHIR R4 input: from a Patient, Conditions and the ServiceRequest ordered to patient facts.

Resources are parsed and validated by ``fhir.resources`` (its R4B models: FHIR 4.3, which
keeps R4's Patient, Condition, ServiceRequest and Bundle as they were in 4.0.1). What a code
means is read from the knowledge base (:mod:`.codes`); this module only walks the resources:

* age: ``Patient.birthDate`` in whole years on the date of ``ServiceRequest.authoredOn``. No
  birth date or no authoredOn leaves age unknown, as does a partial date (``1970``) whose
  possible ages differ; the output says which.
* Conditions (not refuted, not entered in error, not resolved / inactive / in remission): each
  coding is looked up; a code that means nothing to the policy is reported as ``unmapped``.
* red flags found in codes are known present, the others stay unknown: no red-flag code is
  not a negative screen, so ``red_flags`` is never given as a complete list from FHIR.
* Observations the KB maps (``code_measures/5``) give number facts: the most recent on or
  before the order's date, in the KB's unit (:mod:`.observations`); each is accounted for.

Everything the bundle does not establish stays unknown, and the one engine decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import BaseModel, ValidationError

from .codes import CodeMaps
from .decision import Decision
from .engine import PolicyEngine
from .errors import FieldProblem, InputError
from .fact_types import json_value
from .fhir_dates import date_span
from .fhir_errors import unknown_resource_type, validation_problems
from .observations import Measurement, read_observations
from .routing import Procedure, governs
from .vocabulary import PatientFacts

FHIR_VERSION = "4.0.1"
"""The FHIR release this input speaks (parsed with fhir.resources' R4B models, see above)."""

# Condition statuses under which a Condition says nothing about the patient now.
_CLINICAL_STATUS_IGNORED = frozenset({"inactive", "resolved", "remission"})
_VERIFICATION_STATUS_IGNORED = frozenset({"refuted", "entered-in-error"})


@dataclass(frozen=True)
class Coding:
    """One coding as recorded, with the resource it came from."""

    resource: str
    system: str | None
    code: str | None
    display: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "system": self.system, "code": self.code, "display": self.display}


@dataclass(frozen=True)
class MappedCoding:
    coding: Coding
    fact: str | None
    value: str | None
    indication: str | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        meaning = {"fact": self.fact, "value": self.value} if self.fact else {"indication": self.indication}
        return {**self.coding.to_dict(), **meaning, "source": self.source}


@dataclass(frozen=True)
class FhirFacts:
    """The patient facts a FHIR input establishes, and an account of every code read."""

    order: str
    facts: PatientFacts
    mapped: tuple[MappedCoding, ...] = ()
    unmapped: tuple[Coding, ...] = ()
    ignored: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    observations: tuple[Measurement, ...] = ()
    """Each Observation read for a number fact, whether it was used, and why."""

    def to_dict(self) -> dict[str, Any]:
        given = {key: json_value(value) for key, value in self.facts.given.items()}
        return {
            "fhir_version": FHIR_VERSION,
            "order": self.order,
            "facts": given,
            "at_least": sorted(self.facts.at_least),
            "mapped": [mapped.to_dict() for mapped in self.mapped],
            "unmapped": [coding.to_dict() for coding in self.unmapped],
            "observations": [measurement.to_dict() for measurement in self.observations],
            "ignored": list(self.ignored),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class FhirDecision:
    """A decision on an order, with the FHIR account of the facts it was decided on."""

    decision: Decision
    fhir: FhirFacts

    def to_dict(self) -> dict[str, Any]:
        return {**self.decision.to_dict(), "fhir": self.fhir.to_dict()}


@dataclass
class Resources:
    """The resources of one request: at most one Patient, its Conditions and Observations, the orders."""

    patient: Patient | None = None
    conditions: list[Condition] = field(default_factory=list)
    observations: list[tuple[str, Observation]] = field(default_factory=list)
    """Each Observation with its reference (``Observation/<id>``, or by entry when it has none)."""
    orders: list[ServiceRequest] = field(default_factory=list)
    other: list[str] = field(default_factory=list)


# --- parsing -----------------------------------------------------------------------------


def parse_resource(model: type[BaseModel], data: object, where: str) -> Any:
    """Validate ``data`` as a FHIR ``model``; any fault becomes one InputError naming ``where``."""
    if not isinstance(data, Mapping):
        raise InputError([FieldProblem(where, f"expected a FHIR {model.__name__} (a JSON object)")])
    try:
        return model.model_validate(data)
    except ValidationError as error:  # in plain words: resource, field, what is wrong
        raise InputError(validation_problems(error, data, where)) from None
    except KeyError as error:  # fhir.resources' way of saying an entry's resourceType is unknown
        raise InputError([unknown_resource_type(data, where, str(error.args[0]))]) from None
    except (LookupError, ValueError, TypeError, AttributeError, RecursionError) as error:
        raise InputError([FieldProblem(where, f"not a valid FHIR R4 {model.__name__}: {error}")]) from None


def split_bundle(bundle: Bundle, where: str = "Bundle") -> Resources:
    """Sort a Bundle's entries into Patient, Conditions, Observations and ServiceRequests."""
    found = Resources()
    for index, entry in enumerate(bundle.entry or ()):
        resource = entry.resource
        if resource is None:
            continue
        name = resource.get_resource_type()
        if isinstance(resource, Patient):
            if found.patient is not None:
                raise InputError([FieldProblem(f"{where}.entry[{index}]", "a second Patient: send one patient per request")])
            found.patient = resource
        elif isinstance(resource, Condition):
            found.conditions.append(resource)
        elif isinstance(resource, ServiceRequest):
            found.orders.append(resource)
        elif isinstance(resource, Observation):
            found.observations.append((_reference(resource, index), resource))
        elif name != "OperationOutcome":  # search bundles may carry one; it is not a fact
            found.other.append(_reference(resource, index))
    return found


# --- facts -------------------------------------------------------------------------------


@cache
def code_maps(engine: PolicyEngine) -> CodeMaps:
    """The code mappings of an engine's policy (its model's, read once)."""
    return engine.model.codes


def order_procedures(order: ServiceRequest) -> list[Procedure]:
    """The procedure codes an order names (``ServiceRequest.code.coding``, system and code both given)."""
    codings = (order.code.coding or ()) if order.code else ()
    return [Procedure(coding.system, coding.code) for coding in codings if coding.system and coding.code]


def governs_order(engine: PolicyEngine, order: ServiceRequest) -> bool:
    """Whether ``engine``'s policy governs this order's procedure code (routing.py)."""
    return governs(engine.model, order_procedures(order))


def is_policy_order(engine: PolicyEngine, order: ServiceRequest) -> bool:
    """Whether the policy decides an order that names no procedure code, asked for by name
    (``--policy``): its category is one the policy decides, or it records no category we can
    read (then it is decided, and the output says so)."""
    maps = code_maps(engine)
    categories = [
        maps.order_category(coding.system, coding.code)
        for concept in order.category or ()
        for coding in concept.coding or ()
    ]
    known = [category.category for category in categories if category is not None]
    return not known or any(category in maps.policy_categories for category in known)


def facts_from_resources(
    engine: PolicyEngine,
    patient: Patient | None,
    conditions: Sequence[Condition],
    order: ServiceRequest,
    other: Iterable[str] = (),
    observations: Sequence[tuple[str, Observation]] = (),
) -> FhirFacts:
    """The patient facts that these resources establish, under ``engine``'s vocabulary
    (``observations``: each Observation with its reference)."""
    maps = code_maps(engine)
    order_ref = _reference(order)
    notes: list[str] = []
    ignored = [f"{ref}: not read by this policy" for ref in other]
    mapping: dict[str, Any] = {"id": order_ref}

    _check_subject(patient, order, "ServiceRequest.subject")
    age, age_note = _age(patient, order)
    if age is not None and maps.age_fact is not None:
        mapping[maps.age_fact] = age
    if age_note:
        notes.append(age_note)
    if not order_procedures(order):  # decided only because the policy was named (query --policy)
        noun = engine.policy.metadata.get("order_noun")
        as_what = f" as an order for {noun}" if noun else ""
        notes.append(f"{order_ref}: no procedure code recorded; decided{as_what} under {engine.policy.reference}, as named")

    mapped: list[MappedCoding] = []
    unmapped: list[Coding] = []
    values: dict[str, set[str]] = {}
    for index, condition in enumerate(conditions):
        ref = _reference(condition, index)
        _check_subject(patient, condition, f"{ref}.subject")
        reason = _ignored_because(condition)
        if reason:
            ignored.append(f"{ref}: {reason}")
            continue
        codings = list(_codings(condition.code, ref))
        if not codings:
            text = condition.code.text if condition.code else None
            unmapped.append(Coding(ref, None, None, text))
        for coding in codings:
            meanings = maps.meanings(coding.system, coding.code)
            if not meanings:
                unmapped.append(coding)
            for meaning in meanings:
                mapped.append(MappedCoding(coding, meaning.key, meaning.value, meaning.indication, meaning.source))
                if meaning.key is not None and meaning.value is not None:
                    values.setdefault(meaning.key, set()).add(meaning.value)

    at_least: set[str] = set()
    for key, found in sorted(values.items()):
        spec = engine.vocabulary.specs[key]
        value = spec.fact_type.from_codes(spec, found)
        if value is None:
            disagree = " / ".join(engine.wording.value_sentence(key, value) for value in sorted(found))
            notes.append(f"codes disagree ({disagree}); left unknown")
            continue
        mapping[key] = value
        if spec.fact_type.multiple and spec.world == "open":
            at_least.add(key)
            coded = "; ".join(engine.wording.value_sentence(key, value) for value in sorted(found))
            notes.append(f"coded as present: {coded}; the others are unknown (no screen recorded)")
    for ref, observation in observations:
        _check_subject(patient, observation, f"{ref}.subject")
    measured = read_observations(maps, engine.vocabulary, observations, order.authoredOn)
    mapping.update(measured.values)
    unmapped += [Coding(*coding) for coding in measured.unmapped]
    ignored += measured.ignored
    notes += measured.notes
    if maps.indications and not maps.indications & {m.indication for m in mapped if m.indication}:
        indication = engine.policy.metadata.get("indication")
        notes.append(f"no Condition codes {indication}, the condition this policy is about" if indication
                     else "no Condition codes the condition this policy is about")

    try:
        facts = engine.vocabulary.validate(mapping)
    except InputError as error:  # only age can be out of range: say where it came from
        raise InputError(
            [FieldProblem(f"{p.field} (from Patient.birthDate and ServiceRequest.authoredOn)", p.message) for p in error.problems]
        ) from None
    return FhirFacts(
        order=order_ref,
        facts=PatientFacts(facts.given, facts.record_id, frozenset(at_least)),
        mapped=tuple(mapped),
        unmapped=tuple(unmapped),
        ignored=tuple(ignored),
        notes=tuple(notes),
        observations=tuple(measured.measurements),
    )


def decide_order(
    engine: PolicyEngine,
    patient: Patient | None,
    conditions: Sequence[Condition],
    order: ServiceRequest,
    other: Iterable[str] = (),
    decide: Callable[[PatientFacts], Decision] | None = None,
    observations: Sequence[tuple[str, Observation]] = (),
) -> FhirDecision:
    """Decide one order through the one engine (``decide``: its decide_facts, or a memory of it)."""
    fhir = facts_from_resources(engine, patient, conditions, order, other, observations)
    return FhirDecision((decide or engine.decide_facts)(fhir.facts), fhir)


def read_bundle(data: object) -> tuple[Resources, ServiceRequest]:
    """A FHIR R4 Bundle (JSON-like) parsed, with its one ServiceRequest: the order to decide."""
    resources = split_bundle(parse_resource(Bundle, data, "Bundle"))
    if len(resources.orders) != 1:
        found = "no ServiceRequest" if not resources.orders else f"{len(resources.orders)} ServiceRequests"
        raise InputError([FieldProblem("Bundle.entry", f"{found}; expected exactly one: the order to decide")])
    return resources, resources.orders[0]


def decide_bundle(engine: PolicyEngine, data: object) -> FhirDecision:
    """Decide a FHIR R4 Bundle (JSON-like) holding the Patient, Conditions and one ServiceRequest.

    The order is decided when the policy governs its procedure code; an order that names no
    procedure code is decided when its category is one the policy decides (the caller named
    the policy). A coded order of a procedure the policy does not govern is refused.
    """
    resources, order = read_bundle(data)
    procedures = order_procedures(order)
    if procedures and not governs(engine.model, procedures):
        named = ", ".join(str(p) for p in procedures)
        raise InputError([FieldProblem("ServiceRequest.code", f"{named}: not a procedure that {engine.policy.reference} governs")])
    if not procedures and not is_policy_order(engine, order):
        raise InputError([FieldProblem("ServiceRequest.category", f"not an order category that {engine.policy.reference} decides")])
    return decide_order(engine, resources.patient, resources.conditions, order, resources.other,
                        observations=resources.observations)


# --- helpers -----------------------------------------------------------------------------


def _reference(resource: Any, index: int | None = None) -> str:
    name = resource.get_resource_type()
    if resource.id:
        return f"{name}/{resource.id}"
    return f"{name}[{index}]" if index is not None else name


def _codings(concept: CodeableConcept | None, ref: str) -> Iterable[Coding]:
    for coding in (concept.coding or ()) if concept else ():
        yield Coding(ref, coding.system, coding.code, coding.display)


def _ignored_because(condition: Condition) -> str | None:
    for concept, ignored, what in (
        (condition.verificationStatus, _VERIFICATION_STATUS_IGNORED, "verificationStatus"),
        (condition.clinicalStatus, _CLINICAL_STATUS_IGNORED, "clinicalStatus"),
    ):
        codes: set[str] = {coding.code for coding in (concept.coding or ()) if coding.code} if concept else set()
        if codes & ignored:
            return f"{what} {', '.join(sorted(codes & ignored))}: not read"
    return None


def _check_subject(patient: Patient | None, resource: Any, where: str) -> None:
    """A resource about another patient than the Patient given is refused, never mixed in."""
    subject = getattr(resource, "subject", None)
    reference = subject.reference if subject is not None else None
    if patient is None or patient.id is None or not reference or not reference.startswith("Patient/"):
        return
    if reference != f"Patient/{patient.id}":
        raise InputError([FieldProblem(where, f"refers to {reference}, not to the Patient given (Patient/{patient.id})")])


def _age(patient: Patient | None, order: ServiceRequest) -> tuple[int | None, str | None]:
    """Age in whole years on the order's date, or None with the reason it is unknown."""
    if patient is None:
        return None, "age unknown: no Patient resource"
    if patient.birthDate is None:
        return None, "age unknown: Patient.birthDate not recorded"
    if order.authoredOn is None:
        return None, "age unknown: ServiceRequest.authoredOn not recorded (age is taken on the order's date)"
    born_first, born_last = date_span(patient.birthDate)
    order_first, order_last = date_span(order.authoredOn)
    if born_first > order_last:
        raise InputError([FieldProblem("Patient.birthDate", "is after ServiceRequest.authoredOn")])
    youngest, oldest = _years(born_last, order_first), _years(born_first, order_last)
    if youngest != oldest:
        return None, f"age unknown: partial dates allow {max(youngest, 0)} to {oldest} years"
    return oldest, None


def _years(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

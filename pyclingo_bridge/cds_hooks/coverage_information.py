"""A decision as Da Vinci CRD coverage information: an ``update`` system action on the draft order.

CRD (Coverage Requirements Discovery, HL7 Da Vinci, STU 2) returns a payer's answer as the
extension ``ext-coverage-information`` on the order itself, proposed as a CDS Hooks system
action of type ``update``. The status maps to ``covered`` thus:

* commissioned -> ``covered``; not commissioned -> ``not-covered``;
* undetermined -> ``conditional``, with ``info-needed`` ``OTH`` (the missing facts are
  clinical answers, none of CRD's performer / location / timeframe codes), a ``detail`` of
  type ``instructions`` naming the questions (the extension asks for one when info-needed is
  OTH), ``doc-needed`` ``clinical`` and the policy's ``questionnaire`` (DTR gathers the answers);
* outside the policy -> no extension for this policy: the policy neither covers nor declines
  an order it does not apply to (an urgent pathway, another policy), and the card says so.

``coverage`` (1..1) must reference the patient's Coverage on the client's system; the
extension's definition says that without one "the coverage-information extension cannot be
returned" (CRD's resp-45, "not-covered" with coverage-not-found, presumes a payer that looked
for one; a commissioning policy has no Coverage of its own to look up, so it stays silent
rather than assert not-covered). The Coverage is the order's ``insurance`` if it names one,
else each active Coverage of the ``coverage`` prefetch (CRD's prefetch key); with none, the
card says why no assertion came. One extension per Coverage, each with its own ``coverage-assertion-id``
(CRD: distinct ids across coverages), a hash of the KB's content, the policy, the order,
the Coverage and the facts decided: the same input and KB give the same id.

``reason`` holds one CodeableConcept per deciding clause, as text only: CRD's reason codes
(gold-card, no-member-found, ...) say nothing a clause says, and crd-ci-q7 wants text when
no code of its value set is used. No ``pa-needed`` is asserted (crd-ci-q2, q4, q5 hold
trivially): prior approval is the commissioner's process, not a fact of the policy's rules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..engine import PolicyEngine
from ..fhir import FhirDecision
from ..render import STATUS_WORDS

EXTENSION_URL = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
CRD_TEMP = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp"

COVERED = {"commissioned": "covered", "not_commissioned": "not-covered", "undetermined": "conditional"}
"""``covered`` by status; a status not here (outside_policy) gets no assertion."""


@dataclass(frozen=True)
class CoverageAnswer:
    """What CRD gets for one decided order: a system action (or none), and a line for the card."""

    action: dict[str, Any] | None
    note: str | None


@cache
def kb_digest(engine: PolicyEngine) -> str:
    """A hash of every file of the engine's program: a changed KB gives new assertion ids."""
    digest = hashlib.sha256()
    for path in engine.files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def assertion_id(engine: PolicyEngine, result: FhirDecision, coverage: str) -> str:
    """Stable for the same KB, policy, order, Coverage and facts (the canonical JSON of them)."""
    facts = result.fhir.facts
    canonical = {
        "kb": kb_digest(engine),
        "policy": engine.policy.id,
        "order": result.fhir.order,
        "coverage": coverage,
        "given": {key: sorted(value) if isinstance(value, frozenset) else value
                  for key, value in sorted(facts.given.items())},
        "at_least": sorted(facts.at_least),
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def coverage_references(order: Mapping[str, Any], prefetched: Sequence[str]) -> list[str]:
    """The Coverages an assertion applies to: the order's own ``insurance``, else the prefetched ones."""
    named = [entry.get("reference") for entry in order.get("insurance") or () if isinstance(entry, Mapping)]
    own = [ref for ref in named if isinstance(ref, str) and ref.startswith("Coverage/")]
    return own or list(prefetched)


def coverage_answer(
    engine: PolicyEngine,
    result: FhirDecision,
    order: Mapping[str, Any],
    coverages: Sequence[str],
    questionnaire: str,
    today: dt.date,
) -> CoverageAnswer:
    """The CRD system action for one decided order (``order``: the draft as the client sent it;
    ``coverages``: the Coverages prefetched, used when the order names none itself)."""
    decision = result.decision
    reference = engine.policy.reference
    coverages = coverage_references(order, coverages)
    covered = COVERED.get(decision.status)
    if covered is None:
        return CoverageAnswer(None, (
            f"No coverage assertion under {reference}: the order is {STATUS_WORDS[decision.status].lower()} "
            "(the policy does not apply to it), so this policy neither covers nor declines it."))
    if not coverages:
        return CoverageAnswer(None, (
            "No coverage information returned: the request names no Coverage (neither the order's insurance "
            "nor a `coverage` prefetch), and CRD's coverage-information must reference one."))
    extensions = [
        {"url": EXTENSION_URL, "extension": _parts(engine, result, coverage, covered, questionnaire, today)}
        for coverage in coverages
    ]
    # CRD: an update changes nothing but coverage-information; one the client kept from an
    # earlier call for the same Coverage is replaced, never repeated (others are kept).
    kept = [e for e in order.get("extension") or () if not _asserts_on(e, coverages)]
    resource = {**order, "extension": [*kept, *extensions]}
    action = {
        "type": "update",
        "description": f"Coverage information under {reference} version {engine.policy.version}: {covered}.",
        "resource": resource,
    }
    return CoverageAnswer(action, None)


def _asserts_on(extension: object, coverages: Sequence[str]) -> bool:
    """Whether ``extension`` is a coverage-information extension on one of ``coverages``."""
    if not isinstance(extension, Mapping) or extension.get("url") != EXTENSION_URL:
        return False
    return any(isinstance(part, Mapping) and part.get("url") == "coverage"
               and (part.get("valueReference") or {}).get("reference") in coverages
               for part in extension.get("extension") or ())


def _parts(engine: PolicyEngine, result: FhirDecision, coverage: str, covered: str,
           questionnaire: str, today: dt.date) -> list[dict[str, Any]]:
    decision = result.decision
    policy = engine.policy
    parts: list[dict[str, Any]] = [
        {"url": "coverage", "valueReference": {"reference": coverage}},
        {"url": "covered", "valueCode": covered},
    ]
    if decision.missing:
        parts.append({"url": "doc-needed", "valueCode": "clinical"})
    if covered == "conditional":
        parts.append({"url": "info-needed", "valueCode": "OTH"})
    texts = {clause.number: clause.text for clause in policy.clauses}
    for clause in decision.clauses:
        text = f"{policy.reference} version {policy.version}, clause {clause}: {texts.get(clause, '')}".rstrip(": ")
        parts.append({"url": "reason", "valueCodeableConcept": {"text": text}})
    if not decision.clauses:  # undetermined: the reason is what is still unknown
        possible = ", ".join(STATUS_WORDS[p.status].lower() for p in decision.possible)
        parts.append({"url": "reason", "valueCodeableConcept": {
            "text": f"Undetermined under {policy.reference} version {policy.version}: "
                    f"{possible or 'the outcome'} depending on answers not yet given."}})
    if decision.missing:
        parts.append({"url": "detail", "extension": [
            {"url": "category", "valueCode": "cat-decisional"},
            {"url": "code", "valueCodeableConcept": {
                "coding": [{"system": CRD_TEMP, "code": "instructions"}], "text": "Questions to answer"}},
            {"url": "value", "valueString": " ".join(m.question for m in decision.missing)},
        ]})
        parts.append({"url": "questionnaire", "valueCanonical": questionnaire})
    parts.append({"url": "date", "valueDate": today.isoformat()})
    parts.append({"url": "coverage-assertion-id", "valueString": assertion_id(engine, result, coverage)})
    return parts

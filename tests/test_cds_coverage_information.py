"""CRD coverage information beside each card, checked against the extension's own definition.

SPEC below is the element list of Da Vinci CRD's ``ext-coverage-information`` as its
StructureDefinition gives it (HL7/davinci-crd, input/fsh/extensions/CoverageInformation.fsh
and input/fsh/valuesets/CoverageInformationValuesets.fsh, commit 2bfabc15), and INVARIANTS
its constraints crd-ci-q1 to q9, transcribed from their FHIRPath; the CDS Hooks response
profile (structuredefinition-CRDHooksResponse-coverageInformation.xml) asks for an ``update``
with a ``resource`` and no ``resourceId``. Every answer of the service is checked against
them, not against a copy of its own output.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from hypothesis import given, settings

from pyclingo_bridge.cds_hooks import create_app, running_server
from pyclingo_bridge.cds_hooks.coverage_information import COVERED, CoverageAnswer, coverage_answer
from pyclingo_bridge.engine import engine_for
from pyclingo_bridge.fhir import FhirDecision, FhirFacts

from .strategies import consistent, patient_facts

EXAMPLE = json.loads((Path(__file__).resolve().parent.parent / "examples" / "fhir" / "cds-hooks-order-sign.json").read_text())
SIGN = "/cds-services/cmicb_clin086-order-sign"
URL = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"

# url: (min, max, value[x] type or "extension" for a complex one, codes of a required binding)
SPEC: dict[str, tuple[int, int | None, str, frozenset[str] | None]] = {
    "coverage": (1, 1, "valueReference", None),
    "covered": (1, 1, "valueCode", frozenset({"covered", "not-covered", "conditional", "indeterminate"})),
    "pa-needed": (0, 1, "valueCode", frozenset({"no-auth", "auth-needed", "satisfied", "performpa", "conditional",
                                                "indeterminate"})),
    "doc-needed": (0, None, "valueCode", frozenset({"clinical", "admin", "patient", "conditional", "indeterminate"})),
    "doc-purpose": (0, None, "valueCode", frozenset({"withpa", "withclaim", "withorder", "retain-doc", "OTH"})),
    "info-needed": (0, None, "valueCode", frozenset({"performer", "location", "timeframe", "contract-window",
                                                     "detail-code", "OTH"})),
    "billingCode": (0, None, "valueCoding", None),
    "reason": (0, None, "valueCodeableConcept", None),
    "detail": (0, None, "extension", None),
    "dependency": (0, None, "valueReference", None),
    "questionnaire": (0, None, "valueCanonical", None),
    "date": (1, 1, "valueDate", None),
    "coverage-assertion-id": (1, 1, "valueString", None),
    "satisfied-pa-id": (0, 1, "valueString", None),
    "contact": (0, None, "valueContactDetail", None),
    "expiry-date": (0, 1, "valueDate", None),
}
DETAIL_SPEC = {"category": (1, 1, frozenset({"cat-limitation", "cat-decisional", "cat-other"})),
               "code": (1, 1, None), "value": (1, 1, None), "qualification": (0, 1, None)}
DETAIL_VALUES = {"valueBoolean", "valueString", "valueUrl", "valueQuantity", "valuePeriod"}


def values(parts: list[dict[str, Any]], url: str) -> list[Any]:
    """The value of each ``url`` part (a complex part, such as detail: its parts)."""
    return [next(v for k, v in part.items() if k.startswith("value") or k == "extension")
            for part in parts if part["url"] == url]


INVARIANTS: dict[str, Callable[[list[dict[str, Any]]], bool]] = {
    "crd-ci-q1": lambda p: not values(p, "questionnaire") or bool(values(p, "doc-needed")),
    "crd-ci-q2": lambda p: "not-covered" not in values(p, "covered") or not values(p, "pa-needed"),
    "crd-ci-q3": lambda p: "conditional" not in values(p, "covered") + values(p, "pa-needed") + values(p, "doc-needed")
    or bool(values(p, "info-needed")),
    "crd-ci-q4": lambda p: not set(values(p, "pa-needed")) & {"satisfied", "noauth", "not-covered"}
    or "withpa" not in values(p, "doc-purpose"),
    "crd-ci-q5": lambda p: ("satisfied" in values(p, "pa-needed")) == bool(values(p, "satisfied-pa-id")),
    "crd-ci-q6": lambda p: "OTH" not in values(p, "info-needed") or bool(values(p, "reason")),
    # q7: a reason with no code of CRD's reason value set has text (ours never uses one).
    "crd-ci-q7": lambda p: all(reason.get("text") for reason in values(p, "reason")),
    "crd-ci-q8": lambda p: all(v == "conditional" for v in values(p, "doc-purpose")) or bool(values(p, "reason")),
    "crd-ci-q9": lambda p: "indeterminate" not in values(p, "covered") + values(p, "pa-needed") + values(p, "doc-needed")
    or bool(values(p, "reason")),
}


def conforms(extension: dict[str, Any]) -> list[dict[str, Any]]:
    """Assert ``extension`` is a coverage-information extension as CRD defines it; its parts."""
    assert extension["url"] == URL and set(extension) == {"url", "extension"}
    parts = extension["extension"]
    for part in parts:
        assert part["url"] in SPEC, f"{part['url']}: not an element of ext-coverage-information"
        _, _, kind, codes = SPEC[part["url"]]
        assert set(part) == {"url", kind}, part
        if codes is not None:
            assert part[kind] in codes, part
        if kind == "extension":
            for detail in part["extension"]:
                assert detail["url"] in DETAIL_SPEC
            for url, (low, high, detail_codes) in DETAIL_SPEC.items():
                found = [d for d in part["extension"] if d["url"] == url]
                assert low <= len(found) <= high, (url, part)
                if detail_codes is not None:
                    assert all(d["valueCode"] in detail_codes for d in found)
            assert all(set(d) - {"url"} <= DETAIL_VALUES for d in part["extension"] if d["url"] == "value")
    for url, (low, high, _, _) in SPEC.items():
        count = sum(part["url"] == url for part in parts)
        assert count >= low and (high is None or count <= high), f"{url}: {count} times"
    broken = [name for name, holds in INVARIANTS.items() if not holds(parts)]
    assert not broken, broken
    return parts


def coverage_info(action: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The parts of each coverage-information extension of a conformant system action."""
    assert action["type"] == "update" and "resourceId" not in action and action["description"]
    ServiceRequest.model_validate(action["resource"])  # still a valid FHIR R4 ServiceRequest
    return [conforms(e) for e in action["resource"]["extension"] if e["url"] == URL]


def part(parts: list[dict[str, Any]], url: str) -> list[Any]:
    return values(parts, url)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_server(create_app(auth=None)) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        yield http


def coverage_bundle(*ids: str, status: str = "active") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Coverage", "id": i, "status": status,
                      "beneficiary": {"reference": "Patient/pat-ces"}}} for i in ids]}


def hook(codes: tuple[str, ...], coverage: dict[str, Any] | None = None, birth: str = "1964-05-02",
         insurance: list[str] | None = None) -> dict[str, Any]:
    body = copy.deepcopy(EXAMPLE)
    body["prefetch"]["patient"]["birthDate"] = birth
    body["prefetch"]["conditions"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Condition", "code": {"coding": [{"system": system, "code": code}]},
                      "subject": {"reference": "Patient/pat-ces"}}}
        for system, code in (c.split("|") for c in codes)]}
    if coverage is not None:
        body["prefetch"]["coverage"] = coverage
    if insurance is not None:
        body["context"]["draftOrders"]["entry"][0]["resource"]["insurance"] = [{"reference": r} for r in insurance]
    return body


LBP = f"{ICD10}|M54.5"
CAUDA_EQUINA = f"{ICD10}|G83.4"


def test_undetermined_is_conditional_with_the_questionnaire(client: httpx.Client, base_url: str) -> None:
    response = client.post(SIGN, json=hook((LBP,), coverage_bundle("cov-1")))
    assert response.status_code == 200
    body = response.json()
    card = body["cards"][0]
    assert card["extension"]["policykb"]["status"] == "undetermined"
    [action] = body["systemActions"]
    [parts] = coverage_info(action)
    assert part(parts, "covered") == ["conditional"]
    assert part(parts, "coverage") == [{"reference": "Coverage/cov-1"}]
    assert part(parts, "doc-needed") == ["clinical"] and part(parts, "info-needed") == ["OTH"]
    assert part(parts, "questionnaire") == [f"{base_url}/Questionnaire/cmicb_clin086"]
    missing = card["extension"]["policykb"]["decision"]["missing"]
    [detail] = part(parts, "detail")
    assert all(m["question"] in detail[2]["valueString"] for m in missing) and missing
    # The update is the draft order as sent, with the extension added and nothing else changed.
    sent = EXAMPLE["context"]["draftOrders"]["entry"][0]["resource"]
    assert {k: v for k, v in action["resource"].items() if k != "extension"} == sent


@pytest.mark.parametrize(("birth", "covered", "clause"), [
    ("2015-01-01", None, "1.5"),  # under 16: outside the policy
], ids=["outside-policy-child"])
def test_outside_the_policy_has_no_assertion_and_the_card_says_why(
        client: httpx.Client, birth: str, covered: str | None, clause: str) -> None:
    body = client.post(SIGN, json=hook((LBP,), coverage_bundle("cov-1"), birth=birth)).json()
    assert body["cards"][0]["extension"]["policykb"]["status"] == "outside_policy"
    assert "systemActions" not in body
    assert "No coverage assertion under CMICB_Clin086" in body["cards"][0]["detail"]


# FHIR input alone never establishes the setting, so the statuses a hook call cannot reach
# are decided from facts and given to the same function the service calls.
COMMISSIONED = {"age": 40, "setting": "secondary_care", "red_flags": [], "likely_to_change_management": True,
                "mcas_in_place": False}
NOT_COMMISSIONED = {"age": 40, "setting": "primary_care", "red_flags": []}


def answer(facts: dict[str, Any], coverages: tuple[str, ...] = ("Coverage/cov-1",)) -> CoverageAnswer:
    engine = engine_for("cmicb_clin086")
    validated = engine.vocabulary.validate(facts)
    result = FhirDecision(engine.decide_facts(validated), FhirFacts("ServiceRequest/order-ces", validated))
    order = EXAMPLE["context"]["draftOrders"]["entry"][0]["resource"]
    return coverage_answer(engine, result, order, coverages, "https://cds.example/Questionnaire/cmicb_clin086",
                           dt.date(2026, 3, 10))


@pytest.mark.parametrize(("facts", "status", "covered"), [
    (COMMISSIONED, "commissioned", "covered"),
    (NOT_COMMISSIONED, "not_commissioned", "not-covered"),
], ids=["commissioned-covered", "not-commissioned-not-covered"])
def test_a_determined_status_is_covered_or_not_with_its_clauses(facts: dict[str, Any], status: str, covered: str) -> None:
    decision = engine_for("cmicb_clin086").decide(facts)
    assert decision.status == status and decision.clauses
    found = answer(facts)
    assert found.action is not None and found.note is None
    [parts] = coverage_info(found.action)
    assert part(parts, "covered") == [covered] and part(parts, "date") == ["2026-03-10"]
    assert not part(parts, "questionnaire") and not part(parts, "info-needed") and not part(parts, "doc-needed")
    reasons = [r["text"] for r in part(parts, "reason")]
    assert len(reasons) == len(decision.clauses)
    assert all(f"CMICB_Clin086 version 1, clause {c}: " in text for c, text in zip(decision.clauses, reasons))


@settings(max_examples=60, deadline=None)
@given(facts=patient_facts(engine_for("cmicb_clin086").vocabulary).filter(consistent(engine_for("cmicb_clin086"))))
def test_every_decision_gives_conformant_coverage_information_or_says_why(facts: dict[str, Any]) -> None:
    engine = engine_for("cmicb_clin086")
    status = engine.decide(facts).status
    found = answer(facts)
    if status == "outside_policy":
        assert found.action is None and found.note
    else:
        assert found.action is not None
        [parts] = coverage_info(found.action)
        assert part(parts, "covered") == [COVERED[status]]
        assert bool(part(parts, "questionnaire")) == (status == "undetermined")
    assert answer(facts) == found  # the same input and KB: the same assertion id
    assert answer(facts, ()).action is None


def test_without_a_coverage_no_extension_and_the_card_says_why(client: httpx.Client) -> None:
    body = client.post(SIGN, json=hook((LBP,))).json()
    assert "systemActions" not in body
    assert "the request names no Coverage" in body["cards"][0]["detail"]


def test_inactive_or_other_patients_coverage_is_not_used(client: httpx.Client) -> None:
    other = coverage_bundle("cov-x")
    other["entry"][0]["resource"]["beneficiary"] = {"reference": "Patient/someone-else"}
    for coverage in (coverage_bundle("cov-old", status="cancelled"), other):
        assert "systemActions" not in client.post(SIGN, json=hook((LBP,), coverage)).json()


def test_the_orders_own_insurance_comes_first(client: httpx.Client) -> None:
    body = client.post(SIGN, json=hook((LBP,), coverage_bundle("cov-1"), insurance=["Coverage/cov-own"])).json()
    [parts] = coverage_info(body["systemActions"][0])
    assert part(parts, "coverage") == [{"reference": "Coverage/cov-own"}]


def test_one_assertion_per_coverage_with_distinct_ids(client: httpx.Client) -> None:
    body = client.post(SIGN, json=hook((LBP,), coverage_bundle("cov-1", "cov-2"))).json()
    extensions = coverage_info(body["systemActions"][0])
    assert [part(p, "coverage")[0]["reference"] for p in extensions] == ["Coverage/cov-1", "Coverage/cov-2"]
    assert len({part(p, "coverage-assertion-id")[0] for p in extensions}) == 2


def test_the_assertion_id_is_stable_for_the_same_input_and_changes_with_the_facts(client: httpx.Client) -> None:
    def assertion(codes: tuple[str, ...]) -> str:
        body = client.post(SIGN, json=hook(codes, coverage_bundle("cov-1"))).json()
        return str(part(coverage_info(body["systemActions"][0])[0], "coverage-assertion-id")[0])

    first = assertion((LBP,))
    assert assertion((LBP,)) == first
    assert assertion((LBP, f"{ICD10}|M54.4")) != first  # sciatica coded: other facts


# The coverage-information extension of CRD's own example response (HL7/davinci-crd,
# input/resources/CRDServiceResponse.json, commit 2bfabc15; CC0-1.0): the checks above accept it.
CRD_EXAMPLE = json.loads((Path(__file__).resolve().parent / "data" / "crd-coverage-information-example.json").read_text())


def test_the_conformance_check_accepts_crds_own_example() -> None:
    parts = conforms(CRD_EXAMPLE)
    assert {p["url"] for p in parts} >= {"coverage", "covered", "date", "coverage-assertion-id", "detail", "reason"}


def _without(url: str) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    return lambda parts: [p for p in parts if p["url"] != url]


@pytest.mark.parametrize("break_it", [
    _without("coverage"),
    _without("date"),
    _without("doc-needed"),  # crd-ci-q1: a questionnaire without doc-needed
    _without("info-needed"),  # crd-ci-q3: conditional without info-needed
    lambda parts: [*parts, {"url": "pa-needed", "valueCode": "satisfied"}],  # crd-ci-q5
    lambda parts: [*parts, {"url": "covered", "valueCode": "covered"}],  # 1..1
    lambda parts: [*parts, {"url": "coverage-status", "valueCode": "x"}],  # not an element
    lambda parts: [{**p, "valueCode": "maybe"} if p["url"] == "covered" else p for p in parts],  # binding
], ids=["no-coverage", "no-date", "q1", "q3", "q5", "covered-twice", "unknown-element", "bad-code"])
def test_the_conformance_check_refuses_what_crd_forbids(break_it: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    found = answer({"age": 40})
    assert found.action is not None
    [extension] = [e for e in found.action["resource"]["extension"] if e["url"] == URL]
    conforms(extension)
    with pytest.raises(AssertionError):
        conforms({**extension, "extension": break_it(extension["extension"])})


def test_an_earlier_assertion_on_the_same_coverage_is_replaced_and_others_kept() -> None:
    earlier = answer({"age": 40})
    assert earlier.action is not None
    order = earlier.action["resource"]  # the order as a client keeps it (CRD resp-46) ...
    other = {"url": URL, "extension": [{"url": "coverage", "valueReference": {"reference": "Coverage/other-payer"}}]}
    unrelated = {"url": "https://ehr.example/StructureDefinition/local", "valueString": "kept"}
    order = {**order, "extension": [*order["extension"], other, unrelated]}
    engine = engine_for("cmicb_clin086")
    validated = engine.vocabulary.validate(COMMISSIONED)
    result = FhirDecision(engine.decide_facts(validated), FhirFacts("ServiceRequest/order-ces", validated))
    again = coverage_answer(engine, result, order, ("Coverage/cov-1",), "https://cds.example/Questionnaire/x",
                            dt.date(2026, 3, 11))
    assert again.action is not None
    extensions = again.action["resource"]["extension"]
    ours = [e for e in extensions if e["url"] == URL and e != other]
    assert len(ours) == 1 and part(ours[0]["extension"], "covered") == ["covered"]
    assert other in extensions and unrelated in extensions
    # ... and nothing but coverage-information changed (CRD resp-37).
    strip = lambda resource: {k: v for k, v in resource.items() if k != "extension"}
    assert strip(again.action["resource"]) == strip(order)

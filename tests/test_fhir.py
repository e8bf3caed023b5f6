"""FHIR R4 input: Bundle -> patient facts -> the one engine, with every code accounted for."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge import InputError, PolicyEngine, engine_for
from pyclingo_bridge.cds_hooks.cards import indicator
from pyclingo_bridge.fhir import code_maps, decide_bundle

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "fhir"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"


def condition(system: str, code: str, **extra: Any) -> dict[str, Any]:
    resource = {"resourceType": "Condition", "code": {"coding": [{"system": system, "code": code}]},
                "subject": {"reference": "Patient/p"}}
    resource.update(extra)
    return resource


def bundle(*resources: dict[str, Any], born: str | None = "1980-06-15", authored: str | None = "2026-03-10",
           category: str | None = "363679005") -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient", "id": "p"}
    if born is not None:
        patient["birthDate"] = born
    order: dict[str, Any] = {"resourceType": "ServiceRequest", "id": "o", "status": "draft", "intent": "order",
                             "subject": {"reference": "Patient/p"}}
    if authored is not None:
        order["authoredOn"] = authored
    if category is not None:
        order["category"] = [{"coding": [{"system": SNOMED, "code": category}]}]
    entries = [patient, order, *resources]
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in entries]}


EXAMPLE_CASES = [
    ("suspected-cauda-equina-bundle.json", "outside_policy", ["2.1", "2.2"], {"age": 61, "red_flags": ["cauda_equina"]}),
    ("sciatica-bundle.json", "undetermined", [], {"age": 46, "sciatica": True}),
    ("under-16-bundle.json", "outside_policy", ["1.5"], {"age": 13}),
]


@pytest.mark.parametrize(("name", "status", "clauses", "facts"), EXAMPLE_CASES,
                         ids=[c[0] for c in EXAMPLE_CASES])
def test_examples(engine: PolicyEngine, name: str, status: str, clauses: list[str], facts: dict[str, Any]) -> None:
    result = decide_bundle(engine, json.loads((EXAMPLES / name).read_text())).to_dict()
    assert (result["status"], result["clauses"], result["fhir"]["facts"]) == (status, clauses, facts)


AGE_CASES = [
    # name, birthDate, authoredOn, age or None, note fragment
    ("birthday not yet reached", "1980-06-15", "2026-06-14", 45, None),
    ("on the birthday", "1980-06-15", "2026-06-15", 46, None),
    ("dateTime uses its own date", "1980-06-15", "2026-06-15T00:30:00+02:00", 46, None),
    ("year only, ambiguous", "1980", "2026-06-15", None, "partial dates allow 45 to 46"),
    ("month known, unambiguous", "1980-06", "2026-07-01", 46, None),
    ("no authoredOn", "1980-06-15", None, None, "authoredOn not recorded"),
    ("no birthDate", None, "2026-06-15", None, "birthDate not recorded"),
]


@pytest.mark.parametrize(("born", "authored", "age", "note"), [c[1:] for c in AGE_CASES], ids=[c[0] for c in AGE_CASES])
def test_age_on_the_order_date(engine: PolicyEngine, born: str | None, authored: str | None, age: int | None,
                               note: str | None) -> None:
    fhir = decide_bundle(engine, bundle(born=born, authored=authored)).fhir
    assert fhir.facts.given.get("age") == age
    assert any(note in n for n in fhir.notes) if note else not any("age" in n for n in fhir.notes)


CODE_CASES = [
    # name, condition, given facts, at_least
    ("ICD-10 cauda equina", condition(ICD10, "G83.4"), {"red_flags": frozenset({"cauda_equina"})}, {"red_flags"}),
    ("ICD-10 subdivision matches its parent", condition(ICD10, "S32.01"), {"red_flags": frozenset({"suspected_fracture"})}, {"red_flags"}),
    ("ICD-10 without the dot", condition(ICD10, "m543"), {"sciatica": True}, set()),
    ("SNOMED sciatica", condition(SNOMED, "23056005"), {"sciatica": True}, set()),
    ("SNOMED is exact, not prefix", condition(SNOMED, "230560051"), {}, set()),
    ("unknown system", condition("http://example.org/codes", "G83.4"), {}, set()),
    ("refuted condition is not read", condition(ICD10, "G83.4", verificationStatus={"coding": [{"code": "refuted"}]}), {}, set()),
    ("resolved condition is not read", condition(ICD10, "G83.4", clinicalStatus={"coding": [{"code": "resolved"}]}), {}, set()),
]


@pytest.mark.parametrize(("resource", "given", "at_least"), [c[1:] for c in CODE_CASES], ids=[c[0] for c in CODE_CASES])
def test_codes_to_facts(engine: PolicyEngine, resource: dict[str, Any], given: dict[str, Any], at_least: set[str]) -> None:
    facts = decide_bundle(engine, bundle(resource)).fhir.facts
    assert {k: v for k, v in facts.given.items() if k != "age"} == given
    assert facts.at_least == at_least


def test_unmapped_codes_are_reported(engine: PolicyEngine) -> None:
    fhir = decide_bundle(engine, bundle(condition(SNOMED, "38341003"), condition(ICD10, "M54.5"))).fhir
    assert [(c.system, c.code) for c in fhir.unmapped] == [(SNOMED, "38341003")]
    assert [(m.coding.code, m.indication) for m in fhir.mapped] == [("M54.5", "low_back_pain")]


def test_no_red_flag_code_is_not_a_negative_screen(engine: PolicyEngine) -> None:
    decision = decide_bundle(engine, bundle(condition(ICD10, "M54.5"))).decision
    assert "red_flags" in decision.unknown
    assert "red_flags" in [m.fact for m in decision.missing]


def test_a_coded_red_flag_leaves_the_others_unknown(engine: PolicyEngine) -> None:
    decision = decide_bundle(engine, bundle(condition(ICD10, "M46.2"))).decision
    assert (decision.status, list(decision.clauses)) == ("outside_policy", ["2.1"])
    assert "red_flags" in decision.unknown


ERROR_CASES = [
    ("not a bundle", {"resourceType": "Patient"}, "Bundle.resourceType: expected a FHIR Bundle, got 'Patient'"),
    ("unknown resource type", {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Foo"}}]},
     "Bundle.entry[0].resource.resourceType: 'Foo' is not a FHIR R4 resource type"),
    ("bad birthDate", "birth",
     "Bundle.entry[0].resource.birthDate: the Patient's birthDate: '1980-13-01' is not a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)"),
    ("no order", "no-order", "Bundle.entry: no ServiceRequest"),
    ("two orders", "two-orders", "Bundle.entry: 2 ServiceRequests"),
    ("laboratory order", "lab", "ServiceRequest.category: not an order category"),
    ("condition of another patient", "other-patient", "Condition[0].subject: refers to Patient/q"),
    ("born after the order", "future", "Patient.birthDate: is after ServiceRequest.authoredOn"),
    ("age out of range", "old", "age (from Patient.birthDate and ServiceRequest.authoredOn)"),
]


def _bad(kind: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(kind, dict):
        return kind
    data = bundle(born={"birth": "1980-13-01", "future": "2027-01-01", "old": "1800-01-01"}.get(kind, "1980-06-15"),
                  category="108252007" if kind == "lab" else "363679005")
    entries = data["entry"]
    if kind == "no-order":
        del entries[1]
    if kind == "two-orders":
        entries.append(copy.deepcopy(entries[1]))
    if kind == "other-patient":
        entries.append({"resource": {**condition(ICD10, "M54.5"), "subject": {"reference": "Patient/q"}}})
    return data


@pytest.mark.parametrize(("data", "field"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_bad_input_names_the_field(engine: PolicyEngine, data: Any, field: str) -> None:
    with pytest.raises(InputError) as raised:
        decide_bundle(engine, _bad(data))
    assert str(raised.value).startswith(field)


def _mapped_codes() -> list[tuple[str, str, str | None]]:
    """Every (system URI, code, fact) the KB maps, read from the KB itself."""
    maps = code_maps(engine_for("CMICB_Clin086"))
    uris = {system.name: uri for uri, system in maps.systems.items()}
    return sorted({(uris[m.system], m.code, m.key) for ms in maps._meanings.values() for m in ms}, key=str)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_mapped_codes()), max_size=4), st.integers(1930, 2020),
       st.lists(st.sampled_from([(SNOMED, "38341003"), (ICD10, "J45.9")]), max_size=2))
def test_a_coded_red_flag_always_puts_the_order_on_the_urgent_pathway(
    codes: list[tuple[str, str, str | None]], born: int, others: list[tuple[str, str]]
) -> None:
    engine = engine_for("CMICB_Clin086")
    resources = [condition(system, code) for system, code, _ in codes] + [condition(s, c) for s, c in others]
    result = decide_bundle(engine, bundle(*resources, born=f"{born}-01-01"))
    # Every coding read is accounted for, once: mapped or unmapped.
    assert len(result.fhir.unmapped) == len(others)
    assert {m.coding.code for m in result.fhir.mapped} == {code for _, code, _ in codes}
    if any(fact == "red_flags" for _, _, fact in codes):
        assert result.decision.status == "outside_policy"
        assert indicator(result, engine) == "critical"
    else:
        assert "red_flags" in result.decision.unknown


PLAIN_WORDS = [
    # name, resource in the Bundle's first entry, the message (resource, field, what is wrong)
    ("wrong type", {"resourceType": "Patient", "gender": 5},
     "Bundle.entry[0].resource.gender: the Patient's gender: must be a string, not the number 5"),
    ("not a field", {"resourceType": "Patient", "colour": "blue"},
     "Bundle.entry[0].resource.colour: the Patient's colour: not a field of a FHIR R4 Patient"),
    ("required field missing", {"resourceType": "ServiceRequest", "status": "active", "intent": "order"},
     "Bundle.entry[0].resource.subject: the ServiceRequest's subject: required, and not given"),
    ("bad dateTime", {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
                      "subject": {"reference": "Patient/p"}, "authoredOn": "yesterday"},
     ("Bundle.entry[0].resource.authoredOn: the ServiceRequest's authoredOn: 'yesterday' is not a FHIR dateTime "
     "(YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone)")),
    ("nested field", {"resourceType": "Condition", "subject": {"reference": "Patient/p"}, "code": {"coding": [{"system": 3}]}},
     "Bundle.entry[0].resource.code.coding[0].system: the Condition's code.coding[0].system: must be a string, not the number 3"),
    ("an object where a list is due", {"resourceType": "Patient", "name": {"text": "Bob"}},
     "Bundle.entry[0].resource.name: the Patient's name: must be a list, not an object"),
]


@pytest.mark.parametrize(("resource", "message"), [c[1:] for c in PLAIN_WORDS], ids=[c[0] for c in PLAIN_WORDS])
def test_a_fhir_validation_error_is_in_plain_words(engine: PolicyEngine, resource: dict[str, Any], message: str) -> None:
    """Resource, field and what is wrong, never pydantic's words ("Input should be", "Value error")."""
    with pytest.raises(InputError) as raised:
        decide_bundle(engine, {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": resource}]})
    assert str(raised.value) == message

"""The service's memory of validated FHIR resources gives what validation gives, and stays bounded."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge.cds_hooks.validated import ValidatedResources
from pyclingo_bridge.errors import InputError
from pyclingo_bridge.fhir import parse_resource

# Patients, valid and not: dates of every shape, ids, a gender outside its value set, a
# field FHIR does not have, the resource type wrong.
patients = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Patient", "Patient", "Patient", "Condition"])},
    optional={
        "id": st.sampled_from(["p1", "p-2", "", "no spaces allowed", 7]),
        "birthDate": st.sampled_from(["1970-05-02", "1970", "1970-13", "02/05/1970", 1970, None]),
        "gender": st.sampled_from(["female", "male", "unknown", "woman"]),
        "active": st.sampled_from([True, False, 1, "true"]),
        "colour": st.just("blue"),
    },
)


def _outcome(parse: Any, data: object) -> object:
    try:
        return parse(Patient, data, "prefetch.patient").model_dump()
    except InputError as error:
        return [str(problem) for problem in error.problems]


@settings(max_examples=150, deadline=None)
@given(st.lists(patients, min_size=1, max_size=6))
def test_remembered_is_validated(sequence: list[dict[str, Any]]) -> None:
    memory = ValidatedResources()
    for data in sequence * 3:  # the third time round, from memory where it validated
        assert _outcome(memory.parse, data) == _outcome(parse_resource, data)


def test_the_same_json_gets_the_same_object_from_its_second_time_and_a_refusal_is_not_remembered() -> None:
    memory = ValidatedResources()
    good = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-05-02"}
    memory.parse(Patient, dict(good), "x")
    assert len(memory) == 0  # seen once: only noted
    assert memory.parse(Patient, dict(good), "x") is memory.parse(Patient, dict(good), "x")
    with pytest.raises(InputError):
        memory.parse(Patient, {"resourceType": "Patient", "birthDate": "02/05/1970"}, "x")
    assert len(memory) == 1


@pytest.mark.parametrize("values", [[True, 1, "true", "1"], [1, 1.0, "1"]])
def test_values_that_look_alike_are_told_apart(values: list[object]) -> None:
    memory = ValidatedResources()
    field = "active" if True in values else "total"
    model: Any = Patient if field == "active" else Bundle
    parsed = []
    for value in values:
        data = {"resourceType": model.__name__, field: value, **({"type": "searchset"} if model is Bundle else {})}
        try:
            parsed.append(memory.parse(model, data, "x"))
        except InputError:
            continue
        assert parsed[-1].model_dump() == parse_resource(model, data, "x").model_dump()
    assert len({id(resource) for resource in parsed}) == len(parsed)  # none stood for another


def test_the_memory_is_bounded_by_the_json_it_keeps() -> None:
    memory = ValidatedResources(budget=2_000, largest=500)
    for number in range(100):
        for _ in range(2):
            memory.parse(Patient, {"resourceType": "Patient", "id": f"p{number}"}, "x")
    assert 0 < memory.used <= 2_000
    assert len(memory) < 100
    big = {"resourceType": "Patient", "id": "big", "name": [{"text": "x" * 600}]}
    parsed = [memory.parse(Patient, big, "x") for _ in range(3)]
    assert len({id(resource) for resource in parsed}) == 3  # too large to keep

"""Input validation: every bad input class is one error naming the field and what it allows."""

from __future__ import annotations

import pytest

from pyclingo_bridge import InputError, PolicyEngine

from .conftest import patient

# name, input, field named, text the message must contain
BAD_INPUTS: list[tuple[str, object, str, str]] = [
    ("not an object", [1, 2], "input", "expected a JSON object"),
    ("mistyped key", {"sciatic": True}, "sciatic", "did you mean 'sciatica'?"),
    ("unknown key without a near match", {"blood_pressure": 120}, "blood_pressure", "allowed fields: id, request_date, age"),
    ("integer as string", {"age": "40"}, "age", "'40' is not allowed; expected an integer from 0 to 130"),
    ("JSON true is not an integer", {"age": True}, "age", "true is not allowed; expected an integer"),
    ("float age", {"age": 40.5}, "age", "40.5 is not allowed"),
    ("age above range", {"age": 131}, "age", "131 is not allowed; expected an integer from 0 to 130"),
    ("negative age", {"age": -1}, "age", "-1 is not allowed"),
    ("enum value outside the list", {"setting": "gp"}, "setting", "expected one of primary_care, mcas, secondary_care"),
    ("enum value in wrong case", {"setting": "MCAS"}, "setting", "'MCAS' is not allowed"),
    ("boolean as string", {"sciatica": "yes"}, "sciatica", "expected true or false"),
    ("boolean as integer", {"sciatica": 1}, "sciatica", "1 is not allowed; expected true or false"),
    ("list as a string", {"red_flags": "cauda_equina"}, "red_flags", "expected a list of suspected_infection"),
    ("list member outside the list", {"red_flags": ["fever"]}, "red_flags", "'fever' is not allowed"),
    ("list member not a string", {"core_criteria": [1]}, "core_criteria", "1 is not allowed"),
    ("null for a closed-world fact", {"ifr_approved": None}, "ifr_approved", "null is not allowed for a closed-world fact"),
    ("id not a string", {"id": 7}, "id", "expected a string"),
    ("id with a lone surrogate", {"id": "x\ud800"}, "id", "expected a string of Unicode text"),
]


@pytest.mark.parametrize(("facts", "field", "text"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_one_error_naming_the_field(engine: PolicyEngine, facts: object, field: str, text: str) -> None:
    with pytest.raises(InputError) as raised:
        engine.decide(facts)  # type: ignore[arg-type]
    assert raised.value.fields == (field,)
    assert text in str(raised.value)


def test_every_bad_field_is_named_at_once(engine: PolicyEngine) -> None:
    with pytest.raises(InputError) as raised:
        engine.decide({"age": "x", "setting": "gp", "colour": "red"})
    assert raised.value.fields == ("age", "setting", "colour")


@pytest.mark.parametrize("key", ["age", "setting", "sciatica", "red_flags", "likely_to_change_management"])
def test_null_is_unknown_for_open_world_facts(engine: PolicyEngine, key: str) -> None:
    assert engine.decide(patient(**{key: None})) == engine.decide(patient(**{key: ...}))


def test_duplicate_list_members_count_once(engine: PolicyEngine) -> None:
    twice = engine.decide(patient(red_flags=["suspected_fracture", "suspected_fracture"]))
    assert twice == engine.decide(patient(red_flags=["suspected_fracture"]))


def test_vocabulary_comes_from_the_knowledge_base(engine: PolicyEngine) -> None:
    specs = engine.vocabulary.specs
    assert specs["setting"].values == ("primary_care", "mcas", "secondary_care")
    assert (specs["age"].type, specs["age"].low, specs["age"].high) == ("integer", 0, 130)
    assert specs["red_flags"].world == "open" and specs["core_criteria"].world == "closed"
    assert engine.vocabulary.fields[0] == "id"

"""User strings never become program text: ASP syntax in input changes nothing or is rejected."""

from __future__ import annotations

import pytest

from pyclingo_bridge import InputError, PolicyEngine

from .conftest import patient

HOSTILE = [
    'x. status(commissioned). #show.',
    '") . conclusion(core_eligibility, commissioned). %',
    "#script (python) import os; os.system('echo owned') #end.",
    "urgent",
    "\u0000\n%*",
]


@pytest.mark.parametrize("record_id", HOSTILE, ids=[f"id-{n}" for n in range(len(HOSTILE))])
def test_hostile_id_is_echoed_and_changes_nothing(engine: PolicyEngine, record_id: str) -> None:
    facts = patient(setting="primary_care")
    plain = engine.decide(facts)
    hostile = engine.decide({**facts, "id": record_id})
    assert hostile.id == record_id
    assert hostile.to_dict() == {**plain.to_dict(), "id": record_id}
    assert hostile.status == "not_commissioned"


@pytest.mark.parametrize("value", HOSTILE, ids=[f"value-{n}" for n in range(len(HOSTILE))])
def test_hostile_values_are_rejected_not_run(engine: PolicyEngine, value: str) -> None:
    with pytest.raises(InputError) as raised:
        engine.decide(patient(setting=value))
    assert raised.value.fields == ("setting",)
    with pytest.raises(InputError):
        engine.decide(patient(red_flags=[value]))


def test_hostile_key_is_rejected(engine: PolicyEngine) -> None:
    with pytest.raises(InputError) as raised:
        engine.decide({"status(commissioned)": True})
    assert raised.value.fields == ("status(commissioned)",)

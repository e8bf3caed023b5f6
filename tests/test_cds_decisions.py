"""The service's decision memory gives exactly the engine's decision, with the order's id."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge import PatientFacts, PolicyEngine, engine_for
from pyclingo_bridge.cds_hooks.decisions import DecisionCache, NotRemembered

from .conftest import POLICY


def facts(**given_facts: Any) -> PatientFacts:
    return engine_for(POLICY).vocabulary.validate(given_facts)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 130), st.sampled_from([None, "primary_care", "mcas", "secondary_care"]),
       st.sampled_from([None, [], ["cauda_equina"], ["suspected_fracture"]]), st.booleans(), st.text(max_size=5))
def test_remembered_equals_decided(age: int, setting: str | None, red_flags: list[str] | None, at_least: bool,
                                   record: str) -> None:
    engine = engine_for(POLICY)
    cache = DecisionCache(engine, size=8)
    validated = facts(id=record, age=age, setting=setting, red_flags=red_flags)
    if at_least and red_flags:
        validated = PatientFacts(validated.given, validated.record_id, frozenset({"red_flags"}))
    first, second = cache.decide(validated), cache.decide(validated)
    assert first == second == engine.decide_facts(validated)


def test_the_id_is_the_order_s_not_the_first_caller_s(engine: PolicyEngine) -> None:
    cache = DecisionCache(engine)
    one, other = facts(id="ServiceRequest/1", age=40), facts(id="ServiceRequest/2", age=40)
    assert cache.decide(one).id == "ServiceRequest/1"
    assert cache.decide(other) == dataclasses.replace(cache.decide(one), id="ServiceRequest/2")


def test_the_memory_is_bounded(engine: PolicyEngine) -> None:
    cache = DecisionCache(engine, size=3)
    for age in range(20, 30):
        cache.decide(facts(age=age))
    assert len(cache._decisions) == 3


def test_remembered_never_decides_and_gives_what_decide_gave(engine: PolicyEngine) -> None:
    cache = DecisionCache(engine)
    one, other = facts(id="ServiceRequest/1", age=52), facts(id="ServiceRequest/2", age=52)
    with pytest.raises(NotRemembered):
        cache.remembered(one)
    assert len(cache._decisions) == 0  # asking is not deciding
    decided = cache.decide(one)
    assert cache.remembered(other) == dataclasses.replace(decided, id="ServiceRequest/2")
    with pytest.raises(NotRemembered):
        cache.remembered(facts(id="ServiceRequest/1", age=53))


def test_with_no_memory_nothing_is_remembered(engine: PolicyEngine) -> None:
    cache = DecisionCache(engine, size=0)
    cache.decide(facts(age=40))
    with pytest.raises(NotRemembered):
        cache.remembered(facts(age=40))

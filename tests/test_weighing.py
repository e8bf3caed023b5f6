"""Whether recording a closed-world default would change the answer: the engine's weighing
(one solve for every default at once when none matters, a memory by interval starts) says
what deciding each recording on its own says, for every policy (hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyclingo_bridge import KnowledgeBase, PolicyEngine, engine_for
from pyclingo_bridge.errors import InputError, KnowledgeBaseError
from pyclingo_bridge.vocabulary import PatientFacts

from .strategies import consistent, patient_facts

POLICIES = sorted(KnowledgeBase.installed().policy_folders())


def would_change(engine: PolicyEngine, facts: PatientFacts, key: str, status: str) -> bool:
    """Decided apart, without explanation: does some recording of ``key`` give another answer?"""
    for value in engine.recorded_values(key):
        recorded = PatientFacts({**facts.given, key: value}, facts.record_id, facts.at_least)
        try:
            if engine.decide_facts(recorded, explain=False).status != status:
                return True
        except InputError:
            continue  # a recording the KB refuses as contradictory changes nothing
        except KnowledgeBaseError:
            return True  # no single status: not the same answer
    return False


@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_each_assumption_would_change_the_answer_exactly_when_recording_it_does(policy: str, data: st.DataObject) -> None:
    engine = engine_for(policy)
    raw: dict[str, Any] = data.draw(patient_facts(engine.vocabulary).filter(consistent(engine)))
    facts = engine.vocabulary.validate(raw)
    decision = engine.decide_facts(facts)
    for assumption in decision.assumptions:
        expected = would_change(engine, facts, assumption.fact, decision.status) if decision.determined else None
        assert assumption.would_change == expected, (assumption.fact, raw)

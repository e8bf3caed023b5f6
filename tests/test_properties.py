"""Laws that hold for every valid input (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pyclingo_bridge import STATUSES_DETERMINED, KnowledgeBase, PolicyEngine, engine_for
from pyclingo_bridge.cli import main
from pyclingo_bridge.render import STATUS_WORDS

from .conftest import POLICY
from .strategies import closed_defaults, consistent, patient_facts, value_of

ENGINE = engine_for(POLICY)
FACTS = patient_facts(ENGINE.vocabulary).filter(consistent(ENGINE))
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(FACTS)
def test_every_valid_input_gets_exactly_one_status(facts: dict[str, Any]) -> None:
    decision = ENGINE.decide(facts)
    if decision.determined:
        assert decision.status in STATUSES_DETERMINED
        assert decision.clauses, "a determined status cites the clauses that decided it"
        assert decision.possible == () and decision.missing == ()
    else:
        assert len(decision.possible) >= 2
        assert {p.status for p in decision.possible} <= set(STATUSES_DETERMINED)
        assert decision.missing, "an undetermined answer names what is missing"
        assert {m.fact for m in decision.missing} <= set(decision.unknown)


@SETTINGS
@given(FACTS, st.data())
def test_filling_in_an_unknown_fact_never_changes_a_determined_status(facts: dict[str, Any], data: st.DataObject) -> None:
    decision = ENGINE.decide(facts)
    if not decision.unknown:
        return
    key = data.draw(st.sampled_from(decision.unknown))
    more = {**facts, key: data.draw(value_of(ENGINE.vocabulary.specs[key]))}
    assume(consistent(ENGINE)(more))  # a contradiction is refused, not decided
    filled = ENGINE.decide(more)
    if decision.determined:
        assert filled.status == decision.status
        if decision.clauses_depend_on_unknowns:
            # Every clause that could decide it: knowing more can only narrow them.
            assert set(filled.clauses) <= set(decision.clauses)
        else:
            # Clauses certain already stay; knowing more may add clauses that also apply.
            assert set(decision.clauses) <= set(filled.clauses)
    else:
        assert filled.status == "undetermined" or filled.status in {p.status for p in decision.possible}


@SETTINGS
@given(FACTS)
def test_not_commissioned_always_carries_the_ifr_route_or_the_trial_sponsor(facts: dict[str, Any]) -> None:
    """Every refusal says what to do next: apply to the IFR panel, or, where 6.6 decided,
    ask the trial's sponsor (6.6 puts continuing trial treatment on them, not the ICB)."""
    decision = ENGINE.decide(facts)
    if decision.status == "not_commissioned":
        advised = [advice.clause for advice in decision.advice]
        expected = "6.6" if decision.clauses == ("6.6",) else "6.3"
        assert expected in advised and ("6.3" in advised) != ("6.6" in advised)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(FACTS)
def test_text_and_json_formats_agree(facts: dict[str, Any]) -> None:
    runner = CliRunner()
    document = json.dumps(facts)
    as_json = json.loads(runner.invoke(main, ["query", "--policy", "CMICB_Clin086", "-", "--format", "json"], input=document).stdout)
    text = runner.invoke(main, ["query", "--policy", "CMICB_Clin086", "-"], input=document).stdout
    assert text.startswith(f"Status: {STATUS_WORDS[as_json['status']]}\n")
    if as_json["clauses"]:
        assert f"Clauses: {', '.join(as_json['clauses'])}\n" in text
    for missing in as_json["missing"]:
        assert f"? {missing['question']}\n" in text
    for possible in as_json["possible"]:
        assert STATUS_WORDS[possible["status"]] in text
    for step in as_json["explanation"]["fired"]:
        if step["in_decision"]:
            assert f"[{step['clause']}] {step['text']}" in text
    for item in as_json["explanation"]["set_aside"]:
        assert f"[{item['clause']}] {item['text']}: set aside by" in text
    for assumed in as_json["assumed"]:
        assert f"assumed: {assumed['text']} — not recorded" in text
    for advice in as_json["advice"]:
        assert f"[{advice['clause']}] {advice['text']}" in text
    assert as_json == ENGINE.decide(facts).to_dict()


FRESH = PolicyEngine(POLICY, KnowledgeBase.installed())
"""An engine built apart from the shared one (its own grounding), to check the shared one by."""


def test_every_front_end_gets_the_one_engine_of_a_policy(engine: PolicyEngine) -> None:
    """engine_for hands out one engine per policy, whatever the spelling of its id: the
    engine these laws test is the one the CLI, the audit and the service decide with."""
    assert engine is ENGINE and engine_for(POLICY.lower()) is ENGINE and engine_for(POLICY.upper()) is ENGINE
    assert FRESH is not ENGINE


@settings(max_examples=100, deadline=None)
@given(FACTS)
def test_the_shared_engine_decides_as_one_built_afresh(facts: dict[str, Any]) -> None:
    """Sharing (its caches, earlier queries) changes no answer."""
    assert ENGINE.decide(facts).to_dict() == FRESH.decide(facts).to_dict()


CLOSED_DEFAULTS = closed_defaults(ENGINE.vocabulary)


@SETTINGS
@given(FACTS, st.sets(st.sampled_from(sorted(CLOSED_DEFAULTS))))
def test_a_closed_world_default_given_explicitly_decides_as_left_out(facts: dict[str, Any], stated: set[str]) -> None:
    """A closed-world flag given false (a list given empty) is what leaving it out means: the
    same decision, explanation included. The audit keys both alike (``audit/batch.py``)."""
    left_out = {key: value for key, value in facts.items() if key not in stated}
    explicit = {**left_out, **{key: CLOSED_DEFAULTS[key] for key in stated}}
    # The same decision; only the list of defaults assumed differs: a stated value is no assumption.
    stated_out, left = ENGINE.decide(explicit).to_dict(), ENGINE.decide(left_out).to_dict()
    assert {a["fact"] for a in left.pop("assumed")} - {a["fact"] for a in stated_out.pop("assumed")} == stated
    assert stated_out == left

"""Input classes derived from the KB: two inputs with the same class key get the same answer
(without explanation), for every policy."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyclingo_bridge.classes import ANSWER_ATOMS, AUDIT_ATOMS, classes_for
from pyclingo_bridge.decision import Decision
from pyclingo_bridge.engine import engine_for
from pyclingo_bridge.errors import InputError
from pyclingo_bridge.knowledge_base import knowledge_base
from pyclingo_bridge.vocabulary import PatientFacts

from .strategies import patient_facts

POLICIES = sorted(knowledge_base().policy_folders())


def answer(decision: Decision) -> dict[str, Any]:
    """What a decision without explanation says (the answer the class key stands for)."""
    data = decision.to_dict()
    del data["id"], data["explanation"]
    return data


def audit_answer(decision: Decision) -> dict[str, Any]:
    """What an audit row says: status, clauses, possible statuses, missing facts."""
    data = answer(decision)
    return {key: data[key] for key in ("status", "clauses", "possible", "missing", "clauses_depend_on_unknowns")}


READS = [pytest.param(ANSWER_ATOMS, answer, id="answer"), pytest.param(AUDIT_ATOMS, audit_answer, id="audit row")]


def same_class(facts: PatientFacts, classes: Any, engine: Any, pick: random.Random) -> PatientFacts:
    """Other facts of the class of ``facts``: each value replaced by one drawn from its class."""
    other: dict[str, Any] = {}
    for key, value in facts.given.items():
        spec = engine.vocabulary.specs[key]
        if spec.fact_type.ranged:
            starts = classes.interval_starts.get(key)
            assert spec.low is not None and spec.high is not None
            scale = (spec.scale or 0) if spec.type == "decimal" else 0
            scaled = int(Decimal(value).scaleb(scale))  # as the rules compare it
            if starts is None:
                other[key] = value
                continue
            index = max(i for i, start in enumerate(starts) if start <= scaled)
            high = starts[index + 1] - 1 if index + 1 < len(starts) else spec.high
            moved = pick.randint(starts[index], high)
            other[key] = Decimal(moved).scaleb(-scale) if spec.type == "decimal" else moved
        elif spec.type == "list":
            members: set[str] = set()
            for group, any_ in zip(classes.classes[key], classes.saturated[key]):
                count = len(set(group) & set(value))
                if any_ and count:  # only whether some member of the class is present matters
                    count = pick.randint(1, len(group))
                members |= set(pick.sample(group, count))
            other[key] = frozenset(members)
        else:
            group = next(g for g in classes.classes[key] if str(value).lower() in g)
            chosen = pick.choice(group)
            other[key] = {"true": True, "false": False}.get(chosen, chosen) if spec.type == "boolean" else chosen
    return PatientFacts(other, facts.record_id, facts.at_least)


@pytest.mark.parametrize(("read", "said"), READS)
@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**32))
def test_inputs_of_one_class_get_one_answer(policy: str, read: frozenset[str], said: Any, data: st.DataObject, seed: int) -> None:
    engine = engine_for(policy)
    classes = classes_for(engine, read)
    try:
        facts = engine.vocabulary.validate(data.draw(patient_facts(engine.vocabulary)))
        first = engine.decide_facts(facts, explain=False)
    except InputError:
        return  # contradictory facts are refused, tested apart
    pick = random.Random(seed)
    other = same_class(facts, classes, engine, pick)
    if read is AUDIT_ATOMS:  # a row shows no assumptions: a closed default given or left out is one class
        flipped = {**other.given}
        for key, spec in engine.vocabulary.specs.items():
            if spec.world == "closed" and spec.type in ("boolean", "list") and not flipped.get(key) and pick.random() < 0.5:
                if key in flipped:
                    del flipped[key]
                else:
                    flipped[key] = False if spec.type == "boolean" else frozenset()
        other = PatientFacts(flipped, other.record_id, other.at_least)
    assert classes.key(other) == classes.key(facts)
    assert said(engine.decide_facts(other, explain=False)) == said(first)


@pytest.mark.parametrize("policy", POLICIES)
def test_values_no_rule_tells_apart_share_a_class(policy: str) -> None:
    """Each policy groups some list members (the KB reads them through one derived atom);
    the classes partition each fact's values."""
    engine = engine_for(policy)
    classes = classes_for(engine)
    for key, groups in classes.classes.items():
        assert sorted(v for g in groups for v in g) == sorted(engine.vocabulary.specs[key].values)
    assert any(len(group) > 1 for groups in classes.classes.values() for group in groups)


def test_a_member_a_rule_reads_alone_is_a_class_of_its_own() -> None:
    classes = classes_for(engine_for("CMICB_Clin086"))
    # 2.1: any serious-pathology flag; 2.2: any feature of cauda equina (cauda equina is both).
    assert classes.saturated["red_flags"] == (True, False, True)
    assert ("cauda_equina",) in classes.classes["red_flags"]
    assert classes.classes["setting"] == (("primary_care",), ("mcas",), ("secondary_care",))


@pytest.mark.parametrize(
    "content", ["", "{", '{"classes": {}, "saturated": {}}', "SWAPPED", "UNSATURATED"],
    ids=["empty", "corrupt", "no facts", "a value in no class", "flags of another length"],
)
def test_a_saved_derivation_is_used_only_when_it_fits_the_vocabulary(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, content: str) -> None:
    """The classes are saved beside the answer tables; a file that does not partition each
    fact's declared values is ignored and the classes derived again."""
    import json

    from pyclingo_bridge.classes import InputClasses
    from pyclingo_bridge.table import TABLE_ENV

    monkeypatch.setenv(TABLE_ENV, str(tmp_path))
    engine = engine_for("cmicb_clin086")
    derived = InputClasses(engine, AUDIT_ATOMS)
    (saved,) = tmp_path.glob("table-classes-audit-*.json")
    data = json.loads(saved.read_text())
    assert data["classes"]["red_flags"] == [list(g) for g in derived.classes["red_flags"]]
    if content == "SWAPPED":
        data["classes"]["red_flags"][0][0] = "no_such_flag"
        content = json.dumps(data)
    elif content == "UNSATURATED":
        data["saturated"]["red_flags"] = [True]
        content = json.dumps(data)
    saved.write_text(content)
    again = InputClasses(engine, AUDIT_ATOMS)
    assert (again.classes, again.saturated) == (derived.classes, derived.saturated)
    assert json.loads(saved.read_text())["classes"]["red_flags"] == [list(g) for g in derived.classes["red_flags"]]

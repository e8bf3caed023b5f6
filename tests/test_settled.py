"""Laws, for every policy: a settled pattern (``settled.py``) answers every input that matches
it as the engine decides that input, and the refusal it gives a class is the engine's."""

from __future__ import annotations

import io
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from clingo import ast
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyclingo_bridge import KnowledgeBase, KnowledgeBaseError, PolicyEngine, engine_for
from pyclingo_bridge.audit import AuditSettings, answer_fields, audit
from pyclingo_bridge.audit.summary import summary_text
from pyclingo_bridge.class_codes import ClassCodes
from pyclingo_bridge.classes import AUDIT_ATOMS, classes_for
from pyclingo_bridge.decision import Decision
from pyclingo_bridge.errors import InputError
from pyclingo_bridge.knowledge_base import knowledge_base
from pyclingo_bridge.settled import SettledPatterns
from pyclingo_bridge.vocabulary import PatientFacts

from .strategies import patient_facts

POLICIES = sorted(knowledge_base().policy_folders())


def _json(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _validated(policy: str, row: dict[str, Any]) -> PatientFacts:
    return engine_for(policy).vocabulary.validate({key: _json(value) for key, value in row.items()})


def _codes(policy: str) -> ClassCodes:
    engine = engine_for(policy)
    return ClassCodes(classes_for(engine, AUDIT_ATOMS), engine.vocabulary, default_is_absent=True)


def _settled(decision: object) -> bool:
    return isinstance(decision, Decision) and decision.status != "undetermined" and not decision.clauses_depend_on_unknowns


@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_a_pattern_answers_every_input_it_matches_as_the_engine_decides(policy: str, data: st.DataObject) -> None:
    engine = engine_for(policy)
    codes = _codes(policy)
    first = _validated(policy, data.draw(patient_facts(engine.vocabulary)))
    decision = engine.decide_many([first], explain=False, weigh_assumptions=False)[0]
    if not _settled(decision):
        return
    assert isinstance(decision, Decision)
    patterns: SettledPatterns[tuple[str, tuple[str, ...]]] = SettledPatterns(engine, codes.places)
    code = codes.of_facts(first)
    assert code is not None
    pattern = patterns.widen(first, code, decision.status, decision.clauses, (decision.status, decision.clauses))
    if pattern is None:
        return
    for _ in range(5):
        # Any input that keeps the pattern's facts as the first one gives them, and any values of the others.
        other = data.draw(patient_facts(engine.vocabulary))
        row = {key: value for key, value in other.items() if key not in pattern.fixed}
        facts = PatientFacts({**_validated(policy, row).given, **{k: v for k, v in first.given.items() if k in pattern.fixed}})
        other_code = codes.of_facts(facts)
        assert other_code is not None
        assert patterns.find(other_code) == (decision.status, decision.clauses)
        decided = engine.decide_many([facts], explain=False, weigh_assumptions=False)[0]
        refusal = patterns.refusal(other_code, lambda facts=facts: facts)
        if isinstance(decided, InputError):
            assert isinstance(refusal, InputError) and refusal.problems == decided.problems
            continue
        assert refusal is None
        assert isinstance(decided, Decision)
        assert (decided.status, decided.clauses, decided.missing) == (decision.status, decision.clauses, ())


@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_refusal_of_a_class_is_the_engines(policy: str, data: st.DataObject) -> None:
    engine = engine_for(policy)
    codes = _codes(policy)
    patterns: SettledPatterns[object] = SettledPatterns(engine, codes.places)
    for _ in range(3):
        facts = _validated(policy, data.draw(patient_facts(engine.vocabulary)))
        code = codes.of_facts(facts)
        assert code is not None
        decided = engine.decide_many([facts], explain=False, weigh_assumptions=False)[0]
        refusal = patterns.refusal(code, lambda facts=facts: facts)
        if isinstance(decided, InputError):
            assert isinstance(refusal, InputError) and refusal.problems == decided.problems
        else:
            assert refusal is None


def test_a_settled_answer_resting_on_one_fact_widens_to_it() -> None:
    """Under the minimum age every other fact is free, however many the first row gave."""
    policy = "CMICB_Clin086"
    engine = engine_for(policy)
    codes = _codes(policy)
    facts = engine.vocabulary.validate({"age": 9, "red_flags": [], "setting": "primary_care", "sciatica": True})
    decision = engine.decide_many([facts], explain=False, weigh_assumptions=False)[0]
    assert isinstance(decision, Decision) and decision.status == "outside_policy"
    patterns: SettledPatterns[str] = SettledPatterns(engine, codes.places)
    code = codes.of_facts(facts)
    assert code is not None
    pattern = patterns.widen(facts, code, decision.status, decision.clauses, "under age")
    assert pattern is not None
    assert "age" in pattern.fixed and "setting" not in pattern.fixed and "sciatica" not in pattern.fixed
    older = codes.of_facts(engine.vocabulary.validate({"age": 40, "red_flags": []}))
    younger = codes.of_facts(engine.vocabulary.validate({"age": 3, "red_flags": [], "ifr_approved": True}))
    assert older is not None and younger is not None
    assert patterns.find(younger) == "under age"
    assert patterns.find(older) is None


def _integrity_constraints(files: list[Path]) -> list[str]:
    found: list[str] = []

    def visit(statement: ast.AST) -> None:
        if statement.ast_type == ast.ASTType.Rule and statement.head.ast_type == ast.ASTType.Literal:
            atom = statement.head.atom
            if atom.ast_type == ast.ASTType.BooleanConstant and not atom.value:
                found.append(str(statement))

    ast.parse_files([str(path) for path in files], visit)
    return found


@pytest.mark.parametrize("policy", POLICIES)
def test_the_only_integrity_constraint_is_the_contradictions(policy: str) -> None:
    """What settled.py's argument rests on: every input completion has a model unless a
    contradiction refuses it, so a pattern's solves over completions leave no input out."""
    assert _integrity_constraints(list(engine_for(policy).files)) == ["#false :- contradicted; not admit_contradictions."]


def test_an_audit_counts_the_classes_patterns_answered() -> None:
    """Children of every age under 16 with every setting: one solve, then a pattern answers the
    other classes; the summary says how many."""
    rows = [{"id": f"c{n}", "age": n % 16, "setting": setting, "red_flags": []}
            for n, setting in enumerate(["primary_care", "mcas", "secondary_care"] * 6)]
    text = "".join(json.dumps(row) + "\n" for row in rows)
    out = io.StringIO()
    tally = audit(io.StringIO(text), AuditSettings("CMICB_Clin086"), out.write, jobs=1)
    engine = engine_for("CMICB_Clin086")
    assert [json.loads(line)["status"] for line in out.getvalue().splitlines()] == [engine.decide(row).status for row in rows]
    classes = {(row["age"] < 16, row["setting"]) for row in rows}  # the input classes met
    assert tally.solved == 1 and tally.by_pattern == len(classes) - 1
    assert f"settled patterns: {len(classes) - 1:,} input classes answered without a solve" in summary_text(tally, "x", "1", 1.0)


def _said(decision: object) -> object:
    if isinstance(decision, Decision):
        return answer_fields(decision, explain=False)
    return type(decision).__name__, str(decision), getattr(decision, "problems", None)


@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_brave_solve_first_decides_as_the_cautious_one_first(policy: str, data: st.DataObject) -> None:
    """What an audit row prints (status, clauses, missing facts, provenance, or the error) is
    the same whichever solve comes first."""
    engine = engine_for(policy)
    many = [_validated(policy, data.draw(patient_facts(engine.vocabulary))) for _ in range(4)]
    first = engine.decide_many(many, explain=False, weigh_assumptions=False, brave_first=True)
    usual = engine.decide_many(many, explain=False, weigh_assumptions=False)
    assert [_said(d) for d in first] == [_said(d) for d in usual]


def test_the_brave_solve_first_tells_a_kb_fault(tmp_path: Path) -> None:
    """A completion with two statuses is a knowledge-base fault, found by the brave solve alone."""
    engine = engine_for("CMICB_Clin086")
    shutil.copytree(engine.kb.root, tmp_path / "kb")
    rules = tmp_path / "kb" / "policies" / "cmicb_clin086" / "rules.lp"
    rules.write_text(rules.read_text() + "\nconclusion(policy_statement, commissioned) :- holds(setting, primary_care).\n")
    broken = PolicyEngine("CMICB_Clin086", KnowledgeBase(tmp_path / "kb"))
    facts = broken.vocabulary.validate({"age": 40, "red_flags": []})  # some completion is primary care
    [decided] = broken.decide_many([facts], explain=False, weigh_assumptions=False, brave_first=True)
    assert isinstance(decided, KnowledgeBaseError) and "two statuses or none" in str(decided)

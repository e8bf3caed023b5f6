"""The solve-only groundings (pruned, integers at their representatives) conclude what the whole program does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from pyclingo_bridge import PolicyEngine
from pyclingo_bridge.engine import DECISION_ATOMS, OUTCOME_ATOMS
from pyclingo_bridge.inputs import InputLiterals, input_keys
from pyclingo_bridge.solver import GroundProgram

from .test_audit_identity import ROWS


def _program(tmp_path: Path, text: str, prune: bool) -> GroundProgram:
    source = tmp_path / "program.lp"
    source.write_text(text)
    return GroundProgram([source], shown={"a/0", "b/1"}, explain=False, prune=prune)


def _names(program: GroundProgram) -> set[str]:
    return {atom.symbol.name for atom in program._control.symbolic_atoms}


def test_rules_nothing_shown_reads_are_left_out(tmp_path: Path) -> None:
    text = "q(1). a :- q(1). b(X) :- q(X). t(2). r(X) :- q(X), not t(X). s(X) :- r(X), q(X). #show a/0. #show b/1."
    pruned, full = _program(tmp_path, text, True), _program(tmp_path, text, False)
    assert {"r", "s"} <= _names(full)
    assert not {"r", "s"} & _names(pruned)
    assert pruned.consequences([], "brave") == full.consequences([], "brave")


@pytest.mark.parametrize(
    "top",
    [
        "p :- not p, q(1).",  # no answer set at all: an odd loop through negation
        "p :- q(1), not r. r :- p.",  # a negative cycle through another rule
        "1 { p; r } 1 :- q(1). :- p. :- r.",  # a choice and constraints: always kept
        "z(1). 1 { p : z(2) } :- q(1).",  # a choice that cannot be met, though nothing reads p
        "p :- q(1), #count { X : q(X) } > 0, not p.",  # an aggregate in the cycle
    ],
)
def test_what_could_remove_every_answer_set_stays(tmp_path: Path, top: str) -> None:
    text = "q(1). a :- q(1). " + top + " #show a/0."
    pruned, full = _program(tmp_path, text, True), _program(tmp_path, text, False)
    assert full.consequences([], "brave") is None
    assert pruned.consequences([], "brave") is None


def test_facts_and_externals_stay(tmp_path: Path) -> None:
    text = "meta(1). q(1). #external e(1). d :- e(1). a :- q(1). #show a/0."
    pruned = _program(tmp_path, text, True)
    assert [str(atom) for atom in pruned.facts("meta", 1)] == ["meta(1)"]
    assert [str(atom) for atom in pruned.externals("e", 1)] == ["e(1)"]
    assert "d" not in _names(pruned)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=ROWS)
def test_pruned_groundings_of_the_policy_conclude_what_the_whole_program_does(engine: PolicyEngine, row: dict[str, Any]) -> None:
    given_keys = input_keys(engine.vocabulary.validate(row), engine.vocabulary)
    for shown, mode in ((DECISION_ATOMS, "cautious"), (OUTCOME_ATOMS, "brave")):
        pruned = engine._grounding(shown)
        whole = _whole(engine, shown)
        assert sorted(
            map(str, pruned.program.consequences(engine.solve_assumptions(pruned, given_keys), mode) or [])
        ) == sorted(map(str, whole.program.consequences(engine.solve_assumptions(whole, given_keys), mode) or []))


_WHOLE: dict[frozenset[str], InputLiterals] = {}


def _whole(engine: PolicyEngine, shown: frozenset[str]) -> InputLiterals:
    if shown not in _WHOLE:
        _WHOLE[shown] = InputLiterals(GroundProgram(engine.files, shown=shown))
    return _WHOLE[shown]


@pytest.mark.parametrize("base", [{}, {"setting": "primary_care"}, {"setting": "mcas", "red_flags": [], "sciatica": False}])
def test_every_age_decides_as_the_first_of_its_interval(engine: PolicyEngine, base: dict[str, Any]) -> None:
    """The engine's solve-only groundings take integers at their representatives only
    (integer_inputs=representatives); every age must conclude what the whole program does."""
    spec = engine.vocabulary.specs["age"]
    assert spec.low is not None and spec.high is not None
    for age in range(spec.low, spec.high + 1):
        given_keys = input_keys(engine.vocabulary.validate({**base, "age": age}), engine.vocabulary)
        for shown, mode in ((DECISION_ATOMS, "cautious"), (OUTCOME_ATOMS, "brave")):
            reduced, whole = engine._grounding(shown), _whole(engine, shown)
            assert sorted(
                map(str, reduced.program.consequences(engine.solve_assumptions(reduced, given_keys), mode) or [])
            ) == sorted(
                map(str, whole.program.consequences(engine.solve_assumptions(whole, given_keys), mode) or [])
            ), (age, mode)

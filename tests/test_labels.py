"""The labels transformer adds fired/derives atoms beside the rules, derived by the same solve."""

from __future__ import annotations

import clingo
from clingo import ast

from pyclingo_bridge.labels import proof_predicates, with_explanations

PROGRAM = """
rule(adult, "1.5", "adult").
label(L) :- rule(L, _, _).
holds(age, 40).
adult :- label(adult), holds(age, A), A >= 16.
status(ok) :- adult, not blocked.
helper(X) :- holds(age, X).
"""


def solve(program: str) -> set[str]:
    statements: list[ast.AST] = []
    ast.parse_string(program, statements.append)
    control = clingo.Control()
    with ast.ProgramBuilder(control) as builder:
        for statement in with_explanations(statements):
            builder.add(statement)
    control.ground([("base", [])])
    with control.solve(yield_=True) as handle:
        model = next(iter(handle))
        return {str(symbol) for symbol in model.symbols(atoms=True)}


def test_labelled_rule_fires_with_the_facts_it_used() -> None:
    atoms = solve(PROGRAM)
    assert "fired(adult,adult,(holds(age,40),))" in atoms


def test_rules_outside_the_proof_say_what_they_used() -> None:
    atoms = solve(PROGRAM + 'rule(block, "2", "b"). blocked :- label(block), adult.')
    assert "used_by(block,blocked,adult)" in atoms
    assert not any(atom.startswith("used_by(adult,") for atom in atoms)


def test_unlabelled_rules_do_not_fire() -> None:
    assert not any(atom.startswith("fired(") and "status" in atom for atom in solve(PROGRAM))


def test_proof_edges_follow_status_down_to_the_inputs() -> None:
    atoms = solve(PROGRAM)
    assert {"derives(status(ok),adult)", "derives(adult,holds(age,40))"} <= atoms
    assert not any(atom.startswith("derives(helper") for atom in atoms)


def test_why_not_conditions_are_recorded_per_body_literal() -> None:
    atoms = solve(PROGRAM.replace("holds(age, 40).", ""))
    assert 'condition(adult,1,holds(age,any))' in atoms
    assert "met(adult,1)" not in atoms


def test_proof_predicates_stop_at_holds() -> None:
    statements: list[ast.AST] = []
    ast.parse_string(PROGRAM, statements.append)
    assert proof_predicates(statements) == {("status", 1), ("adult", 0), ("label", 1), ("rule", 3)}

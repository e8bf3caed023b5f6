"""Exhaustive verification: every complete patient of the declared vocabulary in one grounding.

The policy's program, its ``checks/*.lp`` and ``complete_inputs.lp`` are grounded once with
the input externals left free, so a model is one complete patient and its decision. Then:

* a conflict is a model with two statuses, a gap one with ``no_status``: each found by a
  solve under an assumption, optimised for the fewest stated facts (a minimal counterexample);
* a dead rule is a label that fires in no model (brave consequences of ``fired/3``);
* an invariant is broken when some model derives ``violates(Name)``;
* an integrity constraint of the knowledge base is grounded as ``ruled_out(File, Line)``
  instead: a model where it holds is a patient the engine would refuse ("no completion of
  these facts has a model"), which the check must find before any patient does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import combinations
from pathlib import Path
from typing import Any

import clingo
from clingo import ast
from clingo.ast import AST, ASTType

from ..decision import clause_order
from ..solver import GroundProgram
from ..vocabulary import Vocabulary
from .findings import Finding, Location, RuleRef
from .lint import Declared
from .source import SourceIndex, shown_path

SHOWN = frozenset({"given/2", "known/1", "fired/3", "status/1", "violates/1", "ruled_out/2"})
RULED_OUT = "ruled_out"


def complete_inputs_file() -> Path:
    """The check's input generator, shipped with the package."""
    return Path(str(resources.files("pyclingo_bridge.check") / "complete_inputs.lp"))


def ground_for_verification(files: Sequence[Path]) -> GroundProgram:
    """Ground ``files`` with the input generator and every input external left free."""
    generator = complete_inputs_file()
    program = GroundProgram([*files, generator], shown=SHOWN, rewrite=_constraints_as_atoms(generator))
    inputs = program.externals("given", 2) + program.externals("known", 1)
    program.free_externals(literal for atom in inputs if (literal := program.literal(atom)) is not None)
    return program


def _constraints_as_atoms(generator: Path) -> Callable[[AST], AST]:
    """Turn each integrity constraint of the KB (not of the generator) into a ``ruled_out``
    rule, so that the patients it would rule out remain, and can be found."""

    def rewrite(statement: AST) -> AST:
        if (
            statement.ast_type != ASTType.Rule
            or statement.head.ast_type != ASTType.Literal
            or statement.head.atom.ast_type != ASTType.BooleanConstant
            or statement.head.atom.value
            or Path(statement.location.begin.filename) == generator
        ):
            return statement
        location = statement.location
        place = [
            ast.SymbolicTerm(location, clingo.String(location.begin.filename)),
            ast.SymbolicTerm(location, clingo.Number(location.begin.line)),
        ]
        head = ast.Literal(location, ast.Sign.NoSign, ast.SymbolicAtom(ast.Function(location, RULED_OUT, place, 0)))
        return ast.Rule(location, head, statement.body)

    return rewrite


@dataclass(frozen=True)
class Verification:
    findings: tuple[Finding, ...]
    rules_fired: int
    invariants_checked: int


def verify(program: GroundProgram, index: SourceIndex, declared: Declared, kb_root: Path, vocabulary: Vocabulary) -> Verification:
    """Patients ruled out, conflicts, gaps, dead rules and broken invariants over every
    complete patient."""
    return _Verifier(program, index, declared, kb_root, vocabulary).run()


class _Verifier:
    def __init__(self, program: GroundProgram, index: SourceIndex, declared: Declared, kb_root: Path, vocabulary: Vocabulary) -> None:
        self.program = program
        self.kb_root = kb_root
        self.index = index
        self.declared = declared
        self.vocabulary = vocabulary
        self.labelled = index.labels()

    def run(self) -> Verification:
        brave = self.program.consequences([], "brave")
        if brave is None:
            finding = Finding(
                "unsatisfiable",
                "no patient has a decision: the program has no model for any complete input "
                "(a contradiction such as `p :- not p.` rules out every patient)",
            )
            return Verification((finding,), 0, 0)
        fired = {str(atom.arguments[0]) for atom in brave if atom.name == "fired"}
        findings = [
            *self._ruled_out(),
            *self._conflicts(),
            *self._gaps(),
            *self._invariants(),
            *self._dead_rules(fired),
        ]
        return Verification(tuple(findings), len(fired & set(self.labelled)), len(self.declared.invariants))

    def _counterexample(self, atoms: Sequence[clingo.Symbol]) -> Sequence[clingo.Symbol] | None:
        literals = [self.program.literal(atom) for atom in atoms]
        if any(literal is None for literal in literals):
            return None  # grounding proved the atom can never hold
        return self.program.optimal_model([literal for literal in literals if literal is not None])

    def _ruled_out(self) -> list[Finding]:
        findings = []
        for atom in sorted(self.program.atoms(RULED_OUT, 2), key=lambda a: (a.arguments[0].string, a.arguments[1].number)):
            model = self._counterexample([atom])
            if model is None:
                continue
            file, line = atom.arguments[0].string, atom.arguments[1].number
            location = Location(Path(file), line, 1, shown_path(file, self.kb_root))
            findings.append(
                Finding(
                    "ruled_out",
                    "this integrity constraint rules out a patient: the engine would refuse to decide them",
                    location,
                    counterexample=self._patient(model),
                    rules=tuple(rule for rule, _ in self._rules(model)),
                )
            )
        return findings

    def _conflicts(self) -> list[Finding]:
        statuses = sorted(self.program.atoms("status", 1), key=str)
        findings = []
        for first, second in combinations(statuses, 2):
            model = self._counterexample([first, second])
            if model is None:
                continue
            pair = {str(first.arguments[0]), str(second.arguments[0])}
            rules = self._rules(model)
            deciding = [rule for rule, head in rules if _concludes(head, pair)] or [rule for rule, _ in rules]
            findings.append(
                Finding(
                    "conflict",
                    f"a patient is both {' and '.join(sorted(pair))}",
                    deciding[0].location if deciding else None,
                    _clauses(deciding),
                    self._patient(model),
                    tuple(rule for rule, _ in rules),
                )
            )
        return findings

    def _gaps(self) -> list[Finding]:
        model = self._counterexample([clingo.Function("no_status")])
        if model is None:
            return []
        rules = [rule for rule, _ in self._rules(model)]
        return [
            Finding(
                "gap",
                "a patient gets no status: no conclusion stands for them",
                rules[0].location if rules else None,
                _clauses(rules),
                self._patient(model),
                tuple(rules),
            )
        ]

    def _invariants(self) -> list[Finding]:
        places = self._violation_rules()
        findings = []
        for name, (clause, statement) in sorted(self.declared.invariants.items()):
            model = self._counterexample([clingo.Function("violates", [clingo.Function(name)])])
            if model is None:
                continue
            statuses = sorted(str(atom.arguments[0]) for atom in model if atom.name == "status")
            findings.append(
                Finding(
                    "invariant_violated",
                    f"invariant {name} is broken: {statement} (status: {', '.join(statuses) or 'none'})",
                    places.get(name),
                    (clause,),
                    self._patient(model),
                    tuple(rule for rule, _ in self._rules(model)),
                )
            )
        return findings

    def _dead_rules(self, fired: set[str]) -> list[Finding]:
        """Labels that fire for no patient, except those the KB declares not applicable to this
        policy (``rule_not_applicable/2``), which must fire for no patient instead."""
        not_applicable = self.declared.not_applicable
        findings = []
        for label, rules in sorted(self.labelled.items()):
            if label not in self.declared.rules:
                continue  # a label without rule/3 never fires; the lint reports it
            if (label in fired) == (label not in not_applicable):
                continue
            clause, text = self.declared.rules[label]
            for rule in rules:
                findings.append(
                    Finding(
                        "dead_rule",
                        f"rule {label} fires for no patient: {text}",
                        rule.location,
                        (clause,),
                        rules=(RuleRef(label, clause, text, rule.location),),
                    )
                    if label not in fired
                    else Finding(
                        "not_applicable_rule_fires",
                        f"rule {label} is declared not applicable to this policy but fires: {text}",
                        rule.location,
                        (clause,),
                        rules=(RuleRef(label, clause, text, rule.location),),
                    )
                )
        return findings

    def _violation_rules(self) -> dict[str, Location]:
        places: dict[str, Location] = {}
        for symbol, location in self.index.heads.get(("violates", 1), []):
            if symbol.ast_type == ASTType.Function:
                places.setdefault(str(symbol.arguments[0]), location)
        return places

    def _rules(self, model: Sequence[clingo.Symbol]) -> list[tuple[RuleRef, clingo.Symbol]]:
        """The labelled rules that fired in ``model``, in file order, with the head they derived."""
        found: dict[tuple[str, Location | None], tuple[RuleRef, clingo.Symbol]] = {}
        for atom in model:
            if atom.name != "fired":
                continue
            label, head = str(atom.arguments[0]), atom.arguments[1]
            clause, text = self.declared.rules.get(label, ("?", label))
            candidates = self.labelled.get(label, [])
            matching = [rule for rule in candidates if rule.head == (head.name, len(head.arguments))]
            location = (matching or candidates)[0].location if candidates else None
            found.setdefault((label, location), (RuleRef(label, clause, text, location), head))
        return sorted(found.values(), key=lambda pair: _place(pair[0].location))

    def _patient(self, model: Sequence[clingo.Symbol]) -> dict[str, Any]:
        return patient_facts(model, self.vocabulary)


def patient_facts(model: Sequence[clingo.Symbol], vocabulary: Vocabulary) -> dict[str, Any]:
    """A model's input (its given/2 and known/1 atoms) as the facts `policykb query` reads."""
    values: dict[str, list[clingo.Symbol]] = {}
    for atom in model:
        if atom.name == "known" and str(atom.arguments[0]) in vocabulary.specs:
            values.setdefault(str(atom.arguments[0]), [])  # a list may be known empty
    for atom in model:
        if atom.name == "given" and str(atom.arguments[0]) in vocabulary.specs:
            values.setdefault(str(atom.arguments[0]), []).append(atom.arguments[1])
    specs = vocabulary.specs
    return {key: specs[key].fact_type.from_atoms(specs[key], found) for key, found in sorted(values.items())}


def _concludes(head: clingo.Symbol, statuses: set[str]) -> bool:
    return head.name == "conclusion" and len(head.arguments) == 2 and str(head.arguments[1]) in statuses


def _clauses(rules: Sequence[RuleRef]) -> tuple[str, ...]:
    return tuple(sorted({rule.clause for rule in rules}, key=clause_order))


def _place(location: Location | None) -> tuple[str, int]:
    return (str(location.file), location.line) if location else ("", 0)

"""``policykb diff``: exactly which patients two versions of a policy decide differently.

Both versions' programs (each with its explanation rules) are grounded in one control, the
predicates of the first renamed ``from_…`` and of the second ``to_…``, sharing the input
externals ``given/2`` and ``known/1``; ``check/diff.lp`` joins their vocabularies and derives
``changed`` when the status or a deciding clause differs, and ``check/complete_inputs.lp``
keeps every complete, well-formed patient, as ``policykb check`` does. clingo then
enumerates the classes of changed patients as projections on each side's status and clauses
(one solve), and for each class gives a patient of the fewest facts (one optimising solve
per class): no input is enumerated in Python.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import clingo
from clingo import ast

from .check.verify import complete_inputs_file, patient_facts
from .decision import clause_order
from .engine import PolicyEngine
from .program_cache import ProgramSource
from .solver import GroundProgram
from .vocabulary import FactSpec

SHARED = frozenset({"given", "known"})
"""The predicates both versions read as one: the patient's input."""
SIDES = ("from", "to")
SHOWN = frozenset(
    {"given/2", "known/1", "changed/0", "input_value/2", *(f"{side}_{name}/1" for side in SIDES for name in ("status", "clause"))}
)


def diff_file() -> Path:
    return Path(str(resources.files("pyclingo_bridge.check") / "diff.lp"))


@dataclass(frozen=True)
class Outcome:
    """A decision as the diff compares it: the status and the clauses that decided it."""

    status: str
    clauses: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "clauses": list(self.clauses)}

    def __str__(self) -> str:
        return f"{self.status} ({', '.join(self.clauses) or 'no clause'})"


@dataclass(frozen=True)
class Change:
    """A class of patients decided ``before`` under one version and ``after`` under the other,
    with a patient of the fewest facts in it and, per fact, the values its patients take."""

    before: Outcome
    after: Outcome
    example: dict[str, Any]
    values: dict[str, list[Any]]
    """Fact → every value (numbers: every representative) some patient of the class has."""

    @property
    def status_changes(self) -> bool:
        return self.before.status != self.after.status

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.before.to_dict(), "to": self.after.to_dict(), "example": self.example}


@dataclass(frozen=True)
class PolicyDiff:
    policy: str
    before: dict[str, Any]
    after: dict[str, Any]
    changes: tuple[Change, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "from": self.before, "to": self.after, "changes": [c.to_dict() for c in self.changes]}


def diff_engines(before: PolicyEngine, after: PolicyEngine) -> PolicyDiff:
    """Every class of complete patients that ``before`` and ``after`` decide differently."""
    statements = _once_each_constant(
        [*_renamed(before.files, "from"), *_renamed(after.files, "to"), *_parsed([diff_file(), complete_inputs_file()])]
    )
    files = (*before.files, *after.files, diff_file(), complete_inputs_file())
    # Two groundings: clasp projects even brave consequences on the #project atoms, which
    # the examples' solves need unprojected, to read the values each class takes.
    classes = _classes(GroundProgram(files, shown=SHOWN, statements=statements))
    unprojected = [s for s in statements if s.ast_type != ast.ASTType.ProjectSignature]
    program = _with_free_inputs(GroundProgram(files, shown=SHOWN, statements=unprojected)) if classes else None
    vocabulary = after.vocabulary
    changes = []
    for found in classes:
        assert program is not None
        before_outcome, after_outcome = _outcome(found, "from"), _outcome(found, "to")
        assumptions = _class_assumptions(program, found)
        example = program.optimal_model(assumptions) or []
        reached = program.consequences(assumptions, "brave") or []
        values: dict[str, list[Any]] = {}
        for atom in reached:
            if atom.name == "input_value" and (spec := vocabulary.specs.get(str(atom.arguments[0]))):
                values.setdefault(spec.key, []).append(spec.fact_type.from_atoms(spec, [atom.arguments[1]]))
        changes.append(
            Change(before_outcome, after_outcome, patient_facts(example, vocabulary), {k: sorted(v, key=str) for k, v in sorted(values.items())})
        )
    changes.sort(key=lambda c: (not c.status_changes, c.before.status, c.after.status, c.before.clauses, c.after.clauses))
    return PolicyDiff(
        before.policy.reference,
        {**before.version.to_dict(), "kb": str(before.kb.root)},
        {**after.version.to_dict(), "kb": str(after.kb.root)},
        tuple(changes),
    )


def render_diff_text(diff: PolicyDiff, specs: Mapping[str, FactSpec]) -> str:
    """The diff for people: each class of changed patients, its range of each number fact
    that the class narrows, and an example to paste into ``policykb query``."""
    lines = [f"{diff.policy}: {_side(diff.before)} -> {_side(diff.after)}"]
    if not diff.changes:
        return "\n".join([*lines, "no decision changes", ""])
    moved = [c for c in diff.changes if c.status_changes]
    cited = [c for c in diff.changes if not c.status_changes]
    for title, group in (("status changes", moved), ("clause changes, same status", cited)):
        if not group:
            continue
        lines.append(f"{title}: {len(group)} class{'es' if len(group) != 1 else ''} of patients")
        for number, change in enumerate(group, start=1):
            lines.append(f"  {number}. {change.before} -> {change.after}")
            narrowed = _narrowed(change, specs)
            if narrowed:
                lines.append(f"     patients with {narrowed}")
            lines.append(f"     example: {json.dumps(change.example, ensure_ascii=False)}")
    return "\n".join([*lines, ""])


def _side(version: Mapping[str, Any]) -> str:
    days = version.get("effective_from"), version.get("effective_to")
    dates = " to ".join(d for d in days if d) if days[0] and days[1] else (f"from {days[0]}" if days[0] else "every date")
    return f"version {version.get('version')} ({version.get('status')}, {dates})"


def _narrowed(change: Change, specs: Mapping[str, FactSpec]) -> str:
    """``age 16 to 18``: each number fact whose values in the class are fewer than its range."""
    parts = []
    for key, values in change.values.items():
        spec = specs.get(key)
        if spec is None or spec.low is None or spec.high is None or not values:
            continue
        scale = 10 ** (spec.scale or 0)
        low, high = min(values), max(values)
        if (round(low * scale), round(high * scale)) != (spec.low, spec.high):
            parts.append(f"{key} {low} to {high}" if low != high else f"{key} {low}")
    return ", ".join(parts)


def _with_free_inputs(program: GroundProgram) -> GroundProgram:
    inputs = program.externals("given", 2) + program.externals("known", 1)
    program.free_externals(literal for atom in inputs if (literal := program.literal(atom)) is not None)
    return program


def _classes(program: GroundProgram) -> list[list[clingo.Symbol]]:
    """Each class of changed patients, as one projection on both sides' status and clauses."""
    changed = _with_free_inputs(program).literal(clingo.Function("changed"))
    return program.projections([changed]) if changed is not None else []


def _outcome(model: Sequence[clingo.Symbol], side: str) -> Outcome:
    statuses = sorted(str(a.arguments[0]) for a in model if a.name == f"{side}_status")
    clauses = sorted((_text(a.arguments[0]) for a in model if a.name == f"{side}_clause"), key=clause_order)
    return Outcome(" and ".join(statuses) or "no status", tuple(clauses))


def _class_assumptions(program: GroundProgram, found: Sequence[clingo.Symbol]) -> list[int]:
    """Literals that fix one class: its status and clause atoms true, every other one false."""
    chosen = {str(atom) for atom in found}
    literals = []
    for side in SIDES:
        for name in ("status", "clause"):
            for atom in program.atoms(f"{side}_{name}", 1):
                literal = program.literal(atom)
                if literal is not None:
                    literals.append(literal if str(atom) in chosen else -literal)
    return literals


def _text(symbol: clingo.Symbol) -> str:
    return symbol.string if symbol.type == clingo.SymbolType.String else str(symbol)


def _once_each_constant(statements: Sequence[ast.AST]) -> list[ast.AST]:
    """Without a second ``#const`` of a name both versions define (clingo refuses it): the
    first version's value holds, as the core's constants are the same in both."""
    seen: set[str] = set()
    kept = []
    for statement in statements:
        if statement.ast_type == ast.ASTType.Definition:
            if statement.name in seen:
                continue
            seen.add(statement.name)
        kept.append(statement)
    return kept


def _parsed(files: Sequence[Path]) -> list[ast.AST]:
    statements: list[ast.AST] = []
    ast.parse_files([str(path) for path in files], statements.append)
    return statements


def _renamed(files: Sequence[Path], side: str) -> list[ast.AST]:
    """The statements of ``files`` with their explanation rules, every predicate but the
    inputs renamed ``<side>_<name>``."""
    renamer = _Renamer(f"{side}_")
    return [renamer(statement) for statement in ProgramSource(files, explain=True).statements()]


class _Renamer(ast.Transformer):
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, statement: ast.AST) -> ast.AST:
        return self.visit(statement)

    def _name(self, term: ast.AST) -> ast.AST:
        if term.ast_type == ast.ASTType.Function and term.name not in SHARED and term.name:
            return term.update(name=self.prefix + term.name)
        if term.ast_type == ast.ASTType.Pool:
            return term.update(arguments=[self._name(argument) for argument in term.arguments])
        if term.ast_type == ast.ASTType.UnaryOperation:
            return term.update(argument=self._name(term.argument))
        return term

    def visit_SymbolicAtom(self, atom: ast.AST) -> ast.AST:
        return atom.update(symbol=self._name(atom.symbol))

    def visit_ShowSignature(self, show: ast.AST) -> ast.AST:
        return show.update(name=self.prefix + show.name)

    def visit_Defined(self, defined: ast.AST) -> ast.AST:
        return defined.update(name=self.prefix + defined.name)


__all__ = ["Change", "Outcome", "PolicyDiff", "diff_engines", "render_diff_text"]

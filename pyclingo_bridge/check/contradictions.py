"""Contradictions exclude only what they say: each ``contradiction(Name, Message)`` rule reads
nothing but ``holds/2`` of the fields its ``contradiction_field/2`` declares (so no other fact
can make a patient contradictory), and some input meets it (a completion of the open facts,
with the closed ones at their defaults or, for a contradiction of a closed fact, recorded).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path

from clingo import ast
from clingo.ast import AST, ASTType

from ..engine import PolicyEngine
from ..vocabulary import PatientFacts
from .findings import Finding, Location
from .source import constant, shown_path

HEAD = ("contradiction", 2)


def contradiction_findings(engine: PolicyEngine, files: Sequence[Path], kb_root: Path) -> list[Finding]:
    findings: list[Finding] = []
    declared = engine.contradictions.fields
    read: dict[str, set[str]] = {}
    for rule, name in _contradiction_rules(files):
        location = Location(Path(rule.location.begin.filename), rule.location.begin.line, rule.location.begin.column,
                            shown_path(rule.location.begin.filename, kb_root))
        keys, other = _reads(rule)
        if name is None:
            findings.append(Finding("contradiction_fields", "a contradiction must be named by a constant", location))
            continue
        read.setdefault(name, set()).update(keys)
        if other:
            findings.append(Finding(
                "contradiction_fields",
                f"contradiction {name} reads {', '.join(other)}: it may read only holds(Key, Value) of its declared fields",
                location,
            ))
        if set(keys) != set(declared.get(name, ())):
            findings.append(Finding(
                "contradiction_fields",
                f"contradiction {name} reads {', '.join(sorted(keys)) or 'no field'} but declares "
                f"{', '.join(declared.get(name, ())) or 'none'} with contradiction_field/2",
                location,
            ))
    # Brave consequences with nothing given: every completion of the open facts (closed ones
    # at their defaults, which no contradiction of an open fact depends on).
    shown = engine.reachable(PatientFacts({}))
    if not shown:
        return findings  # no model at all: the check reports that, not each contradiction
    possible = {str(atom.arguments[0]) for atom in shown.get(HEAD[0], ())}
    for name in sorted((set(read) | set(declared)) - possible):
        # A contradiction of a closed fact is met only where that fact is recorded.
        if _met_with_closed_fields_recorded(engine, name, declared.get(name, ())):
            possible.add(name)
    for name in sorted(set(read) | set(declared)):
        if name not in possible:
            findings.append(Finding("dead_contradiction", f"contradiction {name} is met by no input"))
    return findings


def _met_with_closed_fields_recorded(engine: PolicyEngine, name: str, fields: Sequence[str]) -> bool:
    """Whether some completion meets ``name`` once its closed-world fields are recorded (a
    boolean true, a list with one member: each combination of their recorded values)."""
    specs = engine.vocabulary.specs
    closed = [key for key in fields if key in specs and specs[key].world == "closed"]
    if not closed:
        return False
    for values in itertools.product(*(engine.recorded_values(key) for key in closed)):
        shown = engine.reachable(PatientFacts(dict(zip(closed, values))))
        if name in {str(atom.arguments[0]) for atom in shown.get(HEAD[0], ())}:
            return True
    return False


def _contradiction_rules(files: Sequence[Path]) -> Iterator[tuple[AST, str | None]]:
    statements: list[AST] = []
    ast.parse_files([str(path) for path in files], statements.append)
    for statement in statements:
        if statement.ast_type != ASTType.Rule or statement.head.ast_type != ASTType.Literal:
            continue
        atom = statement.head.atom
        if atom.ast_type != ASTType.SymbolicAtom or atom.symbol.ast_type != ASTType.Function:
            continue
        if (atom.symbol.name, len(atom.symbol.arguments)) == HEAD:
            yield statement, constant(atom.symbol.arguments[0])


def _reads(rule: AST) -> tuple[list[str], list[str]]:
    """The fields a rule's body reads by ``holds(Key, _)``, and anything else it reads."""
    keys: list[str] = []
    other: list[str] = []
    for literal in rule.body:
        if literal.ast_type != ASTType.Literal:
            other.append(str(literal))
            continue
        atom = literal.atom
        if atom.ast_type == ASTType.Comparison:
            continue
        if (
            atom.ast_type == ASTType.SymbolicAtom
            and literal.sign == ast.Sign.NoSign
            and atom.symbol.ast_type == ASTType.Function
            and atom.symbol.name == "holds"
            and len(atom.symbol.arguments) == 2
            and constant(atom.symbol.arguments[0]) is not None
        ):
            keys.append(constant(atom.symbol.arguments[0]))  # type: ignore[arg-type]
        else:
            other.append(str(literal))
    return keys, other

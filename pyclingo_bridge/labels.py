"""Make labelled rules explain themselves.

A rule is *labelled* when its body holds ``label(Name)``. For every rule of the knowledge
base this transformer adds, beside the rule itself and with the same body:

* ``derives(Head, Atom)`` for each positive body atom, so the proof of a status can be
  followed back to the patient's facts: only for rules that can take part in that proof
  (those defining ``status/1`` and, transitively, what their bodies read, down to the
  input predicate ``holds/2``), which keeps the grounding small;
* ``fired(Name, Head, (Atoms...))`` for labelled rules: the instance applied, with the
  ground facts it used (negative literals as ``neg(Atom)``), and, for rules outside the
  proof of a status, ``used_by(Name, Head, Atom)`` for each positive one;
* ``rule_head(Name, Head)``, ``condition(Name, I, Condition)`` and ``met(Name, I)`` for
  labelled rules, from which the knowledge base derives why a route did not apply.

The trace is thus derived by the same grounding and solve as the decision, at the cost of
a few extra atoms, instead of a second meta-level pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import cast

from clingo import Number, ast
from clingo.ast import AST, ASTType, Location, Position

from .syntax import Signature

LABEL_PREDICATE = "label"
PROOF_ROOT = ("status", 1)
INPUT_PREDICATE = ("holds", 2)
GENERATED_PREDICATES = frozenset({"fired", "derives", "used_by", "rule_head", "condition", "met"})
_ANY = "any"

_GENERATED = Location(Position("<labels>", 0, 0), Position("<labels>", 0, 0))


def label_of(rule: AST) -> AST | None:
    """The label term of a rule (``label(Name)`` in its body), or None."""
    for literal in rule.body:
        atom = _symbolic_atom(literal)
        if (
            atom is not None
            and literal.sign == ast.Sign.NoSign
            and atom.symbol.ast_type == ASTType.Function
            and atom.symbol.name == LABEL_PREDICATE
            and len(atom.symbol.arguments) == 1
        ):
            return cast(AST, atom.symbol.arguments[0])
    return None



def proof_predicates(statements: Iterable[AST]) -> set[Signature]:
    """Predicates that can stand in the proof of a status: status/1 and, transitively, the
    positive body predicates of the rules defining them, stopping at the input ``holds/2``."""
    reads: dict[Signature, set[Signature]] = {}
    for rule in statements:
        head = _head_term(rule) if rule.ast_type == ASTType.Rule else None
        if head is None or head.ast_type != ASTType.Function:
            continue
        body = reads.setdefault((head.name, len(head.arguments)), set())
        for literal in rule.body:
            atom = _symbolic_atom(literal)
            if atom is not None and literal.sign == ast.Sign.NoSign and atom.symbol.ast_type == ASTType.Function:
                body.add((atom.symbol.name, len(atom.symbol.arguments)))
    found: set[Signature] = set()
    pending = [PROOF_ROOT]
    while pending:
        signature = pending.pop()
        if signature in found or signature == INPUT_PREDICATE:
            continue
        found.add(signature)
        pending.extend(reads.get(signature, ()))
    return found


def explanation_rules(rule: AST, in_proof: set[Signature]) -> Iterator[AST]:
    """The rules that record, for ``rule``, what it derives and, if labelled, when it fired."""
    if rule.ast_type != ASTType.Rule:
        return
    head = _head_term(rule)
    if head is None or _reads_explanations(rule):
        return
    label = label_of(rule)
    used = [lit for lit in rule.body if _symbolic_atom(lit) is not None and not _is_label(lit)]
    in_proof_predicate = head.ast_type == ASTType.Function and (head.name, len(head.arguments)) in in_proof
    if in_proof_predicate:
        for literal in used:
            if literal.sign == ast.Sign.NoSign and not _has_anonymous(literal):
                yield _rule("derives", [head, _atom_term(literal)], rule.body)
    if label is None:
        return
    facts = [_literal_term(lit) for lit in used if not _has_anonymous(lit)]
    yield _rule("fired", [label, head, _tuple(facts)], rule.body)
    if not in_proof_predicate:
        # Rules outside the proof (such as a precedence rule defeating a stage) say which
        # atoms they used, so the KB can cite them when a proof atom made them fire.
        for literal in used:
            if literal.sign == ast.Sign.NoSign and not _has_anonymous(literal):
                yield _rule("used_by", [label, head, _atom_term(literal)], rule.body)
    if not _has_variables(head):
        yield _rule("rule_head", [label, head], [])
    for index, literal in enumerate(used, start=1):
        if literal.sign != ast.Sign.NoSign and _has_variables(literal):
            continue  # "not p(X)" alone is unsafe; its meaning depends on the rest of the body
        number = _number(index)
        yield _rule("condition", [label, number, _literal_term(literal, ground=True)], [])
        yield _rule("met", [label, number], [literal])


def with_explanations(statements: Sequence[AST]) -> Iterator[AST]:
    """The program's statements, each followed by its explanation rules."""
    in_proof = proof_predicates(statements)
    for statement in statements:
        yield statement
        yield from explanation_rules(statement, in_proof)


def _symbolic_atom(literal: AST) -> AST | None:
    if literal.ast_type == ASTType.Literal and literal.atom.ast_type == ASTType.SymbolicAtom:
        return cast(AST, literal.atom)
    return None


def _atom_term(literal: AST) -> AST:
    """The term of a literal already known to hold a symbolic atom."""
    atom = _symbolic_atom(literal)
    assert atom is not None
    return cast(AST, atom.symbol)


def _reads_explanations(rule: AST) -> bool:
    """Rules about the explanation itself (they read generated atoms) are not explained."""
    return any(
        (atom := _symbolic_atom(literal)) is not None
        and atom.symbol.ast_type == ASTType.Function
        and atom.symbol.name in GENERATED_PREDICATES
        for literal in rule.body
    )


def _is_label(literal: AST) -> bool:
    atom = _symbolic_atom(literal)
    return (
        atom is not None
        and atom.symbol.ast_type == ASTType.Function
        and atom.symbol.name == LABEL_PREDICATE
    )


def _head_term(rule: AST) -> AST | None:
    atom = _symbolic_atom(rule.head)
    return cast(AST, atom.symbol) if atom is not None else None


def _literal_term(literal: AST, ground: bool = False) -> AST:
    term = _atom_term(literal)
    if ground:
        term = _VariablesToAny().visit(term)
    if literal.sign != ast.Sign.NoSign:
        term = ast.Function(_GENERATED, "neg", [term], 0)
    return term


def _tuple(terms: list[AST]) -> AST:
    return ast.Function(_GENERATED, "", terms, 0)


def _number(value: int) -> AST:
    return ast.SymbolicTerm(_GENERATED, Number(value))


def _rule(predicate: str, arguments: list[AST], body: list[AST] | AST) -> AST:
    head = ast.Literal(
        _GENERATED,
        ast.Sign.NoSign,
        ast.SymbolicAtom(ast.Function(_GENERATED, predicate, arguments, 0)),
    )
    return ast.Rule(_GENERATED, head, list(body))


class _VariablesToAny(ast.Transformer):
    def visit_Variable(self, variable: AST) -> AST:
        return ast.Function(variable.location, _ANY, [], 0)


class _VariableFinder(ast.Transformer):
    def __init__(self) -> None:
        self.names: list[str] = []

    def visit_Variable(self, variable: AST) -> AST:
        self.names.append(variable.name)
        return variable


def _variables(node: AST) -> list[str]:
    finder = _VariableFinder()
    finder.visit(node)
    return finder.names


def _has_variables(node: AST) -> bool:
    return bool(_variables(node))


def _has_anonymous(node: AST) -> bool:
    return "_" in _variables(node)

"""The part of a program that its shown atoms depend on, for groundings used only to solve.

Clasp assigns every atom of the ground program in every model it finds, so a grounding that
shows only some predicates (the engine's trace-free and brave groundings) solves faster
without the rules whose conclusions nothing shown, constrained or optimized depends on.

Dropping them keeps the answer sets' projection onto everything kept (the splitting set
theorem): the kept part never reads a dropped predicate, and the dropped part, a set of
normal rules, has exactly one answer set extension over any answer set of the kept part
when it is stratified. So only normal rules are ever dropped (a choice, a disjunction, a
constraint, an external or a directive is always kept), and if the rules to drop read each
other through negation, an aggregate or a condition in a cycle, nothing is dropped. Facts
are kept too: they cost the solver nothing, and Python reads metadata from them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field

from clingo import ast

from .syntax import Signature, signatures, walk


@dataclass
class _Statement:
    node: ast.AST
    heads: set[Signature] = field(default_factory=set)
    positive: set[Signature] = field(default_factory=set)
    other: set[Signature] = field(default_factory=set)
    """Read through negation, an aggregate or a condition."""
    droppable: bool = False
    """A normal rule with a body: it may go when nothing kept reads its head."""


def needed_statements(statements: Sequence[ast.AST], shown: Collection[str]) -> list[ast.AST]:
    """``statements`` without the normal rules that nothing in ``shown`` ("name/arity"),
    no constraint, external or directive depends on, when that is safe (see the module)."""
    parsed = [_statement(node) for node in statements]
    needed: set[Signature] = {_signature_of(text) for text in shown}
    for statement in parsed:
        if not statement.droppable:
            needed |= statement.positive | statement.other
            if statement.node.ast_type == ast.ASTType.External:
                needed |= statement.heads  # an input is never redefined away
    # Whatever a needed head's rules read is needed too, up to a fixpoint.
    changed = True
    while changed:
        changed = False
        for statement in parsed:
            if statement.droppable and statement.heads & needed and not statement.positive | statement.other <= needed:
                needed |= statement.positive | statement.other
                changed = True
    dropped = [s for s in parsed if s.droppable and not s.heads & needed]
    if not _stratified(dropped):
        return list(statements)
    dropped_ids = {id(s) for s in dropped}
    return [s.node for s in parsed if id(s) not in dropped_ids]


def _stratified(rules: list[_Statement]) -> bool:
    """Whether no rule reads, other than positively, a predicate that leads back to its head."""
    defined = {head for rule in rules for head in rule.heads}
    reads: dict[Signature, set[Signature]] = {}
    for rule in rules:
        for head in rule.heads:
            reads.setdefault(head, set()).update((rule.positive | rule.other) & defined)
    for rule in rules:
        for target in rule.other & defined:
            if rule.heads & _reachable(target, reads):
                return False
    return True


def _reachable(start: Signature, reads: dict[Signature, set[Signature]]) -> set[Signature]:
    seen = {start}
    stack = [start]
    while stack:
        for following in reads.get(stack.pop(), ()):
            if following not in seen:
                seen.add(following)
                stack.append(following)
    return seen


def _statement(node: ast.AST) -> _Statement:
    statement = _Statement(node)
    if node.ast_type != ast.ASTType.Rule:
        # Directives, externals, shows, minimize statements: kept, and all they mention is needed.
        statement.other = set(_atoms(node))
        if node.ast_type == ast.ASTType.External:
            statement.heads = set(_atoms(node.atom))
            statement.other -= statement.heads
        return statement
    head = node.head
    simple = head.ast_type == ast.ASTType.Literal and head.sign == ast.Sign.NoSign and head.atom.ast_type == ast.ASTType.SymbolicAtom
    statement.heads = set(_atoms(head))
    if not simple:  # a constraint, choice or disjunction: kept, and what it mentions is needed
        statement.other = set(statement.heads)
    for literal in node.body:
        if literal.ast_type == ast.ASTType.Literal and literal.sign == ast.Sign.NoSign:
            statement.positive.update(_atoms(literal))
        else:
            statement.other.update(_atoms(literal))
    statement.droppable = simple and bool(node.body)
    return statement


def _atoms(node: ast.AST) -> Iterator[Signature]:
    """The predicate of every symbolic atom inside ``node``."""
    for part in walk(node):
        if part.ast_type == ast.ASTType.SymbolicAtom:
            yield from signatures(part.symbol)


def _signature_of(text: str) -> Signature:
    name, arity = text.rsplit("/", 1)
    return (name, int(arity))

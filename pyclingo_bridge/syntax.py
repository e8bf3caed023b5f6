"""Reading clingo's AST: the helpers the labels transformer, the pruning of groundings and
the authors' checks share."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import clingo
from clingo import ast
from clingo.ast import AST, ASTType

Signature = tuple[str, int]
"""A predicate: name and arity (classical negation as a leading ``-``)."""


def signatures(term: AST) -> list[Signature]:
    """The predicate signatures an atom's term stands for (a pool stands for several)."""
    if term.ast_type == ASTType.Pool:
        return [signature for argument in term.arguments for signature in signatures(argument)]
    if term.ast_type == ASTType.UnaryOperation and term.operator_type == ast.UnaryOperator.Minus:
        return [("-" + name, arity) for name, arity in signatures(term.argument)]
    if term.ast_type == ASTType.Function:
        return [(term.name, len(term.arguments))]
    if term.ast_type == ASTType.SymbolicTerm and term.symbol.type == clingo.SymbolType.Function:
        return [(term.symbol.name, len(term.symbol.arguments))]
    return []


def walk(node: AST) -> Iterator[AST]:
    """``node`` and every AST node below it."""
    yield node
    for key in node.child_keys:
        child = getattr(node, key)
        if isinstance(child, AST):
            yield from walk(child)
        elif isinstance(child, Sequence):
            for item in child:
                if isinstance(item, AST):
                    yield from walk(item)

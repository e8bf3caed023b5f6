"""Solver atoms read into plain Python values, once per distinct atom.

Every clingo.Symbol accessor is a call into C; a decision reads the same few hundred atoms
over and over (the program is grounded once, so the atoms a solve can show are finitely many).
Reading each distinct atom once into an immutable :class:`Atom` keeps the per-query Python
work small.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple, Union

import clingo

Term = Union[int, str, "Atom"]
"""A number, a string's content, or a function term (a constant is one with no arguments)."""


class Atom(NamedTuple):
    name: str
    arguments: tuple[Term, ...]
    text: str
    """The atom as clingo writes it."""

    def __str__(self) -> str:
        return self.text


Atoms = dict[str, list[Atom]]


@lru_cache(maxsize=1 << 16)
def read_atom(symbol: clingo.Symbol) -> Atom:
    """A function symbol as an :class:`Atom` (cached: the same symbol is read once)."""
    return Atom(symbol.name, tuple(_term(argument) for argument in symbol.arguments), str(symbol))


def _term(symbol: clingo.Symbol) -> Term:
    kind = symbol.type
    if kind == clingo.SymbolType.Number:
        return symbol.number
    if kind == clingo.SymbolType.String:
        return symbol.string
    return read_atom(symbol)


def atoms_by_name(symbols: Iterable[clingo.Symbol]) -> Atoms:
    """Shown atoms grouped by predicate name."""
    grouped: Atoms = {}
    for symbol in symbols:
        atom = read_atom(symbol)
        grouped.setdefault(atom.name, []).append(atom)
    return grouped

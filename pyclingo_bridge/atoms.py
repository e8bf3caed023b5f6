"""Solver atoms read into plain Python values, once per distinct atom.

Every clingo.Symbol accessor is a call into C; a decision reads the same few hundred atoms
over and over (the program is grounded once, so the atoms a solve can show are finitely many).
Reading each distinct atom once into an immutable :class:`Atom` keeps the per-query Python
work small.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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


def replaced(term: Term, replace: Mapping[str, Atom]) -> Term:
    """``term`` with each atom whose text ``replace`` names put in its place, at any depth.

    The new atoms' text is written as clingo writes a symbol (``text_of``), so that it is what
    reading the rebuilt symbol would give (tests/test_atoms.py checks it against clingo)."""
    if type(term) is not Atom or subterms(term).isdisjoint(replace):
        return term
    found = replace.get(term.text)
    if found is not None:
        return found
    arguments = tuple(replaced(argument, replace) for argument in term.arguments)
    text = term.text
    head = text[: text.index("(")]  # the name, with clingo's "-" of a classically negated atom
    close = ",)" if not term.name and len(arguments) == 1 else ")"  # a one-element tuple
    return Atom(term.name, arguments, head + "(" + ",".join(map(text_of, arguments)) + close)


def subterms(atom: Atom) -> frozenset[str]:
    """The text of ``atom`` and of every atom inside it, at any depth (read once per atom)."""
    found = _SUBTERMS.get(atom.text)
    if found is None:
        inside = {atom.text}
        for argument in atom.arguments:
            if type(argument) is Atom:
                inside |= subterms(argument)
        found = frozenset(inside)
        if len(_SUBTERMS) < 1 << 16:
            _SUBTERMS[atom.text] = found
    return found


# By text, not by atom: hashing a nested atom hashes every level of it.
_SUBTERMS: dict[str, frozenset[str]] = {}


def text_of(term: Term) -> str:
    """A term as clingo writes it: a string quoted, with ``\\``, ``"`` and newlines escaped."""
    if type(term) is Atom:
        return term.text
    if type(term) is int:
        return str(term)
    return '"' + term.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"') + '"'  # type: ignore[union-attr]


def atoms_by_name(symbols: Iterable[clingo.Symbol]) -> Atoms:
    """Shown atoms grouped by predicate name.

    Each symbol is looked up by its representation, the 64-bit value clingo compares symbols
    by (equal symbols have equal ones: clingo keeps one copy of each function and string, for
    the life of the process): ``read_atom``'s cache would hash and compare each symbol
    through two calls into C, about a microsecond an atom, on the hundreds of atoms a brave
    solve shows."""
    grouped: Atoms = {}
    memo = _BY_REPRESENTATION
    for symbol in symbols:
        atom = memo.get(symbol._rep)
        if atom is None:
            atom = read_atom(symbol)
            if len(memo) < READ_ATOMS:
                memo[symbol._rep] = atom
        grouped.setdefault(atom.name, []).append(atom)
    return grouped


READ_ATOMS = 1 << 16
"""Distinct atoms remembered (a program grounded once shows finitely many)."""
_BY_REPRESENTATION: dict[int, Atom] = {}

"""Patient facts as the solver's input externals: ``given(Key, Value)`` and ``known(Key)``.

A policy's program is grounded once with every possible input as an external atom. The
externals are left free and each solve fixes all of them by assumptions: true for what the
patient record states, false for everything else. Keys are plain Python values, so building
the assumptions for a query touches no clingo symbol.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import cast

import clingo

from .atoms import Atom, Atoms, atoms_by_name, read_atom, replaced, subterms
from .errors import KnowledgeBaseError
from .solver import GroundProgram
from .vocabulary import InputKey, PatientFacts, Vocabulary


def input_keys(facts: PatientFacts, vocabulary: Vocabulary) -> set[InputKey]:
    """The patient's facts as keys of input externals: ("known", K) and ("given", K, V),
    each value encoded by its fact's type (a decimal as its scaled integer)."""
    return vocabulary.input_keys(facts)


def _symbol_key(atom: clingo.Symbol) -> InputKey:
    arguments = [a.number if a.type == clingo.SymbolType.Number else a.name for a in atom.arguments]
    return (atom.name, *arguments)


class InputLiterals:
    """A program's input externals, left free and fixed per solve by assumptions.

    ``interval_starts`` is for a program grounded with ``integer_inputs=representatives``
    (``kb/core/inputs.lp``): there a given integer is passed as the first value of its
    interval between the KB's thresholds, which behaves alike and is an input external.
    """

    def __init__(self, program: GroundProgram, interval_starts: Mapping[str, Sequence[int]] | None = None) -> None:
        self.program = program
        self.interval_starts = dict(interval_starts or {})
        atoms = program.externals("given", 2) + program.externals("known", 1)
        literals = {_symbol_key(atom): program.literal(atom) for atom in atoms}
        self.literal = {key: literal for key, literal in literals.items() if literal is not None}
        program.free_externals(self.literal.values())
        # Every input false; a query copies this and switches on what the patient states.
        self._all_false = [-literal for literal in self.literal.values()]
        self._position = {key: index for index, key in enumerate(self.literal)}
        self._starts: dict[InputKey, InputKey] = {}
        self._positions_of: dict[str, set[int]] = {}
        for key, index in self._position.items():
            self._positions_of.setdefault(str(key[1]), set()).add(index)

    def assumptions(self, given: set[InputKey], open_facts: Iterable[str] = ()) -> list[int]:
        """Every input fixed: true when the patient states it, false otherwise; the inputs of
        ``open_facts`` (not given) are left out, for the solve to choose."""
        assumptions = self._all_false.copy()
        positions = self._position
        for key in given:
            position = positions.get(key)
            if position is None:
                position = positions.get(self._interval_start(key))
                if position is None:
                    raise KnowledgeBaseError(f"the knowledge base has no input external for {key}")
            assumptions[position] = -assumptions[position]
        if not open_facts:
            return assumptions
        left_out = set().union(*(self._positions_of.get(fact, ()) for fact in open_facts))
        return [literal for index, literal in enumerate(assumptions) if index not in left_out]

    def representatives(self, given: set[InputKey]) -> frozenset[InputKey]:
        """The input keys as this program takes them: each given number as its interval start."""
        return frozenset(map(self._interval_start, given))

    def actual_values(self, given: set[InputKey]) -> dict[str, Atom]:
        """For each given number passed as a different first value of its interval, the text
        of ``holds(K, Start)`` mapped to ``holds(K, Value)``: what a trace must name instead."""
        replace: dict[str, Atom] = {}
        for key in given:
            start = self._interval_start(key)
            if start != key:
                name = str(key[1])
                replace[holds_atom(name, start[2]).text] = holds_atom(name, key[2])
        return replace

    def _interval_start(self, key: InputKey) -> InputKey:
        """The key itself, or for a given number other than its interval's start the start's
        key (read once per key: finitely many, the vocabulary's values)."""
        known = self._starts.get(key)
        if known is not None:
            return known
        starts = self.interval_starts.get(str(key[1])) if key[0] == "given" else None
        found = key
        if starts is not None and isinstance(key[2], int):
            start = starts[max(0, bisect.bisect_right(starts, key[2]) - 1)]
            if start != key[2]:
                found = ("given", key[1], start)
        self._starts[key] = found
        return found


@lru_cache(maxsize=1 << 16)
def holds_atom(key: str, value: int) -> Atom:
    """``holds(Key, Value)`` as read_atom reads clingo's symbol of it (tests/test_atoms.py)."""
    return Atom("holds", (Atom(key, (), key), value), f"holds({key},{value})")


def atoms_with_actual_values(symbols: Iterable[clingo.Symbol], replace: Mapping[str, Atom]) -> Atoms:
    """``symbols`` grouped by name, with every ``holds(K, Start)`` of ``replace`` (keyed by its
    text), at any depth (inside ``fired/3``, ``neg(...)``, why-not conditions), naming the
    patient's value instead. Only atoms that hold such a start are rebuilt, as Python
    values (atoms.replaced): no clingo symbol is made per query."""
    if not replace:
        return atoms_by_name(symbols)
    grouped: Atoms = {}
    for symbol in symbols:
        atom = read_atom(symbol)
        inside = subterms(atom)
        if not inside.isdisjoint(replace):
            # The same atom with the same values recurs (an age, a BMI): rebuilt once.
            key = (atom.text, *(text for start in replace if start in inside for text in (start, replace[start].text)))
            rebuilt = _REBUILT.get(key)
            if rebuilt is None:
                rebuilt = cast(Atom, replaced(atom, replace))  # an atom stays an atom
                if len(_REBUILT) < 1 << 16:
                    _REBUILT[key] = rebuilt
            atom = rebuilt
        grouped.setdefault(atom.name, []).append(atom)
    return grouped


_REBUILT: dict[tuple[str, ...], Atom] = {}

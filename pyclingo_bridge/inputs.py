"""Patient facts as the solver's input externals: ``given(Key, Value)`` and ``known(Key)``.

A policy's program is grounded once with every possible input as an external atom. The
externals are left free and each solve fixes all of them by assumptions: true for what the
patient record states, false for everything else. Keys are plain Python values, so building
the assumptions for a query touches no clingo symbol.
"""

from __future__ import annotations

import clingo

from .errors import KnowledgeBaseError
from .solver import GroundProgram
from .vocabulary import PatientFacts

InputKey = tuple[str | int, ...]
"""("known", Key) or ("given", Key, Value): an input external as plain Python values."""


def input_keys(facts: PatientFacts) -> set[InputKey]:
    """The patient's facts as keys of input externals: ("known", K) and ("given", K, V)."""
    keys: set[InputKey] = set()
    for key, value in facts.given.items():
        if key not in facts.at_least:
            # Without known/1 an open list stays unknown beyond its given members.
            keys.add(("known", key))
        for member in value if isinstance(value, frozenset) else (value,):
            if isinstance(member, bool):
                member = "true" if member else "false"
            keys.add(("given", key, member))
    return keys


def _symbol_key(atom: clingo.Symbol) -> InputKey:
    arguments = [a.number if a.type == clingo.SymbolType.Number else a.name for a in atom.arguments]
    return (atom.name, *arguments)


class InputLiterals:
    """A program's input externals, left free and fixed per solve by assumptions."""

    def __init__(self, program: GroundProgram) -> None:
        self.program = program
        atoms = program.externals("given", 2) + program.externals("known", 1)
        literals = {_symbol_key(atom): program.literal(atom) for atom in atoms}
        self.literal = {key: literal for key, literal in literals.items() if literal is not None}
        program.free_externals(self.literal.values())
        # Every input false; a query copies this and switches on what the patient states.
        self._all_false = [-literal for literal in self.literal.values()]
        self._position = {key: index for index, key in enumerate(self.literal)}

    def assumptions(self, given: set[InputKey]) -> list[int]:
        """Every input fixed: true when the patient states it, false otherwise."""
        assumptions = self._all_false.copy()
        try:
            for key in given:
                position = self._position[key]
                assumptions[position] = -assumptions[position]
        except KeyError as missing:
            raise KnowledgeBaseError(f"the knowledge base has no input external for {missing}") from None
        return assumptions

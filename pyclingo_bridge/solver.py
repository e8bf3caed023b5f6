"""The one wrapper around clingo: load the knowledge base, ground once, solve per query.

Each policy is grounded a single time with every possible patient fact as an external atom.
A query then costs a solve with the patient's given facts switched on, which is what
keeps a decision with its explanation well under a millisecond.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import Literal

import clingo
from clingo import ast

from .errors import KnowledgeBaseError
from .labels import add_with_explanations

Consequences = Literal["brave", "cautious"]


class GroundProgram:
    """A knowledge-base program, parsed with explanation rules and grounded once."""

    def __init__(
        self,
        files: Sequence[Path],
        arguments: Iterable[str] = (),
        shown: Collection[str] | None = None,
    ) -> None:
        """Parse and ground ``files``; ``shown`` keeps only those ``#show name/arity`` lines."""
        self.files = tuple(files)
        self.messages: list[str] = []
        self._mode: Consequences | None = None
        self._control = clingo.Control(
            ["--models=0", *arguments], logger=self._log, message_limit=100
        )
        try:
            with ast.ProgramBuilder(self._control) as builder:
                add = add_with_explanations(builder.add)
                ast.parse_files([str(path) for path in self.files], _only_shown(add, shown))
            self._control.ground([("base", [])])
        except RuntimeError as error:
            raise KnowledgeBaseError(self._failure(error)) from None

    def _log(self, code: clingo.MessageCode, message: str) -> None:
        self.messages.append(message.strip())

    def _failure(self, error: RuntimeError) -> str:
        detail = "\n".join(self.messages) or str(error)
        return f"the knowledge base does not load:\n{detail}"

    def facts(self, name: str, arity: int) -> list[clingo.Symbol]:
        """The atoms of ``name/arity`` that grounding already established as facts."""
        return [
            atom.symbol
            for atom in self._control.symbolic_atoms.by_signature(name, arity)
            if atom.is_fact
        ]

    def externals(self, name: str, arity: int) -> list[clingo.Symbol]:
        """The external atoms of ``name/arity``: the inputs a query may switch on."""
        return [
            atom.symbol
            for atom in self._control.symbolic_atoms.by_signature(name, arity)
            if atom.is_external
        ]

    def literal(self, symbol: clingo.Symbol) -> int | None:
        """The solver literal of a ground atom, or None when grounding dropped it."""
        atom = self._control.symbolic_atoms[symbol]
        return atom.literal if atom is not None else None

    def free_externals(self, literals: Iterable[int]) -> None:
        """Leave these externals open, to be fixed per solve by assumptions."""
        for literal in literals:
            self._control.assign_external(literal, None)

    def consequences(
        self, assumptions: Sequence[int], mode: Consequences
    ) -> list[clingo.Symbol] | None:
        """Brave or cautious consequences (shown atoms) under ``assumptions``; None if unsatisfiable."""
        control = self._control
        if mode != self._mode:  # setting the configuration costs as much as a small solve
            control.configuration.solve.enum_mode = mode  # type: ignore[union-attr]
            self._mode = mode
        with control.solve(assumptions=assumptions, yield_=True) as handle:
            for _ in handle:
                pass  # each model refines the one before; only the last holds the consequences
            last = handle.last()
            return None if last is None else last.symbols(shown=True)


def _only_shown(add: Callable[[ast.AST], None], shown: Collection[str] | None) -> Callable[[ast.AST], None]:
    """Drop ``#show name/arity`` statements whose signature is not in ``shown``."""
    if shown is None:
        return add

    def add_statement(statement: ast.AST) -> None:
        if statement.ast_type == ast.ASTType.ShowSignature:
            if f"{statement.name}/{statement.arity}" not in shown:
                return
        add(statement)

    return add_statement

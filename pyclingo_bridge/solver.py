"""The one wrapper around clingo: load the knowledge base, ground once, solve per query.

Each policy is grounded a single time with every possible patient fact as an external atom.
A query then costs a solve with the patient's given facts switched on, which is what
keeps a decision with its explanation well under a millisecond.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import clingo

from .errors import KnowledgeBaseError
from .program_cache import GroundingText, ProgramSource

if TYPE_CHECKING:  # clingo.ast is imported only where a syntax tree is walked
    from clingo import ast

Consequences = Literal["brave", "cautious"]


class GroundProgram:
    """A knowledge-base program, parsed with explanation rules and grounded once."""

    def __init__(
        self,
        files: Sequence[Path],
        arguments: Iterable[str] = (),
        shown: Collection[str] | None = None,
        explain: bool = True,
        rewrite: Callable[[ast.AST], ast.AST] | None = None,
        prune: bool = False,
        observe: bool = False,
        statements: Sequence[ast.AST] | None = None,
    ) -> None:
        """Parse and ground ``files``; ``shown`` keeps only those ``#show name/arity`` lines;
        ``explain=False`` leaves out the explanation rules (a plain program, for comparison);
        ``rewrite`` (used by ``policykb check``) transforms each statement as parsed;
        ``prune`` also leaves out the rules nothing shown depends on (``cone.py``), for a
        grounding that is only solved, never read for its facts beyond those; ``observe`` records
        the ground rules as clingo emits them (``ground_rules``, for ``classes.py``); ``statements``
        are grounded instead of ``files``' own (``policykb diff``: two versions, renamed)."""
        self.files = tuple(files)
        self.messages: list[str] = []
        self._mode: tuple[str, str] | None = None
        self._arguments = ["--models=0", *arguments]
        self._observe = observe
        self._observer: _RuleRecorder | None = None
        self._control = self._new_control()
        source = ProgramSource(self.files, explain, rewrite)
        prune = prune and shown is not None and rewrite is None
        # The grounding's own text, kept by an earlier process: handed to clingo as text, no
        # syntax tree walked (a rewritten or given program has none).
        own_files = rewrite is None and statements is None
        text = GroundingText(source, shown, prune) if own_files else None
        cached = text.text() if text is not None else None
        if cached is not None:
            try:
                self._control.add("base", [], cached)
                self._control.ground([("base", [])])
                return
            except RuntimeError:
                # Text that no longer grounds (say, other constants): ground the files
                # themselves, so that any message names them.
                self.messages.clear()
                self._control = self._new_control()
        self._ground_statements(source, text, shown, prune, statements)

    def _new_control(self) -> clingo.Control:
        control = clingo.Control(self._arguments, logger=self._log, message_limit=100)
        if self._observe:
            self._observer = _RuleRecorder()
            control.register_observer(self._observer)
        return control

    def _ground_statements(
        self,
        source: ProgramSource,
        text: GroundingText | None,
        shown: Collection[str] | None,
        prune: bool,
        statements: Sequence[ast.AST] | None,
    ) -> None:
        """Ground from the syntax tree: the files' statements (transformed once per process),
        or ``statements``; then keep the texts that grounded for the next process."""
        from clingo import ast

        from .cone import needed_statements

        whole: list[ast.AST] | None = None
        try:
            if statements is not None:
                kept = [statement for statement in statements if _kept(statement, shown)]
            else:
                whole = _statements(source)
                kept = [statement for statement in whole if _kept(statement, shown)]
                if prune and shown is not None:  # (never pruned when rewritten)
                    kept = needed_statements(kept, shown)
            with ast.ProgramBuilder(self._control) as builder:
                for statement in kept:
                    builder.add(statement)
            self._control.ground([("base", [])])
        except RuntimeError as error:
            raise KnowledgeBaseError(self._failure(error)) from None
        if whole is not None:
            source.remember(whole)
        if text is not None:
            text.remember(kept)

    def ground_rules(self) -> tuple[list[GroundRule], dict[int, clingo.Symbol]]:
        """The ground program as rules over program atoms (only with ``observe``), and each
        named atom's symbol by its program atom; atoms without a symbol are the grounder's own."""
        assert self._observer is not None, "ground with observe=True to read the rules"
        symbols = {atom.literal: atom.symbol for atom in self._control.symbolic_atoms}
        return self._observer.rules, symbols

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

    def atoms(self, name: str, arity: int) -> list[clingo.Symbol]:
        """Every ground atom of ``name/arity`` that grounding kept (fact or not)."""
        return [atom.symbol for atom in self._control.symbolic_atoms.by_signature(name, arity)]

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
        self._configure(mode, "ignore")
        last: list[list[clingo.Symbol]] = []
        # Only the last model holds the consequences: read it alone, not each model on the way.
        control.solve(assumptions=assumptions, on_last=lambda model: last.append(list(model.symbols(shown=True))))
        return last[0] if last else None

    def projections(self, assumptions: Sequence[int]) -> list[list[clingo.Symbol]]:
        """The distinct projections of the models under ``assumptions`` on the program's
        ``#project`` atoms (each one model's shown atoms): one solve for every class."""
        self._configure("auto", "ignore")
        solve = self._control.configuration.solve
        solve.project = "project"  # type: ignore[union-attr]
        found: list[list[clingo.Symbol]] = []
        try:
            self._control.solve(assumptions=assumptions, on_model=lambda model: found.append(list(model.symbols(shown=True))))
        finally:
            solve.project = "no"  # type: ignore[union-attr]
        return found

    def optimal_model(self, assumptions: Sequence[int]) -> list[clingo.Symbol] | None:
        """The shown atoms of a model of least cost (by the program's ``#minimize``) under
        ``assumptions``; None if unsatisfiable."""
        control = self._control
        self._configure("auto", "opt")
        symbols: list[clingo.Symbol] | None = None
        with control.solve(assumptions=assumptions, yield_=True) as handle:
            for model in handle:
                symbols = model.symbols(shown=True)  # each model is cheaper than the last
        return symbols

    def _configure(self, enum_mode: str, opt_mode: str) -> None:
        # Setting the configuration costs about as much as a small solve: only on a change.
        if (enum_mode, opt_mode) != self._mode:
            self._control.configuration.solve.enum_mode = enum_mode  # type: ignore[union-attr]
            self._control.configuration.solve.opt_mode = opt_mode  # type: ignore[union-attr]
            self._mode = (enum_mode, opt_mode)


GroundRule = tuple[object, ...]
"""One ground statement: ``("rule", choice, head, body)``, ``("weight", choice, head, lower,
body)``, ``("external", atom, value)`` or ``("minimize", priority, body)``; atoms by number,
negative literals negated, weighted literals as (literal, weight)."""


class _RuleRecorder(clingo.Observer):
    """Records the ground statements clingo passes on (clingo's Observer interface)."""

    def __init__(self) -> None:
        self.rules: list[GroundRule] = []

    def rule(self, choice: bool, head: Sequence[int], body: Sequence[int]) -> None:
        self.rules.append(("rule", choice, tuple(head), tuple(body)))

    def weight_rule(self, choice: bool, head: Sequence[int], lower_bound: int, body: Sequence[tuple[int, int]]) -> None:
        self.rules.append(("weight", choice, tuple(head), lower_bound, tuple(body)))

    def external(self, atom: int, value: clingo.TruthValue) -> None:
        self.rules.append(("external", atom, str(value)))

    def minimize(self, priority: int, literals: Sequence[tuple[int, int]]) -> None:
        self.rules.append(("minimize", priority, tuple(literals)))


_STATEMENTS: dict[str, list[ast.AST]] = {}
# Freed before the interpreter tears down clingo.ast, imported after this module (modules are
# cleared newest first): an AST freed after it cannot release itself, and says so on stderr.
atexit.register(_STATEMENTS.clear)


def _statements(source: ProgramSource) -> list[ast.AST]:
    """The source's statements, transformed at most once per process (unless rewritten)."""
    if source.rewrite is not None:
        return source.statements()
    if source.key not in _STATEMENTS:
        _STATEMENTS[source.key] = source.statements()
    return _STATEMENTS[source.key]


def _kept(statement: ast.AST, shown: Collection[str] | None) -> bool:
    """False for a ``#show name/arity`` statement whose signature is not in ``shown``."""
    from clingo.ast import ASTType

    if shown is None or statement.ast_type != ASTType.ShowSignature:
        return True
    return f"{statement.name}/{statement.arity}" in shown

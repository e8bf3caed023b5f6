"""The two solves of a query, showing only the atoms an audit row prints.

An audit row without ``--explain`` prints status, clauses and missing facts. Those come,
in :meth:`PolicyEngine.decision_from_atoms`, from ``status/1``, ``decided_by/2``,
``unknown/1`` and ``advice/2`` of the cautious solve and ``status/1``, ``decided_by/2`` and
``outcome/4`` of the brave one. Hiding every other atom (the trace) changes no model of the
program — ``#show`` only selects what is reported — so these atoms are exactly the ones
``query`` computes, and reporting fewer of them makes each solve cheaper. The grounding is
the engine's own files, once per process; the atoms go to ``decision_from_atoms``.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import clingo

from ..engine import OUTCOME_ATOMS, Atoms, PolicyEngine, atoms_by_name
from ..errors import KnowledgeBaseError
from ..solver import Consequences, GroundProgram
from ..vocabulary import PatientFacts

CAUTIOUS_ATOMS = frozenset({"status/1", "decided_by/2", "unknown/1", "advice/2", "consistent/0"})
_CONSISTENT = clingo.Function("consistent")


class OutcomeSolver:
    """Cautious and brave consequences of one policy, restricted to what a row prints."""

    def __init__(self, engine: PolicyEngine) -> None:
        self.engine = engine
        files = engine.program.files
        self._cautious = GroundProgram(files, shown=CAUTIOUS_ATOMS)
        self._brave = GroundProgram(files, shown=OUTCOME_ATOMS)
        self._inputs = {program: _inputs(program) for program in (self._cautious, self._brave)}
        self._lock = threading.Lock()

    def atoms(self, facts: PatientFacts) -> tuple[Atoms, Atoms | None]:
        """The cautious atoms and, when no status is certain, the brave ones (as the engine does)."""
        given = self.engine.input_atoms(facts)
        with self._lock:
            cautious = atoms_by_name(self._solve(self._cautious, given, "cautious"))
            if _CONSISTENT not in cautious.get("consistent", ()):
                raise KnowledgeBaseError(
                    f"{self.engine.policy.reference}: for some completion of these facts the knowledge "
                    "base concludes two statuses or none; run `policykb check`"
                )
            if len(cautious.get("status", ())) == 1:
                return cautious, None
            return cautious, atoms_by_name(self._solve(self._brave, given, "brave"))

    def _solve(self, program: GroundProgram, given: set[clingo.Symbol], mode: Consequences) -> list[clingo.Symbol]:
        # Every input external is fixed by an assumption: true if given, false otherwise.
        literals = self._inputs[program]
        on = {literals[atom] for atom in given if atom in literals}  # hashes the few given atoms only
        assumptions = [literal if literal in on else -literal for literal in literals.values()]
        symbols = program.consequences(assumptions, mode)
        if symbols is None:
            raise KnowledgeBaseError(f"{self.engine.policy.reference}: no completion of these facts has a model")
        return symbols


def _inputs(program: GroundProgram) -> dict[clingo.Symbol, int]:
    """The input externals with their literals, left free to be fixed by assumptions."""
    literals = {}
    for atom in program.externals("given", 2) + program.externals("known", 1):
        literal = program.literal(atom)
        if literal is not None:
            literals[atom] = literal
    program.free_externals(literals.values())
    return literals


@lru_cache(maxsize=None)
def outcome_solver(engine: PolicyEngine) -> OutcomeSolver:
    """The engine's outcome solver, grounded once per process (workers forked later share it)."""
    return OutcomeSolver(engine)

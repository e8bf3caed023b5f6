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
from functools import cache

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
        self._input_atoms = _input_atom_table(engine)
        self._lock = threading.Lock()

    def atoms(self, facts: PatientFacts) -> tuple[Atoms, Atoms | None]:
        """The cautious atoms and, when no status is certain, the brave ones (as the engine does)."""
        given = self._given(facts)
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

    def _given(self, facts: PatientFacts) -> list[clingo.Symbol]:
        # The atoms of PolicyEngine.input_atoms, looked up rather than built: building
        # clingo symbols is what costs.
        atoms = self._input_atoms
        given = []
        for key, value in facts.given.items():
            given.append(atoms[("known", key)])
            for member in value if isinstance(value, frozenset) else (value,):
                given.append(atoms[(key, member)])
        return given

    def _solve(self, program: GroundProgram, given: list[clingo.Symbol], mode: Consequences) -> list[clingo.Symbol]:
        # Every input external is fixed by an assumption: true if given, false otherwise.
        literals = self._inputs[program]
        on = {literals[atom] for atom in given if atom in literals}
        assumptions = [literal if literal in on else -literal for literal in literals.values()]
        symbols = program.consequences(assumptions, mode)
        if symbols is None:
            raise KnowledgeBaseError(f"{self.engine.policy.reference}: no completion of these facts has a model")
        return symbols


def _input_atom_table(engine: PolicyEngine) -> dict[tuple[object, ...], clingo.Symbol]:
    """Every input atom by (key, value) — ("known", key) for known/1 — made once by the
    engine's own input_atoms, so both paths state a patient's facts with the same atoms."""
    table: dict[tuple[object, ...], clingo.Symbol] = {}
    for key, spec in engine.vocabulary.specs.items():
        if spec.type == "integer":
            assert spec.low is not None and spec.high is not None
            values: list[object] = list(range(spec.low, spec.high + 1))
        elif spec.type == "boolean":
            values = [True, False]
        else:
            values = list(spec.values)
        for value in values:
            stated = frozenset([value]) if spec.type == "list" else value
            atoms = engine.input_atoms(PatientFacts(given={key: stated}))  # type: ignore[dict-item]
            for atom in atoms:
                if atom.name == "known":
                    table[("known", key)] = atom
                else:
                    table[(key, value)] = atom
    return table


def _inputs(program: GroundProgram) -> dict[clingo.Symbol, int]:
    """The input externals with their literals, left free to be fixed by assumptions."""
    literals = {}
    for atom in program.externals("given", 2) + program.externals("known", 1):
        literal = program.literal(atom)
        if literal is not None:
            literals[atom] = literal
    program.free_externals(literals.values())
    return literals


@cache
def outcome_solver(engine: PolicyEngine) -> OutcomeSolver:
    """The engine's outcome solver, grounded once per process (workers forked later share it)."""
    return OutcomeSolver(engine)

"""The decision engine: one per policy, shared by the CLI, the audit, the service and the tests.

A query is at most two solves of the policy's program, grounded once:

1. cautious consequences under the patient's facts: what holds in *every* completion of
   the unknown facts. If a status is among them it stands, with its proof as explanation.
2. otherwise brave consequences: every status some completion reaches (``possible``), and
   for each unknown fact the statuses each of its values reaches; a fact whose values reach
   different statuses is ``missing``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import clingo

from .decision import Advice, Decision, MissingFact, Possibility, Status, clause_order
from .errors import KnowledgeBaseError
from .explain import build_explanation
from .knowledge_base import KnowledgeBase
from .metadata import PolicyInfo
from .solver import GroundProgram
from .vocabulary import PatientFacts, Vocabulary

UNDETERMINED: Status = "undetermined"
OUTCOME_ATOMS = frozenset({"status/1", "decided_by/2", "outcome/4"})

Atoms = dict[str, list[clingo.Symbol]]


class PolicyEngine:
    """Decides patients under one policy. Thread-safe; build once, query many times."""

    def __init__(self, policy_id: str, kb: KnowledgeBase | None = None) -> None:
        self.kb = kb or KnowledgeBase.installed()
        folder = self.kb.policy_folder(policy_id)
        files = self.kb.program_files(policy_id)
        # Two groundings of the same program: the cautious one shows the whole trace, the brave
        # one only what `possible` and `missing` need, so that it enumerates few models.
        self.program = GroundProgram(files)
        self._outcomes = GroundProgram(files, shown=OUTCOME_ATOMS)
        self.policy = PolicyInfo.from_program(folder.name, self.program)
        self.vocabulary = Vocabulary.from_program(self.program)
        self._inputs = self.program.externals("given", 2) + self.program.externals("known", 1)
        self._literals = {program: _input_literals(program, self._inputs) for program in (self.program, self._outcomes)}
        self._lock = threading.Lock()

    def decide(self, facts: Mapping[str, object]) -> Decision:
        """Validate ``facts`` (a JSON-like mapping) and decide them; raises InputError."""
        return self.decide_facts(self.vocabulary.validate(facts))

    def input_atoms(self, facts: PatientFacts) -> set[clingo.Symbol]:
        """The ``given/2`` and ``known/1`` atoms that state exactly the patient's facts."""
        atoms = set()
        for key, value in facts.given.items():
            spec = self.vocabulary.specs[key]
            key_symbol = clingo.Function(key)
            if key not in facts.at_least:
                # Without known/1 an open list stays unknown beyond its given members.
                atoms.add(clingo.Function("known", [key_symbol]))
            for member in value if isinstance(value, frozenset) else (value,):
                atoms.add(clingo.Function("given", [key_symbol, spec.value_symbol(member)]))
        return atoms

    def decide_facts(self, facts: PatientFacts) -> Decision:
        """Decide validated facts."""
        given = self.input_atoms(facts)
        with self._lock:
            cautious = atoms_by_name(self._solve(self.program, given, "cautious"))
            if clingo.Function("consistent") not in cautious.get("consistent", ()):
                raise KnowledgeBaseError(
                    f"{self.policy.reference}: for some completion of these facts the knowledge "
                    "base concludes two statuses or none; run `policykb check`"
                )
            determined = len(cautious.get("status", ())) == 1
            brave = None if determined else atoms_by_name(self._solve(self._outcomes, given, "brave"))
        return self.decision_from_atoms(facts, cautious, brave)

    def _solve(self, program: GroundProgram, given: set[clingo.Symbol], mode: str) -> list[clingo.Symbol]:
        # Every input external is fixed by an assumption: true if given, false otherwise.
        assumptions = [
            literal if atom in given else -literal for atom, literal in self._literals[program]
        ]
        symbols = program.consequences(assumptions, mode)  # type: ignore[arg-type]
        if symbols is None:
            raise KnowledgeBaseError(f"{self.policy.reference}: no completion of these facts has a model")
        return symbols

    def decision_from_atoms(self, facts: PatientFacts, cautious: Atoms, brave: Atoms | None) -> Decision:
        """Assemble the decision from cautious consequences and, when no status is certain,
        brave ones (each grouped by predicate name). Every front end goes through here."""
        explanation = build_explanation(cautious, self.policy.rules, self.vocabulary)
        advice = tuple(
            sorted(
                (Advice(a.arguments[0].string, a.arguments[1].string) for a in cautious.get("advice", ())),
                key=lambda advice: clause_order(advice.clause),
            )
        )
        unknown = tuple(sorted(str(a.arguments[0]) for a in cautious.get("unknown", ())))
        common = dict(
            id=facts.record_id,
            policy=self.policy.reference,
            policy_version=self.policy.version,
            explanation=explanation,
            advice=advice,
            unknown=unknown,
        )
        if brave is None:
            status = cautious["status"][0].arguments[0].name
            return Decision(status=status, clauses=_clauses(cautious, status), **common)  # type: ignore[arg-type]
        statuses = sorted(str(a.arguments[0]) for a in brave.get("status", ()))
        possible = tuple(Possibility(s, _clauses(brave, s)) for s in statuses)  # type: ignore[arg-type]
        return Decision(
            status=UNDETERMINED,
            clauses=(),
            possible=possible,
            missing=self._missing(brave, unknown),
            **common,  # type: ignore[arg-type]
        )

    def _missing(self, brave: Atoms, unknown: tuple[str, ...]) -> tuple[MissingFact, ...]:
        reached: dict[str, dict[str, dict[str, set[str]]]] = {}
        for atom in brave.get("outcome", ()):
            key, point, choice, status = (str(argument) for argument in atom.arguments)
            reached.setdefault(key, {}).setdefault(point, {}).setdefault(choice, set()).add(status)
        deciding = [
            key
            for key, points in reached.items()
            if any(len({frozenset(s) for s in choices.values()}) > 1 for choices in points.values())
        ]
        # Safety net: an undetermined answer always names what to ask, even where no single
        # fact changes the outcome on its own (then every unknown fact is asked for).
        keys = sorted(deciding) or list(unknown)
        return tuple(self._question(key) for key in keys)

    def _question(self, key: str) -> MissingFact:
        spec = self.vocabulary.specs[key]
        return MissingFact(key, spec.question or f"What is {key} ({spec.meaning})?", spec.allowed())


def _input_literals(program: GroundProgram, inputs: list[clingo.Symbol]) -> list[tuple[clingo.Symbol, int]]:
    pairs = [(atom, program.literal(atom)) for atom in inputs]
    literals = [(atom, literal) for atom, literal in pairs if literal is not None]
    program.free_externals(literal for _, literal in literals)
    return literals


def atoms_by_name(symbols: list[clingo.Symbol]) -> Atoms:
    grouped: Atoms = {}
    for symbol in symbols:
        grouped.setdefault(symbol.name, []).append(symbol)
    return grouped


def _clauses(atoms: Atoms, status: str) -> tuple[str, ...]:
    clauses = {a.arguments[1].string for a in atoms.get("decided_by", ()) if a.arguments[0].name == status}
    return tuple(sorted(clauses, key=clause_order))


@lru_cache(maxsize=None)
def _engine(policy_id: str, kb_root: Path | None) -> PolicyEngine:
    return PolicyEngine(policy_id, KnowledgeBase(kb_root) if kb_root else None)


def engine_for(policy_id: str, kb_root: Path | None = None) -> PolicyEngine:
    """The shared engine of a policy (grounded once per process)."""
    return _engine(policy_id.lower(), kb_root)


def decide(policy_id: str, facts: Mapping[str, object], kb_root: Path | None = None) -> Decision:
    """Decide one patient's facts under ``policy_id``: the library's main entry point."""
    return engine_for(policy_id, kb_root).decide(facts)

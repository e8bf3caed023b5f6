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

from .atoms import Atoms, atoms_by_name
from .decision import Advice, Decision, MissingFact, Possibility, Status, clause_order
from .errors import KnowledgeBaseError
from .explain import Explainer
from .knowledge_base import KnowledgeBase
from .metadata import PolicyInfo
from .solver import GroundProgram
from .vocabulary import PatientFacts, Vocabulary

UNDETERMINED: Status = "undetermined"
# What each grounding shows (the engine's contract with kb/core/decision.lp): the cautious
# solve reads the trace, the brave one only what `possible` and `missing` need. Fewer shown
# atoms mean fewer models to enumerate and fewer symbols to read.
TRACE_ATOMS = frozenset(
    {"status/1", "consistent/0", "decided_by/2", "deciding/1", "fired/3", "why_not/3", "why_not_overridden/2", "advice/2"}
)
OUTCOME_ATOMS = frozenset({"status/1", "decided_by/2", "outcome/4"})



class PolicyEngine:
    """Decides patients under one policy. Thread-safe; build once, query many times."""

    def __init__(self, policy_id: str, kb: KnowledgeBase | None = None) -> None:
        self.kb = kb or KnowledgeBase.installed()
        folder = self.kb.policy_folder(policy_id)
        self.files = self.kb.program_files(policy_id)
        self.program = GroundProgram(self.files, shown=TRACE_ATOMS)
        self.policy = PolicyInfo.from_program(folder.name, self.program)
        self.vocabulary = Vocabulary.from_program(self.program)
        self.explainer = Explainer(self.policy.rules, self.vocabulary)
        self._trace = _InputLiterals(self.program)
        self._outcomes: _InputLiterals | None = None
        self._lock = threading.Lock()

    def _outcome_inputs(self) -> _InputLiterals:
        # A second grounding of the same program that shows only what `possible` and `missing`
        # need, so that its brave enumeration takes few models. Built when first needed.
        if self._outcomes is None:
            self._outcomes = _InputLiterals(GroundProgram(self.files, shown=OUTCOME_ATOMS))
        return self._outcomes

    def decide(self, facts: Mapping[str, object]) -> Decision:
        """Validate ``facts`` (a JSON-like mapping) and decide them; raises InputError."""
        return self.decide_facts(self.vocabulary.validate(facts))

    def input_atoms(self, facts: PatientFacts) -> set[clingo.Symbol]:
        """The ``given/2`` and ``known/1`` atoms that state exactly the patient's facts."""
        atoms = set()
        for key, value in facts.given.items():
            spec = self.vocabulary.specs[key]
            key_symbol = clingo.Function(key)
            atoms.add(clingo.Function("known", [key_symbol]))
            for member in value if isinstance(value, frozenset) else (value,):
                atoms.add(clingo.Function("given", [key_symbol, spec.value_symbol(member)]))
        return atoms

    def decide_facts(self, facts: PatientFacts) -> Decision:
        """Decide validated facts."""
        given = _input_keys(facts)
        with self._lock:
            cautious = atoms_by_name(self._solve(self._trace, given, "cautious"))
            if "consistent" not in cautious:
                raise KnowledgeBaseError(
                    f"{self.policy.reference}: for some completion of these facts the knowledge "
                    "base concludes two statuses or none; run `policykb check`"
                )
            determined = len(cautious.get("status", ())) == 1
            brave = None if determined else atoms_by_name(self._solve(self._outcome_inputs(), given, "brave"))
        return self.decision_from_atoms(facts, cautious, brave)

    def _solve(self, inputs: _InputLiterals, given: set[InputKey], mode: str) -> list[clingo.Symbol]:
        symbols = inputs.program.consequences(inputs.assumptions(given), mode)  # type: ignore[arg-type]
        if symbols is None:
            raise KnowledgeBaseError(f"{self.policy.reference}: no completion of these facts has a model")
        return symbols

    def decision_from_atoms(self, facts: PatientFacts, cautious: Atoms, brave: Atoms | None) -> Decision:
        """Assemble the decision from cautious consequences and, when no status is certain,
        brave ones (each grouped by predicate name). Every front end goes through here."""
        explanation = self.explainer.explanation(cautious)
        advice = tuple(
            sorted(
                (Advice(str(a.arguments[0]), str(a.arguments[1])) for a in cautious.get("advice", ())),
                key=lambda advice: clause_order(advice.clause),
            )
        )
        unknown = self.vocabulary.unknown(facts)
        common = dict(
            id=facts.record_id,
            policy=self.policy.reference,
            policy_version=self.policy.version,
            explanation=explanation,
            advice=advice,
            unknown=unknown,
        )
        if brave is None:
            status = str(cautious["status"][0].arguments[0])
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


InputKey = tuple[str, ...] | tuple[str, str, "str | int"]


def _input_keys(facts: PatientFacts) -> set[InputKey]:
    """The patient's facts as keys of input externals: ("known", K) and ("given", K, V)."""
    keys: set[InputKey] = set()
    for key, value in facts.given.items():
        keys.add(("known", key))
        for member in value if isinstance(value, frozenset) else (value,):
            if isinstance(member, bool):
                member = "true" if member else "false"
            keys.add(("given", key, member))
    return keys


def _symbol_key(atom: clingo.Symbol) -> InputKey:
    arguments = [a.number if a.type == clingo.SymbolType.Number else a.name for a in atom.arguments]
    return (atom.name, *arguments)  # type: ignore[return-value]


class _InputLiterals:
    """A program's input externals, left free and fixed per solve by assumptions."""

    def __init__(self, program: GroundProgram) -> None:
        self.program = program
        atoms = program.externals("given", 2) + program.externals("known", 1)
        self.literal = {_symbol_key(atom): program.literal(atom) for atom in atoms}
        self._all = [literal for literal in self.literal.values() if literal is not None]
        program.free_externals(self._all)

    def assumptions(self, given: set[InputKey]) -> list[int]:
        """Every input fixed: true when the patient states it, false otherwise."""
        true = {self.literal[key] for key in given}
        return [literal if literal in true else -literal for literal in self._all]


def _clauses(atoms: Atoms, status: str) -> tuple[str, ...]:
    clauses = {str(a.arguments[1]) for a in atoms.get("decided_by", ()) if str(a.arguments[0]) == status}
    return tuple(sorted(clauses, key=clause_order))


@lru_cache(maxsize=None)
def _engine(folder_name: str, kb_root: Path | None) -> PolicyEngine:
    return PolicyEngine(folder_name, KnowledgeBase(kb_root) if kb_root else None)


def engine_for(policy_id: str, kb_root: Path | None = None) -> PolicyEngine:
    """The shared engine of a policy (grounded once per process); ids are case-insensitive."""
    kb = KnowledgeBase(kb_root) if kb_root else KnowledgeBase.installed()
    return _engine(kb.policy_folder(policy_id).name, kb_root)


def decide(policy_id: str, facts: Mapping[str, object], kb_root: Path | None = None) -> Decision:
    """Decide one patient's facts under ``policy_id``: the library's main entry point."""
    return engine_for(policy_id, kb_root).decide(facts)

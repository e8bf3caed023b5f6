"""The decision engine: one per policy, shared by the CLI, the audit, the service and the tests.

A query is at most two solves of the policy's program, grounded once:

1. cautious consequences under the patient's facts: what holds in *every* completion of
   the unknown facts. If a status is among them it stands, with its proof as explanation.
2. otherwise brave consequences: every status some completion reaches (``possible``), and
   for each unknown fact the statuses each of its values reaches; a fact whose values reach
   different statuses is ``missing``. The brave solve also runs for a certain status that
   no single clause decides in every completion: its clauses are then all that decide it.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from functools import cache
from pathlib import Path

import clingo

from .atoms import Atoms, Term, atoms_by_name
from .decision import (
    Advice,
    Assumption,
    Decision,
    Explanation,
    MissingFact,
    Possibility,
    Status,
    Validity,
    clause_order,
)
from .errors import InputError, KnowledgeBaseError
from .explain import Explainer
from .inputs import InputLiterals, atoms_with_actual_values, input_keys
from .knowledge_base import KnowledgeBase, knowledge_base
from .model import PolicyModel
from .provenance import Provenance, files_sha256
from .solver import GroundProgram
from .versions import PolicyVersion, choose_version, decision_date, version_in_force
from .vocabulary import InputKey, PatientFacts, Value, Vocabulary

UNDETERMINED: Status = "undetermined"
ADMIT_CONTRADICTIONS = clingo.Function("admit_contradictions")
"""The external that lets contradictory completions count (kb/core/decision.lp)."""
PARTS_CACHE_SIZE = 4096
# What each grounding shows (the engine's contract with kb/core/decision.lp): the cautious
# solve reads the trace, the brave one only what `possible` and `missing` need. Fewer shown
# atoms mean fewer models to enumerate and fewer symbols to read.
TRACE_ATOMS = frozenset(
    {"status/1", "consistent/0", "decided_by/2", "deciding/1", "fired/3", "why_not/3", "why_not_overridden/2", "advice/2", "advice/3",
     "contradiction/2"}
)
OUTCOME_ATOMS = frozenset({"status/1", "decided_by/2", "outcome/4"})
BRAVE_FIRST_ATOMS = OUTCOME_ATOMS | {"conflict/0", "no_status/0", "contradiction/2"}
"""A brave solve first (``decide_many(brave_first=True)``): what ``OUTCOME_ATOMS`` shows,
whether some completion concludes two statuses or none, which the cautious solve tells
otherwise, and the contradictions that name a refusal."""
INCONSISTENT = "for some completion of these facts the knowledge base concludes two statuses or none; run `policykb check`"
REPRESENTATIVE_INTEGERS = ("-c", "integer_inputs=representatives")
"""Grounding arguments: integer inputs only at their representatives (kb/core/inputs.lp)."""
# A decision without its explanation (audit rows): the same program, showing no trace atoms.
DECISION_ATOMS = frozenset({"status/1", "consistent/0", "decided_by/2", "advice/2", "advice/3", "contradiction/2"})
# Weighing a closed-world default (``_flips``) reads only the status: the smallest grounding.
WEIGH_ATOMS = frozenset({"status/1", "consistent/0"})
WEIGHED_ON_TRACE = 16
"""Inputs whose closed-world defaults are weighed on the trace grounding before the weighing
one is ground for it: grounding costs about what a dozen weighings on the trace do, and a
CLI query weighs one input."""


class PolicyEngine:
    """Decides patients under one policy. Thread-safe; build once, query many times."""

    def __init__(self, policy_id: str, kb: KnowledgeBase | None = None, version: PolicyVersion | None = None) -> None:
        self.kb = kb or knowledge_base()
        folder = self.kb.policy_folder(policy_id)
        self.version = version if version is not None else version_in_force(self.kb, policy_id, date.today())
        """The version this engine decides under (versions.py): its own files follow the shared ones."""
        self.files = self.kb.program_files(policy_id) + self.version.files
        # Integers only at their representatives here too (inputs.lp): the trace names each
        # given number's interval start, which `_consequences` turns back into its value.
        self.program = GroundProgram(self.files, REPRESENTATIVE_INTEGERS, shown=TRACE_ATOMS)
        self.model = PolicyModel.read(folder.name, self.program)
        """The policy as the KB says it, read once: what every front end reads."""
        self.policy = self.model.info
        self.vocabulary = self.model.vocabulary
        self.wording = self.model.wording
        self.contradictions = self.model.contradictions
        self.explainer = Explainer(self.policy.rules, self.vocabulary, self.wording)
        self.provenance = Provenance(
            self.policy.reference,
            self.policy.version,
            self.version.to_dict()["effective_from"],
            self.version.to_dict()["effective_to"],
            self.version.status,
            files_sha256(self.files, self.kb.root),
        )
        """Which KB content decides this engine's answers: hashed once, carried by every answer."""
        self.interval_starts = self.model.interval_starts
        """Each number fact's interval starts between thresholds (the audit keys by them too)."""
        self._trace = InputLiterals(self.program, self.interval_starts)
        # Further groundings of the same program, each showing only what its solve needs
        # (fewer shown atoms: fewer models to enumerate, fewer symbols to read), built when
        # first needed: the brave one for `possible` and `missing`, and one without the trace.
        self._groundings: dict[frozenset[str], InputLiterals] = {TRACE_ATOMS: self._trace}
        self._parts: dict[frozenset[str], tuple[Explanation, tuple[Advice, ...]]] = {}
        self._parts_lock = threading.Lock()
        self._advice_sets: dict[frozenset[str], tuple[Advice, ...]] = {}
        self._default_sentences: dict[str, str] = {}
        self._admit: dict[GroundProgram, int | None] = {}
        self._weighed: dict[tuple[frozenset[InputKey], tuple[str, ...]], dict[str, bool]] = {}
        self._lock = threading.Lock()

    def _grounding(self, shown: frozenset[str]) -> InputLiterals:
        if shown not in self._groundings:
            # Only solved, never quoting a value: without the rules nothing it shows depends
            # on (the brave solve's outcomes in the trace-free one, the why-nots in both), and
            # with each given integer as the first value of its interval (inputs.lp).
            program = GroundProgram(self.files, REPRESENTATIVE_INTEGERS, shown=shown, prune=True)
            self._groundings[shown] = InputLiterals(program, self.interval_starts)
        return self._groundings[shown]

    def _weighing(self) -> InputLiterals:
        """The grounding the closed-world weighing solves on (``_flips``: only the status is
        read, alike in both): the status-only one once it is ground or has paid for itself,
        else the trace grounding, already there."""
        if WEIGH_ATOMS in self._groundings or len(self._weighed) >= WEIGHED_ON_TRACE:
            return self._grounding(WEIGH_ATOMS)
        return self._trace

    def prepare(self, explain: bool = True) -> None:
        """Ground now what ``decide_facts(..., explain)`` may use (otherwise grounded on first
        use): a process that forks workers does it once for all of them."""
        with self._lock:
            self._grounding(OUTCOME_ATOMS)
            if not explain:
                self._grounding(DECISION_ATOMS)

    def decide(self, facts: Mapping[str, object]) -> Decision:
        """Validate ``facts`` (a JSON-like mapping) and decide them; raises InputError."""
        return self.decide_facts(self.vocabulary.validate(facts))

    def decide_facts(self, facts: PatientFacts, explain: bool = True) -> Decision:
        """Decide validated facts; ``explain=False`` leaves the explanation empty (and is faster)."""
        decision = self.decide_many([facts], explain)[0]
        if isinstance(decision, (KnowledgeBaseError, InputError)):
            raise decision
        return decision

    def decide_many(
        self,
        many: Sequence[PatientFacts],
        explain: bool = True,
        weigh_assumptions: bool | None = None,
        brave_first: bool = False,
    ) -> list[Decision | KnowledgeBaseError | InputError]:
        """``decide_facts`` for each of ``many``, in order, with a knowledge-base fault in place
        of the decision it prevents, and an InputError in place of facts that contradict each
        other (the KB's ``contradiction/2``, naming every field involved). ``weigh_assumptions``
        (by default: when explaining) decides a certain status again with each closed-world
        default recorded otherwise, to say which would change it; a caller that does not show
        the assumptions (the audit) skips those solves. The cautious solves run one after
        another, then the brave ones: each solver's data stays in the processor's caches (an
        audit's batches).

        ``brave_first`` (without ``explain``): the brave solve comes first, and an input some
        completion of which reaches two statuses is undetermined by it alone, with no cautious
        solve; its decision then holds no advice (an audit row prints none). Status, clauses,
        missing facts and errors are those of the cautious solve first. For inputs most of
        which are undetermined (what an audit's settled patterns leave to the engine)."""
        givens = [input_keys(facts, self.vocabulary) for facts in many]
        weigh = explain if weigh_assumptions is None else weigh_assumptions
        with self._lock:
            decision_inputs = self._trace if explain else self._grounding(DECISION_ATOMS)
            first = [self._brave_first(given) if brave_first and not explain else None for given in givens]
            # Undetermined by the brave solve: no status is certain (the empty cautious atoms).
            cautious = [
                self._consequences(decision_inputs, given, "cautious") if atoms is None or _one_status(atoms)
                else atoms if not isinstance(atoms, dict) else {}
                for atoms, given in zip(first, givens)
            ]
            # A status certain in every completion, decided by a clause certain too, is the answer.
            # Otherwise brave consequences give the statuses some completion reaches, or, for a
            # certain status whose deciding clause depends on the unknown facts, every clause
            # that decides it in some completion.
            brave = [
                None if not isinstance(atoms, dict) or _settled(atoms)
                else known if isinstance(known, dict)
                else self._consequences(self._grounding(OUTCOME_ATOMS), given, "brave")
                for atoms, known, given in zip(cautious, first, givens)
            ]
            # Which closed-world defaults a certain status rests on: decided again with each
            # recorded otherwise (only when explaining: the audit's rows do not need it).
            flips = [
                self._flips(facts, given, atoms) if weigh and isinstance(atoms, dict) else {}
                for facts, given, atoms in zip(many, givens, cautious)
            ]
        return [
            self._decision(facts, atoms, brave_atoms, flip)
            for facts, atoms, brave_atoms, flip in zip(many, cautious, brave, flips)
        ]

    def consequences_over(self, facts: PatientFacts, free: Collection[str], mode: str, admit: bool = False) -> Atoms | None:
        """The cautious or brave consequences (status, ``consistent``, deciding clauses,
        contradictions) over every completion of every input that agrees with ``facts`` on all
        but the facts of ``free`` (an open fact left unknown, a closed one's inputs left to the
        solver: a superset of its values); contradictory completions count only when
        ``admit``. None when no completion counts (``settled.py`` reasons with these)."""
        kept = PatientFacts({key: value for key, value in facts.given.items() if key not in free}, facts.record_id)
        closed = [key for key in free if self.vocabulary.specs[key].world == "closed"]
        with self._lock:
            inputs = self._grounding(DECISION_ATOMS)
            symbols = inputs.program.consequences(self.solve_assumptions(inputs, input_keys(kept, self.vocabulary), admit, closed), mode)  # type: ignore[arg-type]
        return None if symbols is None else atoms_by_name(symbols)

    def refusal(self, facts: PatientFacts) -> InputError | KnowledgeBaseError | None:
        """How facts are refused (``decide_many`` gives this error in place of their decision),
        or None, decided on the fields the KB's contradictions read alone: they read no other
        (``policykb check`` proves it), so any facts that agree on those fields are refused
        alike. One solve, two when refused."""
        fields = self.contradictions.read_fields
        kept = PatientFacts({key: value for key, value in facts.given.items() if key in fields}, facts.record_id)
        given = input_keys(kept, self.vocabulary)
        with self._lock:
            inputs = self._grounding(DECISION_ATOMS)
            if inputs.program.consequences(self.solve_assumptions(inputs, given), "brave") is not None:
                return None
            return self._refused(inputs, given)

    def _brave_first(self, given: set[InputKey]) -> Atoms | KnowledgeBaseError | InputError:
        atoms = self._consequences(self._grounding(BRAVE_FIRST_ATOMS), given, "brave")
        if isinstance(atoms, dict) and ("conflict" in atoms or "no_status" in atoms):
            return KnowledgeBaseError(f"{self.policy.reference}: {INCONSISTENT}")
        return atoms

    def reachable(self, facts: PatientFacts) -> Atoms:
        """The trace atoms some completion of ``facts`` shows (brave consequences), for checks
        that ask whether anything can reach an atom at all."""
        with self._lock:
            given = input_keys(facts, self.vocabulary)
            symbols = self.program.consequences(self.solve_assumptions(self._trace, given, admit=True), "brave")
        return atoms_with_actual_values(symbols or (), self._trace.actual_values(given))

    def _flips(self, facts: PatientFacts, given: set[InputKey], cautious: Atoms) -> dict[str, bool]:
        """For each closed-world fact not given (``given``: the facts' input keys): would
        recording it (true, or any one member) change a certain status? Undetermined answers
        are not tried (their status may change anyway)."""
        statuses = cautious.get("status", ())
        defaults = closed_defaults(self.vocabulary, facts)
        if len(statuses) != 1 or not defaults:
            return {}
        inputs = self._weighing()
        # Inputs that this grounding takes alike (each number at its interval start) weigh
        # alike: each is weighed once.
        memo_key = (inputs.representatives(given), defaults)
        known = self._weighed.get(memo_key)
        if known is not None:
            return known
        status = str(statuses[0].arguments[0])
        if sum(len(self.recorded_values(key)) for key in defaults) > 1 and self._none_changes(inputs, given, defaults, status):
            changes = dict.fromkeys(defaults, False)
        else:
            changes = self._weigh_each(inputs, facts, defaults, status)
        self._weighed[memo_key] = changes
        if len(self._weighed) > PARTS_CACHE_SIZE:
            del self._weighed[next(iter(self._weighed))]  # the oldest
        return changes

    def _none_changes(self, inputs: InputLiterals, given: set[InputKey], defaults: Sequence[str], status: str) -> bool:
        """One solve for every default at once: with all their inputs left to the solver, is
        ``status`` still certain, and every completion consistent (one status each)? Each
        single recording is one choice of those inputs, so then none changes the status
        (recording one that the KB refuses as contradictory is no change either, as in
        ``_weigh_each``). Otherwise each default is weighed on its own."""
        symbols = inputs.program.consequences(self.solve_assumptions(inputs, given, open_facts=defaults), "cautious")
        shown = atoms_by_name(symbols or ())
        return "consistent" in shown and statuses(shown) == [status]

    def _weigh_each(self, inputs: InputLiterals, facts: PatientFacts, defaults: Sequence[str], status: str) -> dict[str, bool]:
        """Each default recorded otherwise, one value at a time, until one changes ``status``."""
        changes: dict[str, bool] = {}
        for key in defaults:
            changes[key] = False
            for value in self.recorded_values(key):
                given = PatientFacts({**facts.given, key: value}, facts.record_id, facts.at_least)
                symbols = inputs.program.consequences(self.solve_assumptions(inputs, input_keys(given, self.vocabulary)), "cautious")
                if symbols is None:
                    continue  # recording it so would be refused as an input error, not decided
                shown = atoms_by_name(symbols)
                if statuses(shown) != [status]:
                    changes[key] = True
                    break
        return changes

    def recorded_values(self, key: str) -> list[Value]:
        """The values a closed-world fact can be recorded with, other than its default."""
        spec = self.vocabulary.specs[key]
        if spec.type == "boolean":
            return [True]
        if spec.type == "list":
            return [frozenset({member}) for member in spec.values]
        return list(spec.values)

    def solve_assumptions(
        self, inputs: InputLiterals, given: set[InputKey], admit: bool = False, open_facts: Sequence[str] = ()
    ) -> list[int]:
        """The solve's assumptions: the inputs (but those of ``open_facts``, left to the solver),
        and whether contradictory completions count (``admit_contradictions``,
        kb/core/decision.lp: only to name a contradiction)."""
        program = inputs.program
        if program not in self._admit:
            literal = program.literal(ADMIT_CONTRADICTIONS)
            if literal is not None:
                program.free_externals([literal])
            self._admit[program] = literal
        literal = self._admit[program]
        assumptions = inputs.assumptions(given, open_facts)
        return assumptions if literal is None else [*assumptions, literal if admit else -literal]

    def _consequences(
        self, inputs: InputLiterals, given: set[InputKey], mode: str
    ) -> Atoms | KnowledgeBaseError | InputError:
        program = inputs.program
        symbols = program.consequences(self.solve_assumptions(inputs, given), mode)  # type: ignore[arg-type]
        if symbols is None:
            return self._refused(inputs, given)
        atoms = atoms_with_actual_values(symbols, inputs.actual_values(given)) if inputs is self._trace else atoms_by_name(symbols)
        if mode == "cautious" and "consistent" not in atoms:
            return KnowledgeBaseError(f"{self.policy.reference}: {INCONSISTENT}")
        return atoms

    def _refused(self, inputs: InputLiterals, given: set[InputKey]) -> InputError | KnowledgeBaseError:
        """Facts of which no completion is a patient: they contradict each other (an input
        error naming every field), or the knowledge base has no model for them."""
        admitted = inputs.program.consequences(self.solve_assumptions(inputs, given, admit=True), "cautious")
        refused = self.contradictions.refuse(atoms_by_name(admitted or ()))
        if isinstance(refused, InputError):
            return refused
        return KnowledgeBaseError(f"{self.policy.reference}: no completion of these facts has a model")

    def _decision(
        self,
        facts: PatientFacts,
        cautious: Atoms | KnowledgeBaseError | InputError,
        brave: Atoms | KnowledgeBaseError | InputError | None,
        flips: Mapping[str, bool] | None = None,
    ) -> Decision | KnowledgeBaseError | InputError:
        if isinstance(cautious, (KnowledgeBaseError, InputError)):
            return cautious
        if isinstance(brave, (KnowledgeBaseError, InputError)):
            return brave
        return self.decision_from_atoms(facts, cautious, brave, flips)

    def decision_from_atoms(
        self, facts: PatientFacts, cautious: Atoms, brave: Atoms | None, flips: Mapping[str, bool] | None = None
    ) -> Decision:
        """Assemble the decision from cautious consequences and, when the status or its clauses
        are not certain, brave ones (each grouped by predicate name). Every front end goes
        through here."""
        explanation, advice = self._certain_parts(cautious)
        unknown = self.vocabulary.unknown(facts)
        status: Status
        possible: tuple[Possibility, ...] = ()
        missing: tuple[MissingFact, ...] = ()
        clauses_vary = False
        if len(cautious.get("status", ())) == 1:
            status = str(cautious["status"][0].arguments[0])  # type: ignore[assignment]
            clauses = deciding_clauses(cautious, status)
            if not clauses and brave is not None:
                clauses, clauses_vary = deciding_clauses(brave, status), True
        else:
            assert brave is not None, "no certain status: the brave consequences are needed"
            status, clauses = UNDETERMINED, ()
            possible = tuple(Possibility(s, deciding_clauses(brave, s)) for s in sorted(statuses(brave)))  # type: ignore[arg-type]
            missing = self._missing(brave, unknown)
        return Decision(
            id=facts.record_id,
            policy=self.policy.reference,
            policy_version=self.policy.version,
            status=status,
            clauses=clauses,
            explanation=explanation,
            possible=possible,
            missing=missing,
            advice=advice,
            unknown=unknown,
            assumptions=self._assumptions(facts, flips or {}),
            validity=self.validity(),
            clauses_depend_on_unknowns=clauses_vary,
            provenance=self.provenance,
        )

    def _assumptions(self, facts: PatientFacts, flips: Mapping[str, bool]) -> tuple[Assumption, ...]:
        return tuple(Assumption(key, self._default_sentence(key), flips.get(key)) for key in closed_defaults(self.vocabulary, facts))

    def _default_sentence(self, key: str) -> str:
        # Worded once per fact: the wording builds the default's atom through clingo.
        sentence = self._default_sentences.get(key)
        if sentence is None:
            sentence = self._default_sentences[key] = self.wording.default_sentence(self.vocabulary.specs[key])
        return sentence

    def validity(self, today: date | None = None) -> Validity:
        """The policy's version and review date, and whether the review is overdue (7.1, 7.2)."""
        review = self.policy.metadata.get("review", "")
        return Validity(self.policy.version, review, review_overdue(review, today or date.today()))

    def _certain_parts(self, cautious: Atoms) -> tuple[Explanation, tuple[Advice, ...]]:
        """The explanation and advice of a set of cautious consequences. They depend on those
        atoms alone, and a program grounded once has finitely many such sets, so each set's
        parts are built once (a bounded cache keyed by the atoms' text)."""
        key = frozenset(atom.text for group in cautious.values() for atom in group)
        parts = self._parts.get(key)
        if parts is None:
            # A trace names the patient's numbers, so explained sets rarely repeat; their
            # advice, which names none, is kept apart by its own atoms.
            advice_atoms = cautious.get("advice", ())
            advice_key = frozenset(a.text for a in advice_atoms)
            advice = self._advice_sets.get(advice_key)
            if advice is None:
                advice = tuple(
                    sorted(
                        (self._advice(*a.arguments) for a in advice_atoms),
                        key=lambda advice: (advice.rank, clause_order(advice.clause), advice.text),
                    )
                )
            parts = (self.explainer.explanation(cautious), advice)
            with self._parts_lock:  # decisions are assembled outside the solver's lock
                self._parts[key] = parts
                if len(self._parts) > PARTS_CACHE_SIZE:
                    del self._parts[next(iter(self._parts))]  # the oldest
                if len(self._advice_sets) < PARTS_CACHE_SIZE:
                    self._advice_sets[advice_key] = advice
        return parts

    def _advice(self, *arguments: Term) -> Advice:
        """Advice in the KB's words, with its urgency: ordered most urgent first, then by clause.
        Advice written without an urgency (``advice(Clause, Text)``, which `policykb check`
        reports) is kept, as of undeclared urgency: shown first, never dropped."""
        clause, urgency, text = arguments if len(arguments) == 3 else (arguments[0], None, arguments[-1])
        level = self.wording.urgency(str(urgency))
        return Advice(str(clause), self.wording.fill(str(text)), level.name, level.rank, level.words)

    def _missing(self, brave: Atoms, unknown: tuple[str, ...]) -> tuple[MissingFact, ...]:
        # The terms themselves (read once per atom, hashable) group the outcomes; only the
        # deciding keys are turned into text.
        reached: dict[Term, dict[Term, dict[Term, set[Term]]]] = {}
        for atom in brave.get("outcome", ()):
            key, point, choice, status = atom.arguments
            reached.setdefault(key, {}).setdefault(point, {}).setdefault(choice, set()).add(status)
        deciding = [
            str(key)
            for key, points in reached.items()
            if any(len({frozenset(s) for s in choices.values()}) > 1 for choices in points.values())
        ]
        # Safety net: an undetermined answer always names what to ask, even where no single
        # fact changes the outcome on its own (then every unknown fact is asked for).
        keys = sorted(deciding) or list(unknown)
        return tuple(self._question(key) for key in keys)

    def _question(self, key: str) -> MissingFact:
        spec = self.vocabulary.specs[key]
        question = self.wording.fill(spec.question or f"What is known about this: {spec.meaning}?")
        return MissingFact(key, question, spec.allowed())


def _one_status(brave: Atoms | KnowledgeBaseError | InputError) -> bool:
    """Brave consequences that reach one status (or none: no model), not an error."""
    return isinstance(brave, dict) and len(brave.get("status", ())) <= 1


def _settled(cautious: Atoms) -> bool:
    """One status certain, and a clause certain to decide it."""
    return len(cautious.get("status", ())) == 1 and "decided_by" in cautious


def statuses(atoms: Atoms) -> list[str]:
    """The statuses ``atoms`` show, in the solver's order."""
    return [str(atom.arguments[0]) for atom in atoms.get("status", ())]


def deciding_clauses(atoms: Atoms, status: str) -> tuple[str, ...]:
    """The clauses ``atoms`` say decide ``status``, in clause order."""
    clauses = {str(a.arguments[1]) for a in atoms.get("decided_by", ()) if str(a.arguments[0]) == status}
    return tuple(sorted(clauses, key=clause_order))


def closed_defaults(vocabulary: Vocabulary, facts: PatientFacts) -> tuple[str, ...]:
    """The closed-world facts not given: each is taken as false (or none), a silent assumption
    the answer names."""
    return tuple(key for key, spec in vocabulary.specs.items() if spec.world == "closed" and key not in facts.given)


def review_overdue(review: str, today: date) -> bool:
    """Whether a review date printed as YYYY-MM (or YYYY-MM-DD) has passed; an unreadable date
    counts as overdue, so that the answer says to check the published version."""
    parts = review.split("-")
    try:
        year, month = int(parts[0]), int(parts[1])
        day = int(parts[2]) if len(parts) > 2 else None
    except (IndexError, ValueError):
        return True
    if day is not None:
        return today > date(year, month, day)
    return (today.year, today.month) > (year, month)


@cache
def _engine(folder_name: str, kb_root: Path | None, version: PolicyVersion) -> PolicyEngine:
    return PolicyEngine(folder_name, knowledge_base(kb_root), version)


def engine_for(
    policy_id: str, kb_root: Path | None = None, version: str | None = None, as_of: date | None = None
) -> PolicyEngine:
    """The shared engine of a policy version (grounded once per process); ids are
    case-insensitive. ``version`` names one by number; otherwise the version in force on
    ``as_of`` (default today) decides. Raises VersionError when no version is in force then."""
    kb = knowledge_base(kb_root)
    folder = kb.policy_folder(policy_id).name
    chosen = choose_version(kb, folder, version) if version is not None else version_in_force(kb, folder, as_of or date.today())
    return _engine(folder, kb_root, chosen)


def engine_in_force(policy_id: str, facts: object, kb_root: Path | None = None, as_of: date | None = None) -> PolicyEngine:
    """The engine of the version in force for ``facts``: their ``request_date``, else
    ``as_of``, else today (versions.decision_date)."""
    return engine_for(policy_id, kb_root, as_of=decision_date(facts, as_of))


def model_for(policy_id: str, kb_root: Path | None = None) -> PolicyModel:
    """The model of a policy, read once per process with its engine."""
    return engine_for(policy_id, kb_root).model


def decide(policy_id: str, facts: Mapping[str, object], kb_root: Path | None = None) -> Decision:
    """Decide one patient's facts under ``policy_id``: the library's main entry point."""
    return engine_for(policy_id, kb_root).decide(facts)

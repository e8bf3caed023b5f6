"""From the atoms of a solve to an explanation a clinician can check clause by clause.

Nothing here knows a clinical rule: the steps are the ``fired/3`` atoms the labels
transformer added to the knowledge base, their sentences the KB's ``rule/3`` metadata and
its glossary (wording.py). Each step keeps the machine form beside the sentences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from .atoms import Atom, Atoms, Term, text_of
from .decision import Explanation, RouteNotTaken, SetAside, Step, clause_order
from .metadata import RuleInfo
from .vocabulary import Vocabulary
from .wording import NO_DESCRIPTION, Wording

STEPS_KEPT = 1 << 14


class Explainer:
    """Builds explanations for one policy's program, in the machine form and in the KB's words."""

    def __init__(self, rules: Mapping[str, RuleInfo], vocabulary: Vocabulary, wording: Wording | None = None) -> None:
        self.rules = rules
        self.wording = wording or Wording({}, {}, (), vocabulary)
        self.describe = lru_cache(maxsize=1 << 14)(self.wording.describe)
        # Steps are immutable and few (the program is grounded once): build each one once,
        # kept by the fired atom's text (hashing a nested atom hashes every level of it).
        self._steps: dict[tuple[str, int, bool], Step] = {}
        self._routes: dict[frozenset[str], tuple[RouteNotTaken, ...]] = {}

    def explanation(self, atoms: Atoms) -> Explanation:
        """The trace of cautious consequences (grouped by predicate name): steps, why-not, and
        the conclusions that precedence set aside."""
        deciding = {text_of(atom.arguments[0]) for atom in atoms.get("deciding", ())}
        fired = atoms.get("fired", ())
        heads = [text_of(f.arguments[1]) for f in fired]
        depths = _depths([(head, [text_of(a) for a in f.arguments[2].arguments]) for head, f in zip(heads, fired)])  # type: ignore[union-attr]
        steps = [self._step(atom, depth, head in deciding) for atom, head, depth in zip(fired, heads, depths)]
        steps.sort(key=lambda step: (step.depth, clause_order(step.clause), step.rule, step.conclusion))
        set_aside = _set_aside(steps) if len(atoms.get("status", ())) == 1 else ()
        return Explanation(steps=tuple(steps), why_not=self._why_not(atoms), set_aside=set_aside)

    def rule(self, label: str) -> RuleInfo:
        found = self.rules.get(label)
        if found is None:
            return RuleInfo(label, "?", NO_DESCRIPTION)
        return RuleInfo(found.label, found.clause, self.wording.fill(found.text))

    def _step(self, fired: Atom, depth: int, in_decision: bool) -> Step:
        key = (fired.text, depth, in_decision)
        step = self._steps.get(key)
        if step is None:
            step = self._new_step(fired, depth, in_decision)
            if len(self._steps) < STEPS_KEPT:  # bounded: steps naming patients' values vary
                self._steps[key] = step
        return step

    def _new_step(self, fired: Atom, depth: int, in_decision: bool) -> Step:
        label, head, body = fired.arguments
        info = self.rule(str(label))
        used = body.arguments  # type: ignore[union-attr]
        stage = None
        if isinstance(head, Atom) and head.name == "conclusion" and len(head.arguments) == 2:
            stage = str(head.arguments[0])
        return Step(
            rule=info.label,
            clause=info.clause,
            text=info.text,
            conclusion=str(head),
            uses=tuple(str(atom) for atom in used),
            depth=depth,
            in_decision=in_decision,
            says=self.describe(head),
            because=tuple(self.describe(atom) for atom in used),
            stage=stage,
        )

    def _why_not(self, atoms: Atoms) -> tuple[RouteNotTaken, ...]:
        # The routes not taken name no patient value (their conditions are the rules' own
        # text): kept by their atoms, they repeat where the steps do not.
        key = frozenset(a.text for name in ("why_not", "why_not_overridden") for a in atoms.get(name, ()))
        routes = self._routes.get(key)
        if routes is None:
            routes = self._new_why_not(atoms)
            if len(self._routes) < STEPS_KEPT:
                self._routes[key] = routes
        return routes

    def _new_why_not(self, atoms: Atoms) -> tuple[RouteNotTaken, ...]:
        unmet: dict[str, list[tuple[int, Term]]] = {}
        for atom in atoms.get("why_not", ()):
            label, index, condition = atom.arguments
            unmet.setdefault(str(label), []).append((int(index), condition))  # type: ignore[arg-type]
        overridden = {str(a.arguments[0]): str(a.arguments[1]) for a in atoms.get("why_not_overridden", ())}
        routes = []
        for label in sorted(set(unmet) | set(overridden), key=lambda l: (clause_order(self.rule(l).clause), l)):
            info = self.rule(label)
            conditions = [condition for _, condition in sorted(unmet.get(label, []), key=lambda pair: pair[0])]
            routes.append(
                RouteNotTaken(
                    label,
                    info.clause,
                    info.text,
                    tuple(str(condition) for condition in conditions),
                    overridden.get(label),
                    tuple(self.wording.not_holding(condition) for condition in conditions),
                )
            )
        return tuple(routes)


def _set_aside(steps: Sequence[Step]) -> tuple[SetAside, ...]:
    """Conclusions outside the proof of a certain status: a stage of higher precedence defeated
    them. The clauses that did so label the rules overriding that stage; where no labelled rule
    did (the policy's scope, decision.lp), the clauses of the deciding conclusions."""
    by_stage: dict[str, set[str]] = {}
    for step in steps:
        if step.conclusion.startswith("overridden("):
            by_stage.setdefault(step.conclusion[len("overridden("):-1], set()).add(step.clause)
    deciding = {step.clause for step in steps if step.in_decision and step.stage is not None}
    found = []
    for step in steps:
        if step.stage is None or step.in_decision:
            continue
        clauses = by_stage.get(step.stage) or deciding
        found.append(SetAside(step.rule, step.clause, step.text, tuple(sorted(clauses, key=clause_order))))
    unique = dict.fromkeys(found)
    return tuple(sorted(unique, key=lambda item: (clause_order(item.clause), item.rule)))


def _depths(instances: Sequence[tuple[str, Sequence[str]]]) -> list[int]:
    """Derivation depth of each instance: 1 + the deepest fired instance whose head it uses."""
    producers: dict[str, list[int]] = {}
    for index, (head, _) in enumerate(instances):
        producers.setdefault(head, []).append(index)
    memo: dict[int, int] = {}
    visiting: set[int] = set()  # the instances on the path to the current one

    def depth(index: int) -> int:
        found = memo.get(index)
        if found is not None:
            return found
        visiting.add(index)
        deepest = 0
        for atom in instances[index][1]:
            for other in producers.get(atom, ()):
                if other not in visiting:
                    deepest = max(deepest, depth(other))
        visiting.discard(index)
        memo[index] = 1 + deepest
        return memo[index]

    return [depth(index) for index in range(len(instances))]

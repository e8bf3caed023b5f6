"""From the atoms of a solve to an explanation a clinician can check clause by clause.

Nothing here knows a clinical rule: the steps are the ``fired/3`` atoms the labels
transformer added to the knowledge base, their sentences the KB's ``rule/3`` metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from .atoms import Atom, Atoms, Term
from .decision import Explanation, RouteNotTaken, Step, clause_order
from .metadata import RuleInfo
from .vocabulary import Vocabulary


class Explainer:
    """Builds explanations for one policy's program."""

    def __init__(self, rules: Mapping[str, RuleInfo], vocabulary: Vocabulary) -> None:
        self.rules = rules
        self.vocabulary = vocabulary
        self.describe = lru_cache(maxsize=1 << 14)(self._describe)
        # Steps are immutable and few (the program is grounded once): build each one once.
        self._step = lru_cache(maxsize=1 << 14)(self._new_step)

    def _describe(self, term: Term) -> str:
        """A ground atom in words: ``holds(setting,mcas)`` reads ``setting = mcas``."""
        if not isinstance(term, Atom):
            return str(term)
        name, arguments = term.name, term.arguments
        if name == "conclusion" and len(arguments) == 2:
            return f"{arguments[1]} (stage {arguments[0]})"
        if name == "neg" and len(arguments) == 1:
            return "not " + self.describe(arguments[0])
        if name == "holds" and len(arguments) == 2:
            key, value = (str(argument) for argument in arguments)
            spec = self.vocabulary.specs.get(key)
            shown = "any value" if value == "any" else spec.fact_type.show(spec, value) if spec else value
            return f"{key} includes {shown}" if spec and spec.fact_type.multiple else f"{key} = {shown}"
        return term.text

    def explanation(self, atoms: Atoms) -> Explanation:
        """The trace of cautious consequences (grouped by predicate name): steps, why-not."""
        deciding = {atom.arguments[0] for atom in atoms.get("deciding", ())}
        fired = atoms.get("fired", ())
        depths = _depths([(f.arguments[1], f.arguments[2].arguments) for f in fired])  # type: ignore[union-attr]
        steps = [self._step(atom, depth, atom.arguments[1] in deciding) for atom, depth in zip(fired, depths)]
        steps.sort(key=lambda step: (step.depth, clause_order(step.clause), step.rule, step.conclusion))
        return Explanation(steps=tuple(steps), why_not=self._why_not(atoms))

    def rule(self, label: str) -> RuleInfo:
        return self.rules.get(label) or RuleInfo(label, "?", label)

    def _new_step(self, fired: Atom, depth: int, in_decision: bool) -> Step:
        label, head, body = fired.arguments
        info = self.rule(str(label))
        return Step(
            rule=info.label,
            clause=info.clause,
            text=info.text,
            conclusion=self.describe(head),
            uses=tuple(self.describe(atom) for atom in body.arguments),  # type: ignore[union-attr]
            depth=depth,
            in_decision=in_decision,
        )

    def _why_not(self, atoms: Atoms) -> tuple[RouteNotTaken, ...]:
        unmet: dict[str, list[tuple[int, str]]] = {}
        for atom in atoms.get("why_not", ()):
            label, index, condition = atom.arguments
            unmet.setdefault(str(label), []).append((int(index), self.describe(condition)))  # type: ignore[arg-type]
        overridden = {str(a.arguments[0]): str(a.arguments[1]) for a in atoms.get("why_not_overridden", ())}
        routes = []
        for label in sorted(set(unmet) | set(overridden), key=lambda l: (clause_order(self.rule(l).clause), l)):
            info = self.rule(label)
            conditions = tuple(text for _, text in sorted(unmet.get(label, [])))
            routes.append(RouteNotTaken(label, info.clause, info.text, conditions, overridden.get(label)))
        return tuple(routes)


def _depths(instances: Sequence[tuple[Term, Sequence[Term]]]) -> list[int]:
    """Derivation depth of each instance: 1 + the deepest fired instance whose head it uses."""
    producers: dict[Term, list[int]] = {}
    for index, (head, _) in enumerate(instances):
        producers.setdefault(head, []).append(index)
    memo: dict[int, int] = {}

    def depth(index: int, visiting: frozenset[int]) -> int:
        if index in memo:
            return memo[index]
        below = [
            depth(other, visiting | {index})
            for atom in instances[index][1]
            for other in producers.get(atom, ())
            if other not in visiting and other != index
        ]
        memo[index] = 1 + max(below, default=0)
        return memo[index]

    return [depth(index, frozenset()) for index in range(len(instances))]

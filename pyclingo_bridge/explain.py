"""From the atoms of a solve to an explanation a clinician can check clause by clause.

Nothing here knows a clinical rule: the steps are the ``fired/3`` atoms the labels
transformer added to the knowledge base, their sentences the KB's ``rule/3`` metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import clingo

from .decision import Explanation, RouteNotTaken, Step, clause_order
from .metadata import RuleInfo
from .vocabulary import Vocabulary


def describe(symbol: clingo.Symbol, vocabulary: Vocabulary) -> str:
    """A ground atom in words: ``holds(setting,mcas)`` reads ``setting = mcas``."""
    if symbol.type == clingo.SymbolType.Function:
        if symbol.name == "conclusion" and len(symbol.arguments) == 2:
            stage, status = symbol.arguments
            return f"{status} (stage {stage})"
        if symbol.name == "neg" and len(symbol.arguments) == 1:
            return "not " + describe(symbol.arguments[0], vocabulary)
        if symbol.name == "holds" and len(symbol.arguments) == 2:
            key, value = symbol.arguments
            spec = vocabulary.specs.get(key.name) if key.type == clingo.SymbolType.Function else None
            shown = "any value" if str(value) == "any" else str(value)
            if spec is not None and spec.type == "list":
                return f"{key} includes {shown}"
            return f"{key} = {shown}"
    return str(symbol)


def build_explanation(
    symbols: Mapping[str, Sequence[clingo.Symbol]], rules: Mapping[str, RuleInfo], vocabulary: Vocabulary
) -> Explanation:
    """The trace of ``symbols`` (cautious consequences by predicate name): steps, why-not."""
    proof = {atom.arguments[0] for atom in symbols.get("proof", ())}
    fired = [tuple(atom.arguments) for atom in symbols.get("fired", ())]
    depths = _depths([(head, body.arguments) for _, head, body in fired])
    steps = []
    for (label, head, body), depth in zip(fired, depths):
        info = rules.get(str(label), RuleInfo(str(label), "?", str(label)))
        steps.append(
            Step(
                rule=info.label,
                clause=info.clause,
                text=info.text,
                conclusion=describe(head, vocabulary),
                uses=tuple(describe(atom, vocabulary) for atom in body.arguments),
                depth=depth,
                in_decision=head in proof,
            )
        )
    steps.sort(key=lambda step: (step.depth, clause_order(step.clause), step.rule, step.conclusion))
    return Explanation(steps=tuple(steps), why_not=_why_not(symbols, rules, vocabulary))


def _why_not(
    symbols: Mapping[str, Sequence[clingo.Symbol]], rules: Mapping[str, RuleInfo], vocabulary: Vocabulary
) -> tuple[RouteNotTaken, ...]:
    unmet: dict[str, list[tuple[int, str]]] = {}
    for atom in symbols.get("why_not", ()):
        label, index, condition = atom.arguments
        unmet.setdefault(str(label), []).append((index.number, describe(condition, vocabulary)))
    overridden = {str(a.arguments[0]): str(a.arguments[1]) for a in symbols.get("why_not_overridden", ())}
    routes = []
    for label in sorted(set(unmet) | set(overridden), key=lambda l: clause_order(rules[l].clause) if l in rules else (0,)):
        info = rules.get(label, RuleInfo(label, "?", label))
        conditions = tuple(text for _, text in sorted(unmet.get(label, [])))
        routes.append(RouteNotTaken(label, info.clause, info.text, conditions, overridden.get(label)))
    return tuple(routes)


def _depths(instances: Sequence[tuple[clingo.Symbol, Sequence[clingo.Symbol]]]) -> list[int]:
    """Derivation depth of each instance: 1 + the deepest fired instance whose head it uses."""
    producers: dict[clingo.Symbol, list[int]] = {}
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


"""Rule and clause coverage of author cases, computed exactly from the rules that fired.

A labelled rule is covered when it fired in the decision of at least one case: a step of the
decision's explanation, in its proof or not (a conclusion that was overridden still fired).
For an undetermined decision those steps are the rules that fire in *every* completion of the
unknown facts, so a rule is never counted for a patient it might not apply to. A normative
clause is covered when a rule that encodes it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .cases import CaseResult
from .decision import clause_order
from .metadata import PolicyInfo


@dataclass(frozen=True)
class Coverage:
    """Which labelled rules and normative clauses of one policy the cases exercised."""

    policy: str
    rules: tuple[str, ...]
    rules_fired: frozenset[str]
    clauses: tuple[str, ...]
    clauses_covered: frozenset[str]

    @property
    def rule_percent(self) -> float:
        return _percent(len(self.rules_fired & set(self.rules)), len(self.rules))

    @property
    def clause_percent(self) -> float:
        return _percent(len(self.clauses_covered & set(self.clauses)), len(self.clauses))

    @property
    def rules_not_fired(self) -> tuple[str, ...]:
        return tuple(rule for rule in self.rules if rule not in self.rules_fired)

    @property
    def clauses_not_covered(self) -> tuple[str, ...]:
        return tuple(clause for clause in self.clauses if clause not in self.clauses_covered)

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "rules": {"total": len(self.rules), "fired": len(self.rules_fired & set(self.rules)),
                      "percent": self.rule_percent, "not_fired": list(self.rules_not_fired)},
            "clauses": {"total": len(self.clauses), "covered": len(self.clauses_covered & set(self.clauses)),
                        "percent": self.clause_percent, "not_covered": list(self.clauses_not_covered)},
        }


def fired_rules(result: CaseResult) -> frozenset[str]:
    """The labels of the rules that fired in a case's decision."""
    if result.decision is None:
        return frozenset()
    return frozenset(step.rule for step in result.decision.explanation.steps)


def coverage(policy: PolicyInfo, results: Iterable[CaseResult]) -> Coverage:
    """The coverage of ``policy`` by ``results`` (cases of that policy)."""
    fired = frozenset().union(*(fired_rules(result) for result in results))
    covered = frozenset(policy.rules[label].clause for label in fired if label in policy.rules)
    # A rule declared not applicable to the policy has no case to cover, nor has a clause
    # all of whose rules are such.
    applicable = [label for label in policy.rules if label not in policy.not_applicable]
    dormant = {rule.clause for rule in policy.rules.values()} - {policy.rules[label].clause for label in applicable}
    normative = tuple(clause.number for clause in policy.clauses if clause.normative and clause.number not in dormant)
    return Coverage(
        policy=policy.reference,
        rules=tuple(sorted(applicable, key=lambda label: (clause_order(policy.rules[label].clause), label))),
        rules_fired=fired,
        clauses=tuple(sorted(normative, key=clause_order)),
        clauses_covered=covered,
    )


def _percent(part: int, whole: int) -> float:
    return 100.0 if whole == 0 else 100.0 * part / whole

"""The traceability table of a policy: each clause, the rules that encode it, the cases that
exercise it. What `policykb show` prints, for an author to read clause by clause."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .cases import Case, CaseResult, policy_case_files, run_case
from .check.findings import RuleRef
from .check.source import index_sources
from .coverage import fired_rules
from .engine import engine_for
from .knowledge_base import KnowledgeBase
from .metadata import Clause, PolicyInfo


@dataclass(frozen=True)
class ClauseTrace:
    clause: Clause
    rules: tuple[RuleRef, ...]
    cases: tuple[Case, ...]
    """Cases whose decision the clause decides (or, undetermined, may decide)."""
    also_fired: tuple[Case, ...] = ()
    """Other cases in which a rule encoding the clause fired without deciding."""

    def to_dict(self, place: Any) -> dict[str, Any]:
        return {
            "clause": self.clause.number,
            "normative": self.clause.normative,
            "text": self.clause.text,
            "rules": [rule.to_dict() for rule in self.rules],
            "cases": [{"name": case.name, "place": place(case)} for case in self.cases],
            "also_fired": [{"name": case.name, "place": place(case)} for case in self.also_fired],
        }


def trace_policy(kb: KnowledgeBase, policy_id: str) -> tuple[PolicyInfo, list[ClauseTrace]]:
    """The policy's metadata and, for each of its clauses, its rules and cases."""
    kb.policy_folder(policy_id)  # an unknown id is named as the user spelt it
    engine = engine_for(policy_id, kb.root)
    policy = engine.policy
    index = index_sources(kb.program_files(policy_id), kb.root)
    results: list[CaseResult] = [
        run_case(engine, case) for case_file in policy_case_files(kb, policy_id) for case in case_file.cases
    ]
    traces = []
    for clause in policy.clauses:
        labels = [label for label, info in policy.rules.items() if info.clause == clause.number]
        rules = tuple(
            RuleRef(label, clause.number, engine.wording.fill(policy.rules[label].text), rule.location)
            for label in labels
            for rule in index.labels().get(label, [])
        )
        deciding = tuple(result.case for result in results if clause.number in _deciding_clauses(result))
        fired = tuple(
            result.case
            for result in results
            if fired_rules(result) & set(labels) and result.case not in deciding
        )
        traces.append(ClauseTrace(clause, tuple(sorted(rules, key=_place)), deciding, fired))
    return policy, traces


def _deciding_clauses(result: CaseResult) -> set[str]:
    decision = result.decision
    if decision is None:
        return set()
    return set(decision.clauses).union(*(possible.clauses for possible in decision.possible))


def _place(rule: RuleRef) -> tuple[str, int]:
    return (str(rule.location.file), rule.location.line) if rule.location else ("", 0)

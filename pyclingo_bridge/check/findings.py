"""What ``policykb check`` reports: findings, each located in a file and tied to a clause."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Kind = Literal[
    "syntax",
    "grounding",
    "undefined_predicate",
    "arity_mismatch",
    "undeclared_fact",
    "unknown_value",
    "undeclared_threshold",
    "not_a_parameter",
    "parameter_without_fact",
    "threshold_by_hand",
    "input_read_directly",
    "fact_not_read",
    "unlabelled_clause",
    "unused_rule_metadata",
    "unknown_clause",
    "untraced_clause",
    "invariant_without_rule",
    "undeclared_invariant",
    "conflict",
    "gap",
    "unsatisfiable",
    "ruled_out",
    "dead_rule",
    "not_applicable_rule_fires",
    "invariant_violated",
    "undescribed_atom",
    "unknown_placeholder",
    "advice_without_urgency",
    "contradiction_fields",
    "dead_contradiction",
    "version_dates",
]


@dataclass(frozen=True)
class Location:
    """A place in a knowledge-base file; ``shown`` is the path as printed (relative to the KB's parent)."""

    file: Path
    line: int
    column: int = 1
    shown: str = ""

    def __str__(self) -> str:
        return f"{self.shown or self.file}:{self.line}:{self.column}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": str(self.file), "path": self.shown or str(self.file), "line": self.line, "column": self.column}


@dataclass(frozen=True)
class RuleRef:
    """A labelled rule involved in a finding: its label, clause, sentence and place."""

    label: str
    clause: str
    text: str
    location: Location | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "clause": self.clause,
            "text": self.text,
            "location": self.location.to_dict() if self.location else None,
        }


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a policy's knowledge base."""

    kind: Kind
    message: str
    location: Location | None = None
    clauses: tuple[str, ...] = ()
    counterexample: dict[str, Any] | None = None
    """A patient (facts as `policykb query` reads them) that exhibits the fault."""
    rules: tuple[RuleRef, ...] = ()
    """Labelled rules that fired for the counterexample, or the rule the finding is about."""
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "location": self.location.to_dict() if self.location else None,
            "clauses": list(self.clauses),
            "counterexample": self.counterexample,
            "rules": [rule.to_dict() for rule in self.rules],
            "detail": self.detail,
        }


@dataclass(frozen=True)
class CheckReport:
    """The result of checking one policy: its findings and what was proved."""

    policy: str
    findings: tuple[Finding, ...]
    rules_checked: int = 0
    invariants_checked: int = 0
    clauses_traced: int = 0
    inputs_verified: bool = False
    """Whether exhaustive verification ran (it does not when the KB fails to load)."""

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "ok": self.ok,
            "findings": [finding.to_dict() for finding in self.findings],
            "rules_checked": self.rules_checked,
            "invariants_checked": self.invariants_checked,
            "clauses_traced": self.clauses_traced,
            "inputs_verified": self.inputs_verified,
        }

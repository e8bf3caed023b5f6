"""Policy metadata, clauses and rule labels, read from the knowledge base's own facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .decision import clause_order
from .solver import GroundProgram

METADATA_KEYS = ("reference", "title", "version", "status", "category", "commissioner", "ratified", "review", "source")


@dataclass(frozen=True)
class Clause:
    number: str
    normative: bool
    text: str


@dataclass(frozen=True)
class RuleInfo:
    """A labelled rule: the clause it encodes and its sentence for clinicians."""

    label: str
    clause: str
    text: str


@dataclass(frozen=True)
class PolicyInfo:
    """What the knowledge base says about one policy."""

    id: str
    metadata: dict[str, str]
    clauses: tuple[Clause, ...]
    rules: dict[str, RuleInfo]
    not_applicable: frozenset[str] = frozenset()
    """Labelled rules the KB declares to have no case in this policy (``rule_not_applicable/2``)."""

    @classmethod
    def from_program(cls, policy_id: str, program: GroundProgram) -> PolicyInfo:
        metadata = {a.arguments[0].name: a.arguments[1].string for a in program.facts("metadata", 2)}
        clauses = sorted(
            (
                Clause(a.arguments[0].string, a.arguments[1].name == "normative", a.arguments[2].string)
                for a in program.facts("clause", 3)
            ),
            key=lambda clause: clause_order(clause.number),
        )
        rules = {}
        for atom in program.facts("rule", 3):
            label = str(atom.arguments[0])
            rules[label] = RuleInfo(label, atom.arguments[1].string, atom.arguments[2].string)
        not_applicable = frozenset(str(atom.arguments[0]) for atom in program.facts("rule_not_applicable", 2))
        return cls(policy_id, metadata, tuple(clauses), rules, not_applicable)

    @property
    def reference(self) -> str:
        return self.metadata.get("reference", self.id)

    @property
    def title(self) -> str:
        return self.metadata.get("title", "")

    @property
    def version(self) -> str:
        return self.metadata.get("version", "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **{key: self.metadata.get(key) for key in METADATA_KEYS},
            "clauses": [
                {"number": c.number, "normative": c.normative, "text": c.text} for c in self.clauses
            ],
        }

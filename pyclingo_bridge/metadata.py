"""Policy metadata, clauses and rule labels (read from the knowledge base by :mod:`.model`)."""

from __future__ import annotations

from typing import Any

from .records import record

METADATA_KEYS = ("reference", "title", "version", "status", "category", "commissioner", "ratified", "review", "source")


@record
class Clause:
    number: str
    normative: bool
    text: str


@record
class RuleInfo:
    """A labelled rule: the clause it encodes and its sentence for clinicians."""

    label: str
    clause: str
    text: str


@record
class PolicyInfo:
    """What the knowledge base says about one policy."""

    id: str
    metadata: dict[str, str]
    clauses: tuple[Clause, ...]
    rules: dict[str, RuleInfo]
    not_applicable: frozenset[str] = frozenset()
    """Labelled rules the KB declares to have no case in this policy (``rule_not_applicable/2``)."""

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

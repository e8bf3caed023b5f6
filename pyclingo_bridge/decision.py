"""The decision object every front end receives: status, clauses, explanation, what is missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from .provenance import Provenance
from .records import record

Status = Literal["commissioned", "not_commissioned", "outside_policy", "undetermined"]
STATUSES: tuple[Status, ...] = ("commissioned", "not_commissioned", "outside_policy", "undetermined")
STATUSES_DETERMINED: tuple[Status, ...] = STATUSES[:3]


@record
class Step:
    """One labelled rule instance that fired, with the clause it encodes and the facts it used."""

    rule: str
    clause: str
    text: str
    conclusion: str
    """The atom concluded, in the machine form (the KB's own syntax)."""
    uses: tuple[str, ...]
    """The atoms used, in the machine form (``neg(p)`` for ``not p``)."""
    depth: int
    in_decision: bool
    """Part of the proof of the status (not, say, a conclusion that was overridden)."""
    says: str = ""
    """The conclusion as a sentence (the KB's glossary)."""
    because: tuple[str, ...] = ()
    """The atoms used, as sentences, in the order of ``uses``."""
    stage: str | None = None
    """The decision stage, when the step concludes a status at a stage."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "clause": self.clause,
            "text": self.text,
            "conclusion": self.conclusion,
            "uses": list(self.uses),
            "says": self.says,
            "because": list(self.because),
            "depth": self.depth,
            "in_decision": self.in_decision,
        }


@record
class RouteNotTaken:
    """A route to ``commissioned`` that did not apply: its failing conditions, or what overrode it."""

    rule: str
    clause: str
    text: str
    unmet: tuple[str, ...]
    """The conditions that do not hold, in the machine form."""
    overridden_at: str | None = None
    unmet_text: tuple[str, ...] = ()
    """Each condition of ``unmet`` as a sentence saying what holds instead."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "clause": self.clause,
            "text": self.text,
            "unmet": list(self.unmet),
            "unmet_text": list(self.unmet_text),
            "overridden_at": self.overridden_at,
        }


@record
class SetAside:
    """A conclusion that a stage of higher precedence defeated: never part of the decision."""

    rule: str
    clause: str
    text: str
    by_clauses: tuple[str, ...]
    """The clauses whose precedence set it aside."""

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "clause": self.clause, "text": self.text, "by_clauses": list(self.by_clauses)}


@record
class Explanation:
    """The trace: rules that fired in derivation order, and for not_commissioned the why-not."""

    steps: tuple[Step, ...] = ()
    why_not: tuple[RouteNotTaken, ...] = ()
    set_aside: tuple[SetAside, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "fired": [step.to_dict() for step in self.steps],
            "why_not": [route.to_dict() for route in self.why_not],
            "set_aside": [item.to_dict() for item in self.set_aside],
        }


@record
class Possibility:
    """A status that some completion of the unknown facts reaches, with its clauses."""

    status: Status
    clauses: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "clauses": list(self.clauses)}


@record
class MissingFact:
    """An unknown fact whose value changes the outcome, asked as a question."""

    fact: str
    question: str
    allowed: str

    def to_dict(self) -> dict[str, Any]:
        return {"fact": self.fact, "question": self.question, "allowed": self.allowed}


@record
class Advice:
    """Advice for the clinician: its clause, urgency (emergency, urgent, routine) and text."""

    clause: str
    text: str
    urgency: str = "routine"
    rank: int = 3
    """The urgency's rank in the KB (1 most urgent); advice is ordered by it, then by clause."""
    urgency_words: str = "Routine"

    def to_dict(self) -> dict[str, Any]:
        return {"clause": self.clause, "urgency": self.urgency, "text": self.text}


@record
class Assumption:
    """A closed-world fact not given, taken as its default (false, or none)."""

    fact: str
    text: str
    """The default as a sentence ("no individual funding request has been approved")."""
    would_change: bool | None = None
    """Recording the fact otherwise would change the status (None: not worked out)."""

    def to_dict(self) -> dict[str, Any]:
        return {"fact": self.fact, "text": self.text, "would_change": self.would_change}


@record
class Validity:
    """Which version of the policy decided, and whether its review is overdue (7.1, 7.2)."""

    version: str
    review: str
    """The review date as the policy prints it (YYYY-MM)."""
    overdue: bool

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "review": self.review, "review_overdue": self.overdue}


@dataclass(frozen=True)
class Decision:
    """The answer for one patient under one policy."""

    id: str | None
    policy: str
    policy_version: str
    status: Status
    clauses: tuple[str, ...]
    explanation: Explanation = field(default_factory=Explanation)
    possible: tuple[Possibility, ...] = ()
    missing: tuple[MissingFact, ...] = ()
    advice: tuple[Advice, ...] = ()
    unknown: tuple[str, ...] = ()
    """Every open-world fact that was not given (whether or not it mattered)."""
    assumptions: tuple[Assumption, ...] = ()
    """The closed-world facts not given, each taken as its default."""
    validity: Validity | None = None
    clauses_depend_on_unknowns: bool = False
    """The status is certain but which clause decides it depends on facts not given: the
    clauses are every one that decides it for some completion (e.g. not commissioned by 1.2
    in primary care or by 1.3 in a specialist setting, with the setting unknown)."""
    provenance: Provenance | None = None
    """Which KB content decided it (pyclingo_bridge/provenance.py)."""

    @property
    def determined(self) -> bool:
        return self.status != "undetermined"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "policy": self.policy,
            "policy_version": self.policy_version,
            "status": self.status,
            "clauses": list(self.clauses),
            "explanation": self.explanation.to_dict(),
            "possible": [possibility.to_dict() for possibility in self.possible],
            "missing": [missing.to_dict() for missing in self.missing],
            "advice": [advice.to_dict() for advice in self.advice],
            "unknown": list(self.unknown),
            "assumed": [assumption.to_dict() for assumption in self.assumptions],
            "validity": self.validity.to_dict() if self.validity else None,
            "clauses_depend_on_unknowns": self.clauses_depend_on_unknowns,
            "provenance": self.provenance.to_dict() if self.provenance else None,
        }


@cache
def clause_order(clause: str) -> tuple[int, ...]:
    """Sort key of a clause number: 1.2 before 1.10, numbers before other text."""
    parts = clause.split(".")
    if all(part.isdigit() for part in parts):
        return tuple(int(part) for part in parts)
    return (10**9,)

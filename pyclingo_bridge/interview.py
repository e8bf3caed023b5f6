"""An interview: one question at a time, only questions that can still change the outcome.

The same order serves every front end that asks (``policykb ask``, SDC ``$next-question``):
the next question is the first of the decision's ``missing`` facts (those whose answer can
still change the outcome) in the KB's declaration order of facts. A question answered
"unknown" is not asked again; when every question that could still matter is unknown, the
interview ends undetermined, saying what is missing.

Typed answers are read by one table keyed by the fact type's name (:data:`READERS`); a type
it does not know takes the text as it is, and the vocabulary validates every answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .decision import Decision
from .engine import PolicyEngine
from .errors import InputError
from .vocabulary import FactSpec, PatientFacts, Value

NONE_WORDS = frozenset({"none", "no", "none found", "[]"})
"""Answers to a list question meaning "asked, and none applies" (the empty list)."""
TRUE_WORDS = frozenset({"y", "yes", "true"})
FALSE_WORDS = frozenset({"n", "no", "false"})


def fact_order(engine: PolicyEngine) -> tuple[str, ...]:
    """Fact keys in the KB's declaration order, as grounded (the policy's own, then the core's)."""
    return tuple(key for key in engine.model.fact_order if key in engine.vocabulary.specs)


def next_fact(engine: PolicyEngine, decision: Decision, skipped: frozenset[str] = frozenset()) -> str | None:
    """The next question: the first missing fact not ``skipped``, in declaration order."""
    missing = {m.fact for m in decision.missing} - skipped
    return next((key for key in fact_order(engine) if key in missing), None)


class AnswerError(ValueError):
    """An answer that is not one the question allows; the message says what is allowed."""


def _choice(spec: FactSpec, word: str) -> str:
    """A value by its number in the list shown (1-based) or by its name (spaces for underscores)."""
    values = spec.values
    if word.isdigit() and 1 <= int(word) <= len(values):
        return values[int(word) - 1]
    name = "_".join(word.lower().split())
    if name in values:
        return name
    raise AnswerError(f"{word!r}: expected a number from 1 to {len(values)} or one of {', '.join(values)}")


def _boolean(spec: FactSpec, text: str) -> bool:
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise AnswerError(f"{text!r}: expected yes or no")


def _integer(spec: FactSpec, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise AnswerError(f"{text!r}: expected {spec.allowed()}") from None


def _decimal(spec: FactSpec, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise AnswerError(f"{text!r}: expected a number") from None


def _list(spec: FactSpec, text: str) -> list[str]:
    if text.lower() in NONE_WORDS:
        return []
    # Comma-separated; numbers may also be separated by spaces ("1 3"), names hold spaces.
    parts = [part.strip() for part in text.split(",") if part.strip()]
    words = [word for part in parts for word in (part.split() if part.replace(" ", "").isdigit() else [part])]
    return list(dict.fromkeys(_choice(spec, word) for word in words))


def _text(spec: FactSpec, text: str) -> str:
    return text


READERS: dict[str, Callable[[FactSpec, str], object]] = {
    "boolean": _boolean,
    "integer": _integer,
    "decimal": _decimal,
    "enum": _choice,
    "list": _list,
}
"""How a typed answer becomes a fact value, by fact type (a type not here: the text itself)."""


def read_answer(engine: PolicyEngine, key: str, text: str) -> Value:
    """The value of a typed answer to ``key``; AnswerError saying what is allowed otherwise."""
    spec = engine.vocabulary.specs[key]
    value = READERS.get(spec.type, _text)(spec, text.strip())
    try:
        return engine.vocabulary.validate({key: value}).given[key]
    except InputError as error:
        raise AnswerError("; ".join(problem.message for problem in error.problems)) from None


@dataclass
class Interview:
    """The facts gathered so far, the questions left unknown, and the decision on them."""

    engine: PolicyEngine
    given: dict[str, Value] = field(default_factory=dict)
    record_id: str | None = None
    skipped: set[str] = field(default_factory=set)

    @classmethod
    def starting_from(cls, engine: PolicyEngine, facts: Mapping[str, object]) -> Interview:
        """An interview from facts already known (validated: raises InputError)."""
        validated = engine.vocabulary.validate(facts)
        return cls(engine, dict(validated.given), validated.record_id)

    def decision(self) -> Decision:
        return self.engine.decide_facts(PatientFacts(self.given, self.record_id))

    def next_question(self, decision: Decision) -> FactSpec | None:
        """The next fact to ask, or None: determined, or nothing left that is not unknown."""
        if decision.determined:
            return None
        key = next_fact(self.engine, decision, frozenset(self.skipped))
        return self.engine.vocabulary.specs[key] if key is not None else None

    def answer(self, key: str, value: Value | None) -> None:
        """Record an answer (None: unknown, not asked again)."""
        if value is None:
            self.skipped.add(key)
        else:
            self.given[key] = value

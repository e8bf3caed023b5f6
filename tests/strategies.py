"""Hypothesis strategies for patient facts, drawn from the policy's own vocabulary."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from pyclingo_bridge import PolicyEngine, Vocabulary
from pyclingo_bridge.errors import InputError
from pyclingo_bridge.vocabulary import FactSpec

ABSENT = object()


def value_of(spec: FactSpec) -> st.SearchStrategy[Any]:
    """A valid value of one fact."""
    if spec.type == "integer":
        assert spec.low is not None and spec.high is not None
        return st.integers(spec.low, spec.high)
    if spec.type == "decimal":
        assert spec.low is not None and spec.high is not None
        scale = spec.scale or 0
        return st.integers(spec.low, spec.high).map(lambda n: Decimal(n).scaleb(-scale))
    if spec.type == "boolean":
        return st.booleans()
    if spec.type == "enum":
        return st.sampled_from(spec.values)
    return st.lists(st.sampled_from(spec.values), max_size=3, unique=True)


def patient_facts(vocabulary: Vocabulary) -> st.SearchStrategy[dict[str, Any]]:
    """Valid facts: each key absent, null (open-world only) or a valid value."""
    def one(spec: FactSpec) -> st.SearchStrategy[Any]:
        choices = [st.just(ABSENT), value_of(spec)]
        if spec.world == "open":
            choices.append(st.none())
        return st.one_of(*choices)

    drawn = st.fixed_dictionaries({key: one(spec) for key, spec in vocabulary.specs.items()})
    return drawn.map(lambda facts: {k: v for k, v in facts.items() if v is not ABSENT})


def consistent(engine: PolicyEngine) -> Callable[[dict[str, Any]], bool]:
    """Whether facts are free of the KB's contradictions (those are input errors, tested
    apart): a filter for strategies of valid patients."""
    def ok(facts: dict[str, Any]) -> bool:
        try:
            engine.decide(facts)
        except InputError:
            return False
        return True

    return ok


def closed_defaults(vocabulary: Vocabulary) -> dict[str, Any]:
    """Each closed-world flag and list with the value leaving it out means (false, empty)."""
    return {
        key: False if spec.type == "boolean" else []
        for key, spec in vocabulary.specs.items()
        if spec.world == "closed" and spec.type in ("boolean", "list")
    }

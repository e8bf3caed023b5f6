"""Decisions for the service, remembered by their exact facts.

A decision depends only on the policy's program and the validated facts (what is given,
and which lists are only known in part), so two orders with the same facts get the same
decision; only the record id differs. The service keeps the most recent ones: patients of the same age
with the same coded conditions are common, and an undetermined decision costs a brave solve.
The engine still makes every decision the first time (one engine); this only remembers it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict

from ..decision import Decision
from ..engine import PolicyEngine
from ..vocabulary import PatientFacts

DEFAULT_SIZE = 4096


class DecisionCache:
    """A bounded, thread-safe, least-recently-used memory of one engine's decisions."""

    def __init__(self, engine: PolicyEngine, size: int = DEFAULT_SIZE) -> None:
        self.engine = engine
        self.size = size
        self._decisions: OrderedDict[tuple[frozenset[tuple[str, object]], frozenset[str]], Decision] = OrderedDict()
        self._lock = threading.Lock()

    def decide(self, facts: PatientFacts) -> Decision:
        if self.size <= 0:
            return self.engine.decide_facts(facts)
        key = (frozenset(facts.given.items()), facts.at_least)
        with self._lock:
            known = self._decisions.get(key)
            if known is not None:
                self._decisions.move_to_end(key)
        if known is None:
            known = self.engine.decide_facts(facts)
            with self._lock:
                self._decisions[key] = known
                if len(self._decisions) > self.size:
                    self._decisions.popitem(last=False)
        return dataclasses.replace(known, id=facts.record_id)

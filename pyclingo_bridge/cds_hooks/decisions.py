"""Decisions for the service, remembered by their exact facts.

A decision depends only on the policy's program and the validated facts (what is given,
and which lists are only known in part), so two orders with the same facts get the same
decision; only the record id differs. The service keeps the most recent ones: patients of the same age
with the same coded conditions are common, and an undetermined decision costs a brave solve.
The engine still makes every decision the first time (one engine); this only remembers it.

The key stays the exact facts, not their input class (classes.py): a card quotes the
explanation, whose sentences name the actual values (age 52, not "16 or over"), so two
inputs of one class would share a card that is true of only one of them.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict

from ..decision import Decision
from ..engine import PolicyEngine
from ..vocabulary import PatientFacts

DEFAULT_SIZE = 4096


class NotRemembered(Exception):
    """:meth:`DecisionCache.remembered` has no decision for these facts: the engine must make it."""


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
        known = self._known(facts)
        if known is None:
            known = self.engine.decide_facts(facts)
            with self._lock:
                self._decisions[_key(facts)] = known
                if len(self._decisions) > self.size:
                    self._decisions.popitem(last=False)
        return dataclasses.replace(known, id=facts.record_id)

    def remembered(self, facts: PatientFacts) -> Decision:
        """The remembered decision on ``facts``, or :class:`NotRemembered`; never solves, so it
        may run where a solve must not (the event loop)."""
        known = self._known(facts) if self.size > 0 else None
        if known is None:
            raise NotRemembered
        return dataclasses.replace(known, id=facts.record_id)

    def _known(self, facts: PatientFacts) -> Decision | None:
        key = _key(facts)
        with self._lock:
            known = self._decisions.get(key)
            if known is not None:
                self._decisions.move_to_end(key)
        return known


def _key(facts: PatientFacts) -> tuple[frozenset[tuple[str, object]], frozenset[str]]:
    return frozenset(facts.given.items()), facts.at_least

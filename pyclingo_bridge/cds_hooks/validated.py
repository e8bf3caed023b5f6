"""FHIR resources validated once and remembered by their exact JSON, for the service's calls.

Validating a resource with fhir.resources (pydantic) is most of a remembered call's CPU, and
its result depends on nothing but the resource's JSON and the model: the same Patient,
Conditions and draft order come back in the order-select and order-sign calls about one
patient, and from one call to the next. So a resource that validated is remembered by its
model and its exact JSON (``repr`` of the decoded value, which is the same only for the
same value: ``1``, ``1.0``, ``True`` and ``"1"`` all differ), and the same JSON gets the same
validated object. Nothing downstream changes a parsed resource (they are read, never written).

A resource is remembered the second time it comes (the first time only a hash of it is
noted): what is remembered outlives the start-up freeze (server.py), so the garbage collector
walks it, and when every call is about a new patient a memory of them all only made the
collections longer (docs/performance.md, "CDS Hooks service at 50 concurrent clients"). A resource that fails validation is never remembered:
it is validated, and refused with the same words, every time. The memory is bounded by the
size of the JSON it keeps (:data:`BUDGET_CHARS`), and a resource larger than
:data:`MAX_CHARS` is validated each time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from pydantic import BaseModel

from ..fhir import parse_resource

BUDGET_CHARS = 1_000_000
"""The most JSON text (as ``repr``) of the remembered resources, all together: a few hundred
patients' calls (about 1.7 kB each in the benchmark); kept small for the collector's sake."""
SEEN_ONCE = 16_384
"""Most resources noted as seen once (by hash); past it the notes start again."""
MAX_CHARS = 64_000
"""A larger resource (a long Bundle of conditions) is validated on every call, not remembered."""


class ValidatedResources:
    """A bounded, thread-safe, least-recently-used memory of validated FHIR resources."""

    def __init__(self, budget: int = BUDGET_CHARS, largest: int = MAX_CHARS) -> None:
        self.budget = budget
        self.largest = largest
        self.used = 0
        self._known: OrderedDict[tuple[type[BaseModel], str], Any] = OrderedDict()
        self._seen_once: set[int] = set()
        self._lock = threading.Lock()

    def parse(self, model: type[BaseModel], data: object, where: str) -> Any:
        """``parse_resource(model, data, where)``, remembered when it validates."""
        if not isinstance(data, dict):
            return parse_resource(model, data, where)  # refused: says why, as ever
        try:
            key = (model, repr(data))
        except RecursionError:  # nested too deep to name: validation says what is wrong
            return parse_resource(model, data, where)
        if len(key[1]) > self.largest:
            return parse_resource(model, data, where)
        with self._lock:
            known = self._known.get(key)
            if known is not None:
                self._known.move_to_end(key)
                return known
        parsed = parse_resource(model, data, where)  # raises for a resource that does not validate
        with self._lock:
            noted = hash(key)
            if noted not in self._seen_once:  # the first time: noted, not kept
                if len(self._seen_once) >= SEEN_ONCE:
                    self._seen_once.clear()
                self._seen_once.add(noted)
            elif key not in self._known:
                self._seen_once.discard(noted)
                self._known[key] = parsed
                self.used += len(key[1])
                while self.used > self.budget:
                    (_, text), _ = self._known.popitem(last=False)
                    self.used -= len(text)
        return parsed

    def __len__(self) -> int:
        return len(self._known)

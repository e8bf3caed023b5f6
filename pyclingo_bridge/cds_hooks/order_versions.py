"""The policy version each draft order is decided under: the one in force on its ``authoredOn``.

A service is started for the versions in force on ``--as-of`` (or the day it starts): what
discovery and the Questionnaire describe. An order says when it was written, so it is
decided under the version in force on its own ``ServiceRequest.authoredOn``; an order that
records none, under the one in force on ``--as-of``, else on the day it is decided. Each
version's engine and memory of decisions (decisions.py) is built when an order first needs
it, and kept: a policy has few versions, so the memory stays bounded. Which version is in
force on a day is remembered too (:data:`REMEMBERED_DAYS` of them): finding it reads the KB's
folders, which cost more than the rest of a remembered call, and the KB a running service
was built from does not change under it (its engines and versions are read once anyway).
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from fhir.resources.R4B.servicerequest import ServiceRequest

from ..engine import PolicyEngine, engine_for
from ..fhir_dates import date_span
from ..versions import VersionError, describe, policy_versions
from .decisions import DecisionCache, NotRemembered
from .request import HookError

REMEMBERED_DAYS = 4096
"""Most (policy, day) pairs whose version in force is remembered; past it the oldest goes."""


class OrderVersions:
    """Each (policy, version)'s engine and decision memory, chosen by an order's date."""

    def __init__(self, kb_root: Path | None, as_of: date | None, cache_size: int) -> None:
        self.kb_root = kb_root
        self.as_of = as_of
        self.cache_size = cache_size
        self._caches: dict[tuple[str, str], DecisionCache] = {}
        self._in_force: dict[tuple[str, date], PolicyEngine] = {}
        self._lock = threading.Lock()

    def for_order(self, policy_id: str, order: ServiceRequest, today: date,
                  remembered_only: bool = False) -> tuple[PolicyEngine, DecisionCache]:
        """The engine of the version in force when ``order`` was authored, and its memory; a
        date no version covers, or a partial date (``2026``) that two versions share, is a
        400 naming the versions and their dates. ``remembered_only``: :class:`NotRemembered`
        rather than look the version up (which may build an engine)."""
        with self._lock:  # one build per version, even with the service's thread pool
            engine = self._engine(policy_id, order, today, remembered_only)
            key = (engine.policy.id, engine.version.number)
            cache = self._caches.get(key)
            if cache is None:
                cache = self._caches[key] = DecisionCache(engine, self.cache_size)
        return engine, cache

    def _engine(self, policy_id: str, order: ServiceRequest, today: date, remembered_only: bool) -> PolicyEngine:
        if order.authoredOn is None:
            day = self.as_of or today
            try:
                return self._engine_on(policy_id, day, remembered_only)
            except VersionError as error:
                raise HookError(400, f"ServiceRequest.authoredOn: not recorded, so the order is dated {day.isoformat()} "
                                     f"(--as-of, else today), and {error}") from None
        first, last = date_span(order.authoredOn)
        try:
            engine = self._engine_on(policy_id, first, remembered_only)
            later = engine if last == first else self._engine_on(policy_id, last, remembered_only)
            if later is not engine:
                raise VersionError(f"{order.authoredOn} may mean a day of version {engine.version.number} or of "
                                   f"version {later.version.number} of {engine.policy.reference}; give the day the "
                                   f"order was written ({describe(policy_versions(engine.kb, engine.policy.id))})")
        except VersionError as error:
            raise HookError(400, f"ServiceRequest.authoredOn: {error}") from None
        return engine

    def _engine_on(self, policy_id: str, day: date, remembered_only: bool) -> PolicyEngine:
        """``engine_for`` on ``day``, remembered (under the caller's lock); a day no version
        covers is not remembered: it raises VersionError each time, with the same words."""
        key = (policy_id, day)
        engine = self._in_force.get(key)
        if engine is None:
            if remembered_only:
                raise NotRemembered
            engine = engine_for(policy_id, self.kb_root, as_of=day)
            if len(self._in_force) >= REMEMBERED_DAYS:
                del self._in_force[next(iter(self._in_force))]
            self._in_force[key] = engine
        return engine


__all__ = ["OrderVersions"]

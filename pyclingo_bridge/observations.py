"""FHIR Observations to number facts, as the KB's ``code_measures/5`` declares them.

Which coded Observation gives which fact, and in which UCUM unit, is KB data (:mod:`.codes`);
this module only reads the Observations, and every one it reads is accounted for:

* only ``final``, ``amended`` and ``corrected`` Observations are read; the others are listed as
  ignored (a preliminary or cancelled result is no measurement);
* the date is ``effectiveDateTime``, ``effectiveInstant`` or the end of ``effectivePeriod``;
  an Observation counts when it is dated on or before the order's date (``authoredOn``, by day,
  as the age is taken); one after it, undated, or whose partial date may fall either side, is
  reported and not used. Without ``authoredOn`` every dated Observation counts, and the answer
  says so;
* of the Observations that count for a fact, the most recent gives its value. When it cannot
  be read (another unit, no unit, a comparator, out of range) the fact stays unknown and the
  answer says why: an older value is never used in its place. When the most recent cannot be
  told apart (the same day, no time) and their values differ, the fact stays unknown too.

The unit is ``valueQuantity.code`` in the system ``http://unitsofmeasure.org``, compared
exactly with the KB's (UCUM codes are case-sensitive); ``valueQuantity.unit`` is display text
and never read as the unit.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.observation import Observation

from .codes import CodeMaps, CodeMeasure
from .fact_types import FactValueError
from .fhir_dates import date_span
from .vocabulary import FactSpec, Vocabulary

READ_STATUSES = frozenset({"final", "amended", "corrected"})
"""Observation statuses whose value is a result (FHIR R4 observation-status)."""
UCUM = "http://unitsofmeasure.org"


@dataclass(frozen=True)
class Measurement:
    """One Observation read for a number fact: what it recorded and whether it was used."""

    resource: str
    system: str | None
    code: str | None
    display: str | None
    key: str
    source: str
    effective: str | None
    value: str | None
    unit: str | None
    used: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource, "system": self.system, "code": self.code, "display": self.display,
            "fact": self.key, "effective": self.effective, "value": self.value, "unit": self.unit,
            "used": self.used, "reason": self.reason, "source": self.source,
        }


@dataclass
class ObservationFacts:
    """What a set of Observations establishes: values by fact, and the account of each read."""

    values: dict[str, Any] = field(default_factory=dict)
    measurements: list[Measurement] = field(default_factory=list)
    unmapped: list[tuple[str, str | None, str | None, str | None]] = field(default_factory=list)
    """(resource, system, code, display) of each Observation coding that maps to no fact."""
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Read:
    """One Observation for one fact, dated, with its value read (or the reason it cannot be)."""

    measure: CodeMeasure
    ref: str
    observation: Observation
    coding: Any
    first: tuple[dt.date, float]
    last: tuple[dt.date, float]
    effective: str
    value: Any = None
    problem: str | None = None


def read_observations(
    maps: CodeMaps,
    vocabulary: Vocabulary,
    observations: Sequence[tuple[str, Observation]],
    order_date: dt.date | str | None,
) -> ObservationFacts:
    """The number facts ``observations`` (each with its reference) give for an order of
    ``order_date`` (``ServiceRequest.authoredOn``; None when not recorded)."""
    found = ObservationFacts()
    order_span = date_span(order_date) if order_date is not None else None
    candidates: dict[str, list[_Read]] = {}
    for ref, observation in observations:
        if observation.status not in READ_STATUSES:
            found.ignored.append(f"{ref}: status {observation.status}: not read")
            continue
        codings = [c for c in (observation.code.coding or ()) if c is not None]
        mapped = [(coding, measure) for coding in codings for measure in maps.measures(coding.system, coding.code)]
        if not mapped:
            found.unmapped += [(ref, c.system, c.code, c.display) for c in codings] or [(ref, None, None, observation.code.text)]
            continue
        for coding, measure in mapped:
            read = _dated(measure, ref, observation, coding)
            if isinstance(read, str):
                found.measurements.append(_account(measure, ref, observation, coding, None, False, read))
                continue
            if order_span is not None and read.first[0] > order_span[1]:
                found.measurements.append(_account(measure, ref, observation, coding, read.effective, False,
                                                   "dated after the order's date: not used"))
            elif order_span is not None and read.last[0] > order_span[0]:
                found.measurements.append(_account(measure, ref, observation, coding, read.effective, False,
                                                   "a partial date that may fall after the order's date: not used"))
            else:
                candidates.setdefault(measure.key, []).append(read)
    if order_span is None and candidates:
        found.notes.append("ServiceRequest.authoredOn not recorded: the most recent Observation recorded is used")
    for key, reads in candidates.items():
        _choose(vocabulary.specs[key], reads, order_date, found)
    position = {ref: index for index, (ref, _) in enumerate(observations)}
    found.measurements.sort(key=lambda measurement: position[measurement.resource])  # as the input lists them
    return found


def _choose(spec: FactSpec, reads: list[_Read], order_date: dt.date | str | None, found: ObservationFacts) -> None:
    """The value of the most recent of ``reads``, or the fact left unknown with the reason."""
    # The most recent: every Observation that no other is certainly later than.
    latest = [r for r in reads if not any(other.first > r.last for other in reads)]
    for read in latest:
        _read_value(spec, read)
    values = {str(r.value) for r in latest if r.problem is None}
    usable = len(values) == 1 and all(r.problem is None for r in latest)
    before = f"on or before the order's date ({order_date})" if order_date is not None else "recorded"
    for read in reads:
        if read not in latest:
            reason = "an earlier Observation: not used"
        elif read.problem is not None:
            reason = f"{read.problem}: not used"
        elif usable:
            reason = f"the most recent Observation {before}: used"
        else:
            reason = "the most recent Observations cannot be told apart by date and disagree: not used"
        found.measurements.append(_account(read.measure, read.ref, read.observation, read.coding, read.effective,
                                           usable and read in latest, reason))
    if usable:
        found.values[spec.key] = latest[0].value
    else:
        found.notes.append(f"{spec.meaning}: left unknown, the most recent Observation {before} cannot be used")


def _read_value(spec: FactSpec, read: _Read) -> None:
    quantity = read.observation.valueQuantity
    if quantity is None or quantity.value is None:
        read.problem = "no valueQuantity"
    elif quantity.comparator:
        read.problem = f"value {quantity.comparator}{quantity.value} is not an exact value"
    elif quantity.code is None or quantity.system != UCUM:
        read.problem = f"no UCUM unit recorded (expected {read.measure.unit})"
    elif quantity.code != read.measure.unit:
        read.problem = f"unit {quantity.code}, not {read.measure.unit}"
    else:
        number: Decimal | int = quantity.value
        if spec.fact_type.name == "integer" and quantity.value == quantity.value.to_integral_value():
            number = int(quantity.value)  # 7.0 is the score 7; 6.5 stays a decimal and is refused
        try:
            read.value = spec.fact_type.converter(spec)(number)
        except FactValueError:
            read.problem = f"value {quantity.value} is not {spec.fact_type.describe(spec)}"


def _dated(measure: CodeMeasure, ref: str, observation: Observation, coding: Any) -> _Read | str:
    """The Observation with the span of its date, or why it has none."""
    when: Any = observation.effectiveDateTime or observation.effectiveInstant
    if when is None and observation.effectivePeriod is not None:
        when = observation.effectivePeriod.end
        if when is None:
            return "effectivePeriod has no end: not used"
    if when is None:
        return "no effective date: not used"
    first_day, last_day = date_span(when)
    instant = when.timestamp() if isinstance(when, dt.datetime) and when.tzinfo is not None else None
    first = (first_day, instant if instant is not None else -math.inf)
    last = (last_day, instant if instant is not None else math.inf)
    shown = when.isoformat() if isinstance(when, dt.date) else str(when)
    return _Read(measure, ref, observation, coding, first, last, shown)


def _account(measure: CodeMeasure, ref: str, observation: Observation, coding: Any, effective: str | None,
             used: bool, reason: str) -> Measurement:
    quantity = observation.valueQuantity
    value = str(quantity.value) if quantity is not None and quantity.value is not None else None
    unit = quantity.code if quantity is not None else None
    return Measurement(ref, coding.system, coding.code, coding.display, measure.key, measure.source, effective,
                       value, unit, used, reason)

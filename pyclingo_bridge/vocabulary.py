"""The patient-fact vocabulary (read from the knowledge base by :mod:`.model`), and input validation against it.

Every key, type, allowed value and world (open or closed) comes from the ``fact/4``,
``fact_value/2``, ``fact_range/3``, ``fact_scale/2``, ``fact_unit/2`` and ``fact_question/2``
declarations in ``kb/``; Python repeats no field name. What a type allows, and how its values
become input atoms, is its class in :mod:`.fact_types`. Validation turns a JSON-like mapping
into :class:`PatientFacts` or raises one :class:`InputError` naming every bad field and what
it allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import clingo

from .errors import FieldProblem, InputError
from .fact_types import (
    FACT_TYPES,
    SHOWN_TEXT,
    AtomValue,
    FactType,
    FactValueError,
    Value,
    fact_type,
)
from .records import record
from .routing import PROCEDURE_FIELD, procedure_of

ID_FIELD = "id"
REQUEST_DATE_FIELD = "request_date"
"""Reserved beside ``id``: the date of the request, which chooses the policy version in
force (pyclingo_bridge/versions.py); never a fact the rules read."""
RESERVED_FIELDS = (ID_FIELD, REQUEST_DATE_FIELD, PROCEDURE_FIELD)
"""Keys of an input that are no patient fact: the record's id, the date of the request (which
chooses the version), the procedure asked for (routing.py)."""

FactTypeName = str
"""A type's name as ``fact/4`` declares it (a key of :data:`.fact_types.FACT_TYPES`)."""
World = Literal["open", "closed"]
InputKey = tuple[str | int, ...]
"""("known", Key) or ("given", Key, Value): an input external as plain Python values."""


@dataclass(frozen=True)
class FactSpec:
    """One declared patient fact."""

    key: str
    type: FactTypeName
    world: World
    meaning: str
    symbols: Mapping[str, clingo.Symbol] = field(default_factory=dict)
    """Allowed values (enum, list members, booleans) by name, as the KB's own symbols."""
    low: int | None = None
    high: int | None = None
    """The inclusive range of a number, scaled (a decimal's 10.0 at scale 1 is 100)."""
    question: str | None = None
    scale: int | None = None
    """A decimal's digits after the point."""
    unit: str | None = None
    """A number's unit (UCUM), for people."""

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(self.symbols)

    @property
    def fact_type(self) -> FactType:
        return fact_type(self.type, self.key)

    def allowed(self) -> str:
        """What this fact accepts, for error messages and help."""
        kind = self.fact_type
        text = kind.describe(self)
        if self.world == "open":
            return text + " (or null / leave it out when unknown)"
        return text + f" (leave it out for {kind.closed_default or 'false'})"


@record
class PatientFacts:
    """Validated facts of one patient: what is given; everything else is unknown or closed."""

    given: Mapping[str, Value]
    record_id: str | None = None
    at_least: frozenset[str] = frozenset()
    """List facts whose given members are known present while the others stay unknown (a
    coded record establishes some red flags without a completed screen); not from JSON input."""


class Vocabulary:
    """The facts a policy reads, with validation of patient input against them."""

    def __init__(self, specs: Mapping[str, FactSpec]) -> None:
        self.specs = dict(sorted(specs.items()))
        # One converter per fact, chosen once by its type: validation runs for every row of an audit.
        self._checkers = {key: spec.fact_type.converter(spec) for key, spec in self.specs.items()}
        self._encoders = {key: spec.fact_type.encode(spec) for key, spec in self.specs.items()}

    @property
    def fields(self) -> tuple[str, ...]:
        """Every input key, ``id`` included."""
        return (ID_FIELD, REQUEST_DATE_FIELD, *self.specs)

    def validate(self, facts: object) -> PatientFacts:
        """Check ``facts`` against the vocabulary; raise InputError naming every bad field."""
        if type(facts) is not dict and not isinstance(facts, Mapping):
            raise InputError([FieldProblem("input", "expected a JSON object of patient facts")])
        problems: list[FieldProblem] = []
        given: dict[str, Value] = {}
        record_id: str | None = None
        listed = False  # the allowed fields are in a problem already
        checkers = self._checkers
        for key, value in facts.items():
            check = checkers.get(key) if type(key) is str else None
            if check is None:
                if key == ID_FIELD:
                    if value is not None and (type(value) is not str or not is_text(value)):
                        problems.append(FieldProblem(ID_FIELD, "expected a string of Unicode text"))
                    else:
                        record_id = value
                elif key == REQUEST_DATE_FIELD:
                    if value is not None and not is_iso_date(value):
                        problems.append(FieldProblem(REQUEST_DATE_FIELD, "expected a date as YYYY-MM-DD, such as 2026-04-01"))
                elif key == PROCEDURE_FIELD:  # routes the input to a policy; decides nothing
                    try:
                        procedure_of({PROCEDURE_FIELD: value})
                    except InputError as error:
                        problems.extend(error.problems)
                else:
                    # The allowed fields are listed once, with the first unknown one: a message
                    # about many unknown keys stays short.
                    problems.append(FieldProblem(str(key), self._unknown_key(str(key), listed)))
                    listed = True
            elif value is None:
                if self.specs[key].world == "closed":
                    problems.append(FieldProblem(key, "null is not allowed for a closed-world fact; expected " + self.specs[key].allowed()))
            else:
                try:
                    given[key] = check(value)
                except FactValueError as error:
                    problems.append(FieldProblem(key, str(error)))
        if problems:
            raise InputError(problems)
        return PatientFacts(given=given, record_id=record_id)

    def input_keys(self, facts: PatientFacts) -> set[InputKey]:
        """The patient's facts as keys of input externals: ("known", K) and ("given", K, V)."""
        keys: set[InputKey] = set()
        encoders = self._encoders
        for key, value in facts.given.items():
            if key not in facts.at_least:
                # Without known/1 an open list stays unknown beyond its given members.
                keys.add(("known", key))
            for member in encoders[key](value):
                keys.add(("given", key, member))
        return keys

    def unknown(self, facts: PatientFacts) -> tuple[str, ...]:
        """The open-world facts not given (or given only in part): their values range over every
        completion."""
        return tuple(
            key
            for key, spec in self.specs.items()
            if spec.world == "open" and (key not in facts.given or key in facts.at_least)
        )

    def _unknown_key(self, key: str, listed: bool = False) -> str:
        import difflib  # only for the message: a query does not pay for it at start-up

        hint = difflib.get_close_matches(key, self.fields, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        if listed:
            return f"{UNKNOWN_FIELD}{suggestion}"
        return f"{UNKNOWN_FIELD}{suggestion}; allowed fields: " + ", ".join(self.fields)


UNKNOWN_FIELD = "unknown field"


def is_iso_date(value: object) -> bool:
    """Whether ``value`` is a calendar date written ``YYYY-MM-DD``."""
    if type(value) is not str or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_text(value: str) -> bool:
    """Whether ``value`` can be written as UTF-8 (a lone surrogate, from a JSON escape such
    as \\ud800, cannot: echoed into the output it would fail there)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


__all__ = [
    "FACT_TYPES",
    "ID_FIELD",
    "REQUEST_DATE_FIELD",
    "SHOWN_TEXT",
    "AtomValue",
    "FactSpec",
    "PatientFacts",
    "Value",
    "Vocabulary",
    "is_text",
]

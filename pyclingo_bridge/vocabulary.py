"""The patient-fact vocabulary, read from the knowledge base, and input validation against it.

Every key, type, allowed value and world (open or closed) comes from the ``fact/4``,
``fact_value/2``, ``fact_range/3`` and ``fact_question/2`` declarations in ``kb/``; Python
repeats no field name. Validation turns a JSON-like mapping into :class:`PatientFacts` or
raises one :class:`InputError` naming every bad field and what it allows.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

import clingo

from .errors import FieldProblem, InputError
from .solver import GroundProgram

ID_FIELD = "id"

FactType = Literal["boolean", "integer", "enum", "list"]
World = Literal["open", "closed"]
Value = bool | int | str | frozenset[str]


@dataclass(frozen=True)
class FactSpec:
    """One declared patient fact."""

    key: str
    type: FactType
    world: World
    meaning: str
    symbols: Mapping[str, clingo.Symbol] = field(default_factory=dict)
    """Allowed values (enum, list members, booleans) by name, as the KB's own symbols."""
    low: int | None = None
    high: int | None = None
    question: str | None = None

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(self.symbols)

    def allowed(self) -> str:
        """What this fact accepts, for error messages and help."""
        if self.type == "integer":
            text = f"an integer from {self.low} to {self.high}"
        elif self.type == "boolean":
            text = "true or false"
        elif self.type == "enum":
            text = "one of " + ", ".join(self.values)
        else:
            text = "a list of " + ", ".join(self.values)
        if self.world == "open":
            return text + " (or null / leave it out when unknown)"
        return text + " (leave it out for " + ("none" if self.type == "list" else "false") + ")"


@dataclass(frozen=True)
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

    @classmethod
    def from_program(cls, program: GroundProgram) -> Vocabulary:
        symbols: dict[str, dict[str, clingo.Symbol]] = {}
        for atom in program.facts("fact_value", 2):
            owner, value = atom.arguments
            if value.type == clingo.SymbolType.Function:
                symbols.setdefault(owner.name, {})[value.name] = value
        ranges = {a.arguments[0].name: a.arguments[1:] for a in program.facts("fact_range", 3)}
        questions = {a.arguments[0].name: a.arguments[1].string for a in program.facts("fact_question", 2)}
        specs: dict[str, FactSpec] = {}
        for atom in program.facts("fact", 4):
            key_symbol, type_symbol, world_symbol, meaning = atom.arguments
            key = key_symbol.name
            low_high = ranges.get(key)
            specs[key] = FactSpec(
                key=key,
                type=type_symbol.name,  # type: ignore[arg-type]
                world=world_symbol.name,  # type: ignore[arg-type]
                meaning=meaning.string,
                symbols=symbols.get(key, {}),  # grounding keeps declaration order
                low=low_high[0].number if low_high else None,
                high=low_high[1].number if low_high else None,
                question=questions.get(key),
            )
        return cls(specs)

    @property
    def fields(self) -> tuple[str, ...]:
        """Every input key, ``id`` included."""
        return (ID_FIELD, *self.specs)

    def validate(self, facts: object) -> PatientFacts:
        """Check ``facts`` against the vocabulary; raise InputError naming every bad field."""
        if type(facts) is not dict and not isinstance(facts, Mapping):
            raise InputError([FieldProblem("input", "expected a JSON object of patient facts")])
        problems: list[FieldProblem] = []
        given: dict[str, Value] = {}
        record_id: str | None = None
        specs = self.specs
        for key, value in facts.items():
            if key == ID_FIELD:
                if value is not None and type(value) is not str:
                    problems.append(FieldProblem(ID_FIELD, "expected a string"))
                else:
                    record_id = value
                continue
            spec = specs.get(key) if type(key) is str else None
            if spec is None:
                problems.append(FieldProblem(str(key), self._unknown_key(str(key))))
                continue
            if value is None:
                if spec.world == "closed":
                    problems.append(FieldProblem(key, "null is not allowed for a closed-world fact; expected " + spec.allowed()))
                continue
            checked = _check(spec, value)
            if isinstance(checked, FieldProblem):
                problems.append(checked)
            else:
                given[key] = checked
        if problems:
            raise InputError(problems)
        return PatientFacts(given=given, record_id=record_id)

    def unknown(self, facts: PatientFacts) -> tuple[str, ...]:
        """The open-world facts not given (or given only in part): their values range over every
        completion."""
        return tuple(
            key
            for key, spec in self.specs.items()
            if spec.world == "open" and (key not in facts.given or key in facts.at_least)
        )

    def _unknown_key(self, key: str) -> str:
        hint = difflib.get_close_matches(key, self.fields, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        return f"unknown field{suggestion}; allowed fields: " + ", ".join(self.fields)


def _check(spec: FactSpec, value: object) -> Value | FieldProblem:
    """The value if ``spec`` allows it, else the problem. Exact JSON types: ``true`` is not
    the integer 1, and 40.0 is not an age."""
    kind, given = spec.type, type(value)
    if kind == "boolean":
        if given is bool:
            return value  # type: ignore[return-value]
    elif kind == "integer":
        if given is int and spec.low <= value <= spec.high:  # type: ignore[operator]
            return value  # type: ignore[return-value]
    elif kind == "enum":
        if given is str and value in spec.symbols:
            return value  # type: ignore[return-value]
    elif given is list:
        symbols = spec.symbols
        bad = [member for member in value if type(member) is not str or member not in symbols]  # type: ignore[attr-defined]
        if not bad:
            return frozenset(cast("list[str]", value))
        return FieldProblem(spec.key, f"{_show(bad[0])} is not allowed; expected {spec.allowed()}")
    return FieldProblem(spec.key, f"{_show(value)} is not allowed; expected {spec.allowed()}")


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return repr(value) if isinstance(value, (int, float)) else type(value).__name__


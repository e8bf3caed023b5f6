"""The patient-fact vocabulary, read from the knowledge base, and input validation against it.

Every key, type, allowed value and world (open or closed) comes from the ``fact/4``,
``fact_value/2``, ``fact_range/3`` and ``fact_question/2`` declarations in ``kb/``; Python
repeats no field name. Validation turns a JSON-like mapping into :class:`PatientFacts` or
raises one :class:`InputError` naming every bad field and what it allows.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

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
        # One check per fact, chosen once by its type: validation runs for every row of an audit.
        self._checkers = {key: _checker(spec) for key, spec in self.specs.items()}

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
        checkers = self._checkers
        for key, value in facts.items():
            check = checkers.get(key) if type(key) is str else None
            if check is None:
                if key == ID_FIELD:
                    if value is not None and (type(value) is not str or not is_text(value)):
                        problems.append(FieldProblem(ID_FIELD, "expected a string of Unicode text"))
                    else:
                        record_id = value
                else:
                    problems.append(FieldProblem(str(key), self._unknown_key(str(key))))
            elif value is None:
                if self.specs[key].world == "closed":
                    problems.append(FieldProblem(key, "null is not allowed for a closed-world fact; expected " + self.specs[key].allowed()))
            else:
                checked = check(value)
                if checked is _NOT_ALLOWED:
                    problems.append(_problem(self.specs[key], value))
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


class _Verdict(enum.Enum):
    NOT_ALLOWED = "not allowed"
    """What a checker returns for a value its fact does not allow."""


_NOT_ALLOWED: Final = _Verdict.NOT_ALLOWED
Checker = Callable[[object], "Value | Literal[_Verdict.NOT_ALLOWED]"]


def _checker(spec: FactSpec) -> Checker:
    """The value if ``spec`` allows it, else _NOT_ALLOWED. Exact JSON types: ``true`` is not
    the integer 1, and 40.0 is not an age; a list becomes a frozenset of its members."""
    if spec.type == "boolean":
        return lambda value: value if value is True or value is False else _NOT_ALLOWED
    if spec.type == "integer":
        low, high = spec.low, spec.high
        assert low is not None and high is not None, f"{spec.key}: an integer fact without a range"
        return lambda value: value if type(value) is int and low <= value <= high else _NOT_ALLOWED
    allowed = frozenset(spec.symbols)
    if spec.type == "enum":
        return lambda value: value if type(value) is str and value in allowed else _NOT_ALLOWED

    def check_list(value: object) -> frozenset[str] | Literal[_Verdict.NOT_ALLOWED]:
        if type(value) is not list:
            return _NOT_ALLOWED
        try:
            members = frozenset(value)
        except TypeError:  # a member that is a list or an object
            return _NOT_ALLOWED
        # Only strings equal the allowed strings, so a number or boolean member fails here too.
        return members if members <= allowed else _NOT_ALLOWED

    return check_list


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


def _problem(spec: FactSpec, value: object) -> FieldProblem:
    """What is wrong with a value ``spec`` does not allow (the first bad member of a list)."""
    if type(value) is list:
        bad = [member for member in value if type(member) is not str or member not in spec.symbols]
        if bad:
            value = bad[0]
    return FieldProblem(spec.key, f"{_show(value)} is not allowed; expected {spec.allowed()}")


SHOWN_TEXT = 60
"""Characters of a bad text value an error message quotes (a long cell is not echoed whole)."""


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if len(value) > SHOWN_TEXT:
            return f"{value[:SHOWN_TEXT]!r}... ({len(value):,} characters)"
        return repr(value)
    return repr(value) if isinstance(value, (int, float)) else type(value).__name__


"""The table of fact types: one class per type the vocabulary declares (``kb/core/inputs.lp``).

Each type does everything the bridge does with a value of that type, in one place, in the
manner of click's ``ParamType``: ``converter`` checks a JSON value and returns it validated
or ``fail``\\ s with what is wrong; ``describe`` says what it allows; ``cell`` reads a CSV
cell; ``encode`` gives the values of its ``given(Key, Value)`` input atoms; ``audit_key``
what of a value the audit's memory of decided inputs keeps; ``from_atoms`` reads a patient
back from a model; ``from_codes`` gives the value that FHIR codes establish; ``show`` writes
an input atom's value for people. Adding a type is a class here and its declaration in
``kb/core/inputs.lp``; no caller switches on a type's name.

Converters are chosen once per fact (:meth:`FactType.converter`): validation runs for every
row of an audit, so a converter is a closure over the fact's bounds, and the cost of ``fail``
is paid only by a bad value.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar, NoReturn

import clingo

from .errors import KnowledgeBaseError

if TYPE_CHECKING:
    from .vocabulary import FactSpec

Value = bool | int | Decimal | str | frozenset[str]
"""A validated value: a boolean, an integer, an exact decimal, a name, or a set of names."""
AtomValue = int | str
"""The value of a ``given(Key, Value)`` input atom, as a plain Python value."""
Converter = Callable[[object], Value]

_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")
_ASCII_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
LIST_SEPARATOR = ";"
EMPTY_LIST = "[]"
"""The CSV cell for an empty list (an empty cell means the fact is absent)."""
SHOWN_TEXT = 60
"""Characters of a bad text value an error message quotes (a long cell is not echoed whole)."""


class FactValueError(ValueError):
    """A value its fact does not allow; the message says what is wrong with it."""


class FactType:
    """One type of patient fact. Subclasses set ``name`` (as ``fact/4`` spells it)."""

    name: ClassVar[str]
    multiple: ClassVar[bool] = False
    """A value is a set of members, one input atom each (and a member may be unknown)."""
    ranged: ClassVar[bool] = False
    """A number with a ``fact_range/3``: the rules compare it only with its parameters, and
    values between two thresholds behave alike."""
    closed_default: ClassVar[str | None] = None
    """What a closed-world fact of this type is when absent ("false", "none"), if it can be closed."""

    @staticmethod
    def fail(message: str) -> NoReturn:
        raise FactValueError(message)

    def converter(self, spec: FactSpec) -> Converter:
        """The function that validates one JSON value of ``spec`` (raising FactValueError)."""
        raise NotImplementedError

    def describe(self, spec: FactSpec) -> str:
        """What ``spec`` allows, for error messages and help (without the world's note)."""
        raise NotImplementedError

    def cell(self, spec: FactSpec) -> Callable[[str], object]:
        """Reads a CSV cell (stripped, not empty) as the JSON value it stands for; text that
        does not read is passed on as it is, so that validation names what is allowed."""
        return str

    def encode(self, spec: FactSpec) -> Callable[[Value], tuple[AtomValue, ...]]:
        """The values of the ``given`` atoms that state a validated value."""
        return _one

    def audit_key(self, spec: FactSpec, interval_starts: Sequence[int] | None) -> Callable[[Value], object] | None:
        """What of a value decides (None: all of it), given the first value of each interval
        between thresholds when the audit may key by interval."""
        return None

    def from_atoms(self, spec: FactSpec, values: Sequence[clingo.Symbol]) -> object:
        """The JSON value of the ``given`` atoms' values of a model."""
        return str(values[0])

    def from_codes(self, spec: FactSpec, values: Collection[str]) -> object | None:
        """The JSON value that coded values establish, or None when they disagree."""
        return next(iter(values)) if len(values) == 1 else None

    def show(self, spec: FactSpec, atom_value: str) -> str:
        """An input atom's value as people read it."""
        return atom_value

    def quote(self, spec: FactSpec, number: int) -> str:
        """A parameter's value (as the rules compare it) as a sentence quotes it."""
        return str(number)

    def not_allowed(self, value: object, spec: FactSpec) -> NoReturn:
        """Fail for ``value``, naming its JSON type when that is what is wrong."""
        self.fail(f"{given(value)}; expected {spec.allowed()}")


def _one(value: Value) -> tuple[AtomValue, ...]:
    return (value,)  # type: ignore[return-value]


class BooleanType(FactType):
    name = "boolean"
    closed_default = "false"

    def converter(self, spec: FactSpec) -> Converter:
        def convert(value: object) -> Value:
            if value is True or value is False:
                return value
            self.not_allowed(value, spec)

        return convert

    def describe(self, spec: FactSpec) -> str:
        return "true or false"

    def cell(self, spec: FactSpec) -> Callable[[str], object]:
        booleans = {"true": True, "false": False}
        return lambda text: booleans.get(text.lower(), text)

    def encode(self, spec: FactSpec) -> Callable[[Value], tuple[AtomValue, ...]]:
        return lambda value: ("true",) if value else ("false",)

    def from_atoms(self, spec: FactSpec, values: Sequence[clingo.Symbol]) -> object:
        return str(values[0]) == "true"

    def from_codes(self, spec: FactSpec, values: Collection[str]) -> object | None:
        return next(iter(values)) == "true" if len(values) == 1 else None


class IntegerType(FactType):
    """A whole number in a declared range: exact JSON integers only (``true`` is not 1, 40.0
    is not an age), and in a CSV cell ASCII digits only (``١٠`` is no age)."""

    name = "integer"
    ranged = True

    def converter(self, spec: FactSpec) -> Converter:
        low, high = _range(spec)

        def convert(value: object) -> Value:
            if type(value) is int and low <= value <= high:
                return value
            self.not_allowed(value, spec)

        return convert

    def describe(self, spec: FactSpec) -> str:
        return f"an integer from {spec.low} to {spec.high}"

    def cell(self, spec: FactSpec) -> Callable[[str], object]:
        return _integer_or_text

    def audit_key(self, spec: FactSpec, interval_starts: Sequence[int] | None) -> Callable[[Value], object] | None:
        return None if interval_starts is None else functools.partial(bisect.bisect_right, interval_starts)

    def from_atoms(self, spec: FactSpec, values: Sequence[clingo.Symbol]) -> object:
        return values[0].number


class DecimalType(FactType):
    """An exact decimal with a declared scale (digits after the point) and unit, in ASP a
    scaled integer (26.9 at scale 1 is 269), so that 26.9 and 27.0 never round together.
    JSON numbers arrive as Decimal from their text (``json_input``), never through a float;
    a value with more digits after the point than the scale is refused, not rounded. A float
    (from a Python caller or a YAML case file) is read as its shortest repr, the digits it
    was written with: 26.9 is 26.9, never 26.89999999999999857891452847979962825775146484375."""

    name = "decimal"
    ranged = True

    def converter(self, spec: FactSpec) -> Converter:
        low, high = _range(spec)
        scale = _scale(spec)
        lowest, highest = _unscaled(low, scale), _unscaled(high, scale)

        def convert(value: object) -> Value:
            if type(value) is float:
                value = Decimal(repr(value))
            # Bounds before scaling: 1e999999999 is out of range, not a billion-digit integer.
            if (type(value) is int or type(value) is Decimal and value.is_finite()) and lowest <= value <= highest:
                exponent = Decimal(value).as_tuple().exponent
                assert isinstance(exponent, int)
                if -exponent > scale:
                    self.fail(f"{value} has {-exponent} digits after the point; expected {spec.allowed()}")
                return _unscaled(int(Decimal(value).scaleb(scale)), scale)  # one spelling: 27 is 27.0
            self.not_allowed(value, spec)

        return convert

    def describe(self, spec: FactSpec) -> str:
        low, high = _range(spec)
        scale = _scale(spec)
        unit = f" {spec.unit}" if spec.unit else ""
        digits = "digit" if scale == 1 else "digits"
        return f"a number from {_unscaled(low, scale)} to {_unscaled(high, scale)}{unit}, with at most {scale} {digits} after the point"

    def cell(self, spec: FactSpec) -> Callable[[str], object]:
        return lambda text: Decimal(text) if _ASCII_DECIMAL.fullmatch(text) else text

    def encode(self, spec: FactSpec) -> Callable[[Value], tuple[AtomValue, ...]]:
        scale = _scale(spec)
        return lambda value: (int(value.scaleb(scale)),)  # type: ignore[union-attr]

    def audit_key(self, spec: FactSpec, interval_starts: Sequence[int] | None) -> Callable[[Value], object] | None:
        if interval_starts is None:
            return None
        scale, starts = _scale(spec), interval_starts
        return lambda value: bisect.bisect_right(starts, int(value.scaleb(scale)))  # type: ignore[union-attr]

    def from_atoms(self, spec: FactSpec, values: Sequence[clingo.Symbol]) -> object:
        # JSON output has no exact decimal: a float of at most 15 digits prints as written.
        return float(_unscaled(values[0].number, _scale(spec)))

    def quote(self, spec: FactSpec, number: int) -> str:
        return str(_unscaled(number, _scale(spec)))

    def show(self, spec: FactSpec, atom_value: str) -> str:
        if not _ASCII_INTEGER.fullmatch(atom_value):
            return atom_value
        return str(_unscaled(int(atom_value), _scale(spec))) + (f" {spec.unit}" if spec.unit else "")


class EnumType(FactType):
    name = "enum"

    def converter(self, spec: FactSpec) -> Converter:
        allowed = frozenset(spec.symbols)

        def convert(value: object) -> Value:
            if type(value) is str and value in allowed:
                return value
            self.not_allowed(value, spec)

        return convert

    def describe(self, spec: FactSpec) -> str:
        return "one of " + ", ".join(spec.values)


class ListType(FactType):
    """A set of names, given as a JSON list of strings (in CSV, separated by ``;``)."""

    name = "list"
    multiple = True
    closed_default = "none"

    def converter(self, spec: FactSpec) -> Converter:
        allowed = frozenset(spec.symbols)

        def convert(value: object) -> Value:
            if type(value) is list:
                try:
                    members = frozenset(value)
                except TypeError:  # a member that is a list or an object
                    members = None
                # Only strings equal the allowed strings, so a number or boolean fails here too.
                if members is not None and members <= allowed:
                    return members
                bad = next(member for member in value if type(member) is not str or member not in allowed)
                self.fail(f"{_member(bad)}; expected {spec.allowed()}")
            self.not_allowed(value, spec)

        return convert

    def describe(self, spec: FactSpec) -> str:
        return "a list of " + ", ".join(spec.values)

    def cell(self, spec: FactSpec) -> Callable[[str], object]:
        return lambda text: [] if text == EMPTY_LIST else [member.strip() for member in text.split(LIST_SEPARATOR)]

    def encode(self, spec: FactSpec) -> Callable[[Value], tuple[AtomValue, ...]]:
        return tuple  # type: ignore[return-value]

    def from_atoms(self, spec: FactSpec, values: Sequence[clingo.Symbol]) -> object:
        return sorted(str(value) for value in values)

    def from_codes(self, spec: FactSpec, values: Collection[str]) -> object | None:
        return sorted(values)


FACT_TYPES: dict[str, FactType] = {kind.name: kind() for kind in (BooleanType, IntegerType, DecimalType, EnumType, ListType)}
"""Every fact type by the name ``fact/4`` declares it with."""


def fact_type(name: str, key: str = "?") -> FactType:
    """The type named ``name``; a knowledge-base fault when the bridge has no such type."""
    found = FACT_TYPES.get(name)
    if found is None:
        raise KnowledgeBaseError(f"fact {key} has type {name}, which is not a fact type: expected one of {', '.join(FACT_TYPES)}")
    return found


def check_types(declared: set[str], ranged: set[str], multiple: set[str]) -> None:
    """The KB's ``fact_type/1``, ``ranged_type/1`` and ``multiple_type/1`` (kb/core/inputs.lp)
    must be this table: a type on one side only is a knowledge-base fault."""
    if not declared:
        return  # a program without the core's inputs.lp (a fragment, in tests)
    problems = []
    if declared != set(FACT_TYPES):
        problems.append(f"fact_type/1 declares {', '.join(sorted(declared))}; the bridge has {', '.join(sorted(FACT_TYPES))}")
    for what, kb, table in (
        ("ranged_type/1", ranged, {n for n, t in FACT_TYPES.items() if t.ranged}),
        ("multiple_type/1", multiple, {n for n, t in FACT_TYPES.items() if t.multiple}),
    ):
        if kb != table:
            problems.append(f"{what} declares {', '.join(sorted(kb)) or 'none'}; the bridge has {', '.join(sorted(table)) or 'none'}")
    if problems:
        raise KnowledgeBaseError("the fact types of kb/core/inputs.lp and pyclingo_bridge/fact_types.py differ: " + "; ".join(problems))


def given(value: object) -> str:
    """What was given, for a message: the value itself, or the JSON type of a container."""
    container = _container(value)
    return f"{container} was given" if container else f"{show_value(value)} is not allowed"


def json_value(value: Value) -> object:
    """A validated value as JSON writes it: a set as a sorted list, a decimal as a number
    (a float of at most 15 significant digits prints as the decimal's digits)."""
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _member(value: object) -> str:
    if value is None:
        return "a list member cannot be null"
    container = _container(value)
    return f"a list member cannot be {container}" if container else f"list member {show_value(value)} is not allowed"


def _container(value: object) -> str | None:
    """A JSON array or object as a message names it ("a list", "an object"); None otherwise."""
    if type(value) is list:
        return "a list"
    return "an object" if type(value) is dict else None


def show_value(value: object) -> str:
    """A JSON value as a message quotes it (a long text is cut)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if len(value) > SHOWN_TEXT:
            return f"{value[:SHOWN_TEXT]!r}... ({len(value):,} characters)"
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    return repr(value) if isinstance(value, (int, float)) else type(value).__name__


def _range(spec: FactSpec) -> tuple[int, int]:
    if spec.low is None or spec.high is None:
        raise KnowledgeBaseError(f"{spec.key}: a {spec.type} fact without a fact_range/3")
    return spec.low, spec.high


def _scale(spec: FactSpec) -> int:
    if spec.scale is None:
        raise KnowledgeBaseError(f"{spec.key}: a decimal fact without a fact_scale/2")
    return spec.scale


def _unscaled(scaled: int, scale: int) -> Decimal:
    return Decimal(scaled).scaleb(-scale)


def _integer_or_text(text: str) -> int | str:
    if _ASCII_INTEGER.fullmatch(text):
        try:
            return int(text)
        except ValueError:  # more digits than int() converts: far out of any range
            pass
    return text

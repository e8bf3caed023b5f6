"""A row's input class as one integer, from validated facts or straight from a parsed row.

``classes.py`` derives which distinctions of each fact a rule can observe. Here each fact's
classes are numbered (0: not given; and, where the answers read leave a closed-world
default out of account, given as that default), and a row's class is the mixed-radix number
of its facts' digits in vocabulary order. One int is cheap to hash and to save, and the same
in every run, so a saved table can be keyed by it.

Two inputs have the same code exactly when :meth:`InputClasses.key` gives them the same key
(``tests/test_class_codes.py``). :meth:`ClassCodes.of_row` reads a parsed JSON object (or
CSV record) without building :class:`PatientFacts`: it runs each fact's own converter, the
one :meth:`Vocabulary.validate` runs, and gives up (None) on anything else (an unknown
field, a null of a closed-world fact, a ``request_date``, a bad value), which the caller
then validates the full way, so that a bad row gets validation's own error. A list known
only in part has no code.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .classes import InputClasses
from .fact_types import FactValueError, Value
from .vocabulary import ID_FIELD, FactSpec, PatientFacts, Vocabulary, is_text

Digit = Callable[[Any], int]
"""A fact's validated value to its digit, already multiplied by the fact's place value."""


MEMO_LIMIT = 65536
"""Lists (as given, member order kept) and decimals (by their text) whose digits a process
remembers, per fact."""
TABULATED_RANGE = 100_000
"""Integers of a range up to this wide have every value's digit in a table."""


class ClassCodes:
    """The class codes of one policy's inputs, for answers that read what ``classes`` was
    derived for."""

    def __init__(self, classes: InputClasses, vocabulary: Vocabulary, default_is_absent: bool) -> None:
        """``default_is_absent``: a closed-world default given explicitly (false, the empty
        list) has the code of leaving it out, as ``classes`` keys it for an audit row."""
        self._digits: dict[str, Digit] = {}
        self._readers: dict[str, _Reader] = {}
        """Each fact's reading of a raw value: the type validation accepts as it is, and the
        placed digit of each such value (a list's remembered as they come)."""
        self._open: set[str] = set()
        self.places: dict[str, tuple[int, int]] = {}
        """Each fact's place value and radix in a code, in vocabulary order."""
        self.size = 1
        """How many codes there are: the product of every fact's radix."""
        for key, spec in vocabulary.specs.items():
            digit, radix = _digit(spec, classes, default_is_absent and spec.world == "closed" and spec.fact_type.closed_default is not None)
            placed = _placed(digit, self.size)
            self._digits[key] = placed
            self._readers[key] = _reader(spec, placed)
            if spec.world == "open":
                self._open.add(key)
            self.places[key] = (self.size, radix)
            self.size *= radix

    def of_facts(self, facts: PatientFacts) -> int | None:
        """The code of validated facts; None for a list known only in part."""
        if facts.at_least:
            return None
        digits = self._digits
        return sum(digits[key](value) for key, value in facts.given.items())

    def of_row(self, row: Mapping[str, object]) -> tuple[int, str | None] | None:
        """The code and id of a parsed row that validation would accept as it is, without
        validating it; None for any other row (validate it to find out)."""
        code = 0
        record_id: str | None = None
        readers = self._readers
        try:
            for key, value in row.items():
                reader = readers.get(key)
                if reader is None:
                    if key == ID_FIELD and (value is None or type(value) is str and is_text(value)):
                        record_id = value
                        continue
                    return None
                kind, parts, read = reader
                if value.__class__ is kind:
                    if kind is list:
                        value = tuple(value)  # type: ignore[arg-type]
                    part = parts.get(value)
                    if part is None:
                        if read is None:
                            return None  # a value validation refuses, or names otherwise
                        part = read(value)
                        if len(parts) < MEMO_LIMIT:
                            parts[value] = part
                    code += part
                elif value is None:
                    if key not in self._open:
                        return None
                elif kind is None and read is not None:
                    code += read(value)
                else:
                    return None
        except (FactValueError, TypeError):  # TypeError: a list holding a list or an object
            return None
        return code, record_id


_Reader = tuple["type | None", dict[object, int], "Digit | None"]
"""The type a raw value must have (None: any, read by the converter), the placed digit of
values of that type, and how to read one not in the table (None: validation refuses it)."""


def _reader(spec: FactSpec, placed: Digit) -> _Reader:
    """How ``of_row`` reads a raw value of this fact: the values validation keeps as they
    are, tabulated (a JSON integer is an int, never a bool, and a boolean a bool, never 1);
    a list by its members as given, read through the converter once; any other (a decimal)
    through the converter each time, but never a float."""
    convert = spec.fact_type.converter(spec)
    if spec.type == "boolean":
        return bool, {True: placed(True), False: placed(False)}, None
    if spec.type == "enum":
        return str, {value: placed(value) for value in spec.values}, None
    if spec.type == "integer" and spec.low is not None and spec.high is not None and spec.high - spec.low <= TABULATED_RANGE:
        return int, {value: placed(value) for value in range(spec.low, spec.high + 1)}, None
    if spec.type == "list":
        return list, {}, lambda members: placed(convert(list(members)))
    return None, {}, _exact_reader(convert, placed)


def _exact_reader(convert: Callable[[object], Value], placed: Digit) -> Digit:
    """A decimal's reader: through its converter, remembered by the number's text (which
    tells 28.4 from 28.40, equal as Decimals but not alike to validation). A float is what
    the fast reader made of a fraction, and only the strict one reads it exactly."""
    seen: dict[str, int] = {}

    def read(value: object) -> int:
        if value.__class__ is float:
            raise FactValueError("a fraction read through a float")
        text = str(value)
        part = seen.get(text)
        if part is None:
            part = placed(convert(value))
            if len(seen) < MEMO_LIMIT:
                seen[text] = part
        return part

    return read


def _placed(digit: Digit, place: int) -> Digit:
    return lambda value: digit(value) * place


def _digit(spec: FactSpec, classes: InputClasses, default_is_absent: bool) -> tuple[Digit, int]:
    """A fact's digit of a validated value (1 and up; 0 is "not given") and its radix."""
    key = spec.key
    if spec.fact_type.ranged:
        starts = classes.interval_starts.get(key)
        scaled = _scaled(spec)
        if starts is None:  # no threshold known: every value its own class
            low, high = spec.low or 0, spec.high or 0
            return (lambda value: scaled(value) - low + 1), high - low + 2
        return (lambda value: bisect.bisect_right(starts, scaled(value))), len(starts) + 1
    groups = classes.classes[key]
    if spec.type == "list":
        return _list_digit(groups, classes.saturated.get(key, ()), default_is_absent)
    index: dict[object, int] = {value: position for position, group in enumerate(groups) for value in group}
    if len(groups) <= 1:
        return (lambda value: 1), 2
    if spec.type == "boolean":  # validated as True or False, which no text equals
        index.update({True: index["true"], False: index["false"]})
    if default_is_absent:  # a boolean given false is its default: absent
        return (lambda value: 0 if value is False else 1 + index[value]), len(groups) + 1
    return (lambda value: 1 + index[value]), len(groups) + 1


def _list_digit(groups: Sequence[Sequence[str]], saturated: Sequence[bool], default_is_absent: bool) -> tuple[Digit, int]:
    """A list's digit: how many members of each class it holds, or for a saturated class only
    whether it holds any, as a mixed-radix number; 1 + that (0 is "not given")."""
    weights: dict[str, int] = {}
    any_of: dict[str, int] = {}
    radix = 1
    for position, group in enumerate(groups):
        cap = 1 if position < len(saturated) and saturated[position] else len(group)
        for member in group:
            (any_of if cap == 1 and len(group) > 1 else weights)[member] = radix
        radix *= cap + 1

    def digit(members: frozenset[str]) -> int:
        if not members and default_is_absent:
            return 0
        counted = sum(weights[m] for m in members if m in weights)
        present = {any_of[m] for m in members if m in any_of}
        return 1 + counted + sum(present)

    return digit, radix + 1


def _scaled(spec: FactSpec) -> Callable[[Any], int]:
    if spec.type == "decimal":
        scale = spec.scale or 0
        return lambda value: int(value.scaleb(scale))
    return int

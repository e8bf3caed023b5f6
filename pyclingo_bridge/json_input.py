"""JSON input as the contract reads it: a key given twice is an error, never a silent overwrite.

One reader serves every front end (``query``, ``audit``, the CDS Hooks service), each of which
words the error for its own users. Besides duplicate keys it refuses what is not JSON although
Python's json module reads it (``NaN``, ``Infinity``), and turns what json.loads fails on
without a JSONDecodeError (deep nesting, a number of too many digits) into one.

A duplicate key is named by its path from the top of the document, JSON-path-like:

* a key at the top is written as it is: ``age``;
* a key inside an object follows its parent after a dot, an index in a list in brackets:
  ``red_flags[0].code``, ``a.b``;
* a key that is not a plain name (letters, digits and ``_``, not starting with a digit) is
  written as a JSON string in brackets: ``a["b c"]``, ``[""]``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any


class DuplicateKeyError(ValueError):
    """A JSON object gives a key more than once: ``key`` is its path (see above), ``path``
    the keys and list indices that lead to it."""

    def __init__(self, path: tuple[str | int, ...]) -> None:
        self.path = path
        self.key = json_path(path)
        super().__init__(f"key {self.key!r} given more than once")


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def json_path(path: tuple[str | int, ...]) -> str:
    """A path of keys and list indices in the notation above."""
    parts: list[str] = []
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif not _PLAIN_NAME.fullmatch(step):
            parts.append(f"[{json.dumps(step, ensure_ascii=False)}]")
        else:
            parts.append(f".{step}" if parts else step)
    if len(path) == 1 and isinstance(path[0], str):
        return path[0]  # a top-level key is the field name itself
    return "".join(parts)


class _Repeated(dict):  # type: ignore[type-arg]
    """An object decoded from members that give ``repeated`` twice (only while locating it)."""

    repeated: str | None = None


def _mark_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = _Repeated(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                result.repeated = key
                break
            seen.add(key)
    return result


def _first_duplicate(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """The path of the first repeated key in ``value`` (decoded with _mark_duplicates), top down."""
    if isinstance(value, _Repeated):
        if value.repeated is not None:
            return (*path, value.repeated)
        children: Any = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return None
    for step, child in children:
        found = _first_duplicate(child, (*path, step))
        if found is not None:
            return found
    return None


def reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for json: the object, or DuplicateKeyError (naming the key alone:
    a hook does not know where its object is; :func:`loads_strict` gives the whole path)."""
    result = dict(pairs)
    if len(result) != len(pairs):  # rare: find which key came twice
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError((key,))
            seen.add(key)
    return result


class _NotJSON(ValueError):
    """A constant Python's json reads but JSON does not have."""


def _no_constant(name: str) -> None:
    raise _NotJSON(f"{name} is not a JSON number")


# A number with a fraction or exponent is read as a Decimal from its text, never through a
# float: a decimal fact compares exactly (26.9 is not 26.900000000000002), see fact_types.
STRICT_DECODER = json.JSONDecoder(object_pairs_hook=reject_duplicates, parse_constant=_no_constant, parse_float=Decimal)
"""A decoder to reuse (``json.loads`` with a hook builds a new one per call)."""

_LOCATING_DECODER = json.JSONDecoder(object_pairs_hook=_mark_duplicates, parse_constant=_no_constant, parse_float=Decimal)
_PLAIN_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=Decimal)
_scan: Callable[[str, int], tuple[Any, int]] = _PLAIN_DECODER.scan_once  # type: ignore[attr-defined]
"""The C scanner: one value from a position, without the whitespace checks around it."""


def loads_strict(text: str) -> Any:
    """``json.loads``, but a key given twice raises DuplicateKeyError naming its path,
    ``NaN`` and ``Infinity`` are not JSON, and text json.loads fails on without a
    JSONDecodeError (nesting deeper than the interpreter's recursion limit, an integer of
    more digits than it converts) raises a JSONDecodeError too, worded for users.

    Every member of every object in the text puts one colon in it (colons inside strings
    only add more), so when the text decodes to an object with as many members as the
    text has colons, no key can have come twice, at the top or nested. That holds for
    almost every row of an extract, and then the C decoder alone has done the work; any
    other text is decoded again with the hook (``audit`` decodes one object per row).
    """
    try:
        try:
            value, end = _scan(text, 0)
        except StopIteration:  # no value at the start: whitespace first, or an empty text
            end = -1
        if end != len(text):  # whitespace around the value, or an error worded as json.loads words it
            value = _PLAIN_DECODER.decode(text)
        if type(value) is dict and text.count(":") == len(value):
            return value
        return STRICT_DECODER.decode(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, 0) from None
    except DuplicateKeyError as error:
        raise _located(text, error) from None
    except json.JSONDecodeError:
        raise
    except _NotJSON as error:
        raise json.JSONDecodeError(str(error), text, _constant_position(text)) from None
    except ValueError as error:  # int() refuses a number of more than sys.get_int_max_str_digits() digits
        limit = sys.get_int_max_str_digits()
        long_number = re.search(rf"\d{{{limit + 1},}}", text) if limit else None
        if long_number is None:
            raise json.JSONDecodeError(str(error), text, 0) from None
        raise json.JSONDecodeError(f"a number too long to read: more than {limit:,} digits", text, long_number.start()) from None


def _located(text: str, error: DuplicateKeyError) -> DuplicateKeyError:
    """The duplicate key with its whole path: the text is decoded again, marking objects."""
    try:
        path = _first_duplicate(_LOCATING_DECODER.decode(text.strip()))
    except (ValueError, RecursionError):  # the text goes wrong after the duplicate: name the key alone
        return error
    return DuplicateKeyError(path) if path else error


_CONSTANT_OR_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)')


def _constant_position(text: str) -> int:
    """Where the first NaN or Infinity outside a string is (0 if none is found)."""
    for match in _CONSTANT_OR_STRING.finditer(text):
        if match.group(1):
            return match.start(1)
    return 0

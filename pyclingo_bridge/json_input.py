"""JSON input as the contract reads it: a key given twice is an error, never a silent overwrite.

One hook serves every front end (``query``, ``audit``, the CDS Hooks service), each of which
words the error for its own users.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any


class DuplicateKeyError(ValueError):
    """A JSON object gives ``key`` more than once."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key {key!r} given more than once")
        self.key = key


def reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for json: the object, or DuplicateKeyError."""
    result = dict(pairs)
    if len(result) != len(pairs):  # rare: find which key came twice
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)
    return result


# A number with a fraction or exponent is read as a Decimal from its text, never through a
# float: a decimal fact compares exactly (26.9 is not 26.900000000000002), see fact_types.
STRICT_DECODER = json.JSONDecoder(object_pairs_hook=reject_duplicates, parse_float=Decimal)
"""A decoder to reuse (``json.loads`` with a hook builds a new one per call)."""

_PLAIN_DECODER = json.JSONDecoder(parse_float=Decimal)
_scan: Callable[[str, int], tuple[Any, int]] = _PLAIN_DECODER.scan_once  # type: ignore[attr-defined]
"""The C scanner: one value from a position, without the whitespace checks around it."""


def loads_strict(text: str) -> Any:
    """``json.loads``, but a key given twice raises DuplicateKeyError, and text json.loads
    fails on without a JSONDecodeError (nesting deeper than the interpreter's recursion
    limit, an integer of more digits than it converts) raises a JSONDecodeError too.

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
    except (json.JSONDecodeError, DuplicateKeyError):
        raise
    except ValueError as error:  # int() refuses a number of more than sys.get_int_max_str_digits() digits
        limit = sys.get_int_max_str_digits()
        long_number = re.search(rf"\d{{{limit + 1},}}", text) if limit else None
        if long_number is None:
            raise json.JSONDecodeError(str(error), text, 0) from None
        raise json.JSONDecodeError(f"a number of more than {limit:,} digits", text, long_number.start()) from None

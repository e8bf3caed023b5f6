"""Law: ``loads_strict`` is ``json.loads`` except that an object giving a key twice is an error,
at any depth, whatever its fast path (a colon count) makes of the text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyclingo_bridge.json_input import DuplicateKeyError, loads_strict

# Keys and strings full of colons, quotes and escapes: the fast path counts colons in the text.
TEXT = st.text(alphabet=st.sampled_from(['a', 'b', ':', '"', '\\', ' ', 'é', '{', '}']), max_size=4)
SCALARS = st.none() | st.booleans() | st.integers(-10**6, 10**6) | TEXT


def _objects(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A JSON object as its list of members, so that a key may come twice."""
    return st.lists(st.tuples(st.sampled_from(["a", "b", "a:b", "c"]), children), max_size=4).map(_Members)


class _Members(list):  # type: ignore[type-arg]
    """An object's members in order, duplicates kept."""


VALUES = st.recursive(SCALARS, lambda children: st.lists(children, max_size=3) | _objects(children), max_leaves=12)


def _text(value: Any, spaced: bool) -> str:
    colon = " : " if spaced else ":"
    if isinstance(value, _Members):
        return "{" + ", ".join(json.dumps(key) + colon + _text(child, spaced) for key, child in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_text(child, spaced) for child in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _repeats_a_key(value: Any) -> bool:
    if isinstance(value, _Members):
        keys = [key for key, _ in value]
        return len(set(keys)) < len(keys) or any(_repeats_a_key(child) for _, child in value)
    if isinstance(value, list):
        return any(_repeats_a_key(child) for child in value)
    return False


PADDING = st.sampled_from(["", " ", "\n", "\r\n", " \t"])


@given(value=_objects(VALUES), spaced=st.booleans(), before=PADDING, after=PADDING)
def test_duplicate_key_is_an_error_at_any_depth_and_otherwise_json_loads(value: Any, spaced: bool, before: str, after: str) -> None:
    text = before + _text(value, spaced) + after
    if _repeats_a_key(value):
        with pytest.raises(DuplicateKeyError):
            loads_strict(text)
    else:
        assert loads_strict(text) == json.loads(text)


@given(value=VALUES)
def test_any_json_value_without_repeats_reads_as_json_loads(value: Any) -> None:
    text = _text(value, False)
    if not _repeats_a_key(value):
        assert loads_strict(text) == json.loads(text)


@pytest.mark.parametrize("text", ['{"age": ', "", " ", '{"age": 1} x', ' {"age": 1', "[1,]", '{"a": 1}{'])
def test_invalid_json_is_the_error_json_loads_gives(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as error:
        loads_strict(text)
    assert (error.value.msg, error.value.pos) == (expected.value.msg, expected.value.pos)


TOO_MUCH = [
    ("nested too deeply", "[" * 100_000 + "]" * 100_000, "nested too deeply", 1),
    ("a number of more digits than int() converts", '{"age": ' + "9" * 5000 + "}", "a number too long to read (more than 4,300 digits)", 9),
]


@pytest.mark.parametrize(("text", "message", "column"), [t[1:] for t in TOO_MUCH], ids=[t[0] for t in TOO_MUCH])
def test_what_json_loads_fails_on_without_a_decode_error_is_a_decode_error(text: str, message: str, column: int) -> None:
    """json.loads raises RecursionError or a bare ValueError for these: every front end words
    a JSONDecodeError for its users, so these are one too (they were tracebacks in query)."""
    with pytest.raises(json.JSONDecodeError) as error:
        loads_strict(text)
    assert (error.value.msg, error.value.colno) == (message, column)

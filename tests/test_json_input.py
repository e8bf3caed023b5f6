"""Law: ``loads_strict`` is ``json.loads`` except that an object giving a key twice is an error,
at any depth, whatever its fast path (a colon count) makes of the text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from pyclingo_bridge.cli import main
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
    ("a number of more digits than int() converts", '{"age": ' + "9" * 5000 + "}", "a number too long to read: more than 4,300 digits", 9),
]


@pytest.mark.parametrize(("text", "message", "column"), [t[1:] for t in TOO_MUCH], ids=[t[0] for t in TOO_MUCH])
def test_what_json_loads_fails_on_without_a_decode_error_is_a_decode_error(text: str, message: str, column: int) -> None:
    """json.loads raises RecursionError or a bare ValueError for these: every front end words
    a JSONDecodeError for its users, so these are one too (they were tracebacks in query)."""
    with pytest.raises(json.JSONDecodeError) as error:
        loads_strict(text)
    assert (error.value.msg, error.value.colno) == (message, column)


DUPLICATES = [
    # name, text, the path of the key given twice
    ("at the top", '{"age": 1, "age": 2}', "age", ("age",)),
    ("in an object", '{"a": {"b": 1, "b": 2}}', "a.b", ("a", "b")),
    ("in an object in a list", '{"age": 40, "red_flags": [{"code": 1, "code": 2}]}', "red_flags[0].code", ("red_flags", 0, "code")),
    ("in the second member of a list", '{"x": [{}, [{"c": 1, "c": 2}]]}', "x[1][0].c", ("x", 1, 0, "c")),
    ("keys that are not plain names", '{"a b": {"": 1, "": 2}}', '["a b"][""]', ("a b", "")),
    ("a key that is no name at the top", '{"1": 1, "1": 2}', "1", ("1",)),
    ("a top-level list", '[0, {"k": 1, "k": 2}]', "[1].k", (1, "k")),
    ("with whitespace around", ' \n{"a": {"b": 1, "b": 2}}\n', "a.b", ("a", "b")),
    ("the outer one first", '{"a": {"b": 1, "b": 2}, "a": 3}', "a", ("a",)),
]


@pytest.mark.parametrize(("text", "key", "path"), [d[1:] for d in DUPLICATES], ids=[d[0] for d in DUPLICATES])
def test_a_duplicate_key_is_named_by_its_exact_path(text: str, key: str, path: tuple[str | int, ...]) -> None:
    """The fault: a duplicate nested in a value was named as if it were a top-level key."""
    with pytest.raises(DuplicateKeyError) as raised:
        loads_strict(text)
    assert (raised.value.key, raised.value.path) == (key, path)


NOT_JSON_CONSTANTS = [("NaN", '{"age": NaN}', 9), ("Infinity", '{"a": "NaN", "age": Infinity}', 21), ("-Infinity", "[-Infinity]", 2)]


@pytest.mark.parametrize(("text", "column"), [c[1:] for c in NOT_JSON_CONSTANTS], ids=[c[0] for c in NOT_JSON_CONSTANTS])
def test_nan_and_infinity_are_not_json(text: str, column: int) -> None:
    """Python's json reads them; JSON has no such numbers (the CDS service refused them; now
    every front end does, through this reader)."""
    with pytest.raises(json.JSONDecodeError) as raised:
        loads_strict(text)
    constant = text[column - 1 :].split("]")[0].split("}")[0]
    assert (raised.value.msg, raised.value.colno) == (f"{constant} is not a JSON number", column)


NESTED = '{"age": 40, "red_flags": [{"code": 1, "code": 2}]}'


def test_query_names_the_path_of_a_nested_duplicate() -> None:
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", "-"], input=NESTED)
    assert (result.exit_code, result.stderr) == (1, "Error: invalid input: red_flags[0].code: given more than once\n")


def test_audit_names_the_path_of_a_nested_duplicate() -> None:
    result = CliRunner().invoke(main, ["audit", "--policy", "CMICB_Clin086", "-"], input=NESTED + "\n")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "row": 1, "id": 1, "error": "row 1: red_flags[0].code: given more than once", "fields": ["red_flags[0].code"]
    }

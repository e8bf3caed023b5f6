"""Audit output lines: one JSON record per line, whatever a line-splitting reader cuts at."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pyclingo_bridge.audit import AuditSettings, audit

from .conftest import POLICY, patient

BREAKS = ["\x85", "\u2028", "\u2029"]
"""What str.splitlines cuts at that json.dumps leaves raw (it escapes \\n, \\r and the C0 controls)."""


def _audit(text: str, input_format: str = "jsonl") -> str:
    out = io.StringIO()
    audit(io.StringIO(text), AuditSettings(POLICY, input_format=input_format), out.write, jobs=1)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.mark.parametrize("character", BREAKS, ids=["U+0085", "U+2028", "U+2029"])
def test_a_line_break_in_an_id_is_escaped(character: str) -> None:
    record_id = f"a{character}b"
    output = _audit(json.dumps({"id": record_id, **patient()}, ensure_ascii=False) + "\n")
    assert character not in output
    (line,) = output.splitlines()
    assert json.loads(line)["id"] == record_id and json.loads(line)["status"] == "commissioned"


@pytest.mark.parametrize("character", BREAKS, ids=["U+0085", "U+2028", "U+2029"])
def test_a_line_break_in_an_unknown_key_is_escaped_in_its_error_row(character: str) -> None:
    """The flaky fuzz example: ``{"\\x85": 40}`` wrote a raw U+0085 into its error row."""
    output = _audit(f'{{"{character}": 40}}\n')
    assert character not in output
    (line,) = output.splitlines()
    assert json.loads(line)["fields"] == [character]


def test_a_line_break_in_a_csv_id_is_escaped() -> None:
    output = _audit("id,age\na\u2028b,40\n", "csv")
    (line,) = output.splitlines()
    assert json.loads(line)["id"] == "a\u2028b"


@settings(max_examples=40, deadline=None)
@given(st.text(st.sampled_from(["a", "é", " ", '"', "\\", *BREAKS]), max_size=6))
@example("\x85")
def test_every_row_is_one_line_for_str_splitlines(text: str) -> None:
    rows = [json.dumps({"id": text, **patient()}, ensure_ascii=False), json.dumps({text: 1}, ensure_ascii=False)]
    output = _audit("".join(row + "\n" for row in rows))
    assert output.splitlines() == output.split("\n")[:-1]
    assert [json.loads(line)["row"] for line in output.splitlines()] == [1, 2]

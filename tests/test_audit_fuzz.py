"""Law (principle 4, nothing lost): whatever text an extract holds, the audit writes one
line per row, each a decision or an error naming the row, and never stops with an exception.

Output lines are split on "\n" only, as JSONL defines them: a reader that also splits on
U+0085, U+2028 or U+2029 (``str.splitlines``) is safe too, since the audit escapes them
(``tests/test_audit_output.py``), but the law is about the format."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pyclingo_bridge import InputError
from pyclingo_bridge.audit import AuditSettings, audit
from pyclingo_bridge.text_input import utf16_hint

from .conftest import POLICY

KEYS = st.sampled_from(["id", "age", "setting", "red_flags", "sciatica", "ifr_approved", "colour", ""]) | st.text(max_size=4)
# JSON values as text: allowed, not allowed, out of any range, malformed, not UTF-8.
# Values past the limits of the JSON reader or of int() have a branch of their own, so that
# most examples meet one.
VALUES = (
    st.sampled_from(["9" * 5000, "[" * 3000 + "]" * 3000, "4.5e400", "NaN", '"\\ud800"'])
    | st.sampled_from(["40", "-1", "true", "null", '"mcas"', '["cauda_equina"]', '["x", 1]', "{}", '"', "[", ""])
    | st.text(max_size=4)
)
JSONL_LINES = st.lists(st.tuples(KEYS, VALUES), max_size=6).map(
    lambda members: "{" + ", ".join(f'"{key}": {value}' for key, value in members) + "}"
) | st.text(max_size=20)
# CSV cells: typed by the header below (id, age, setting, red_flags), or not.
CELLS = (
    st.sampled_from(["9" * 5000, "x" * 200_000, '"', "\x00", "\ud800"])
    | st.sampled_from(["r1", "40", "-1", "mcas", "", "[]", "cauda_equina;itch", '"a,b"', "TRUE"])
    | st.text(max_size=4)
)
# Mostly records of the header's four cells, so that their cells get typed and validated.
CSV_LINES = (st.lists(CELLS, min_size=4, max_size=4) | st.lists(CELLS, max_size=6)).map(",".join)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read(text: str) -> io.StringIO:
    """The text as the CLI reads a file: a line ends at \\n, \\r\\n or \\r."""
    return io.StringIO(text, newline=None)


def _audited(text: str, input_format: str) -> list[dict[str, object]]:
    out = io.StringIO()
    tally = audit(_read(text), AuditSettings(POLICY, input_format=input_format), out.write, jobs=1)  # type: ignore[arg-type]
    output = out.getvalue()
    assert output == "" or output.endswith("\n")
    lines = [json.loads(line) for line in output.split("\n")[:-1]]
    assert tally.rows == len(lines) and tally.errors == sum("error" in line for line in lines)
    assert all(("status" in line) != ("error" in line) for line in lines)
    return lines


@SETTINGS
@given(st.lists(JSONL_LINES, max_size=8))
@example(['{"\x85": 40}'])  # once flaky: str.splitlines() in the law cut its error row in two
@example(["\x00\x00\x00"])  # a first line of NULs alone is one bad row, not a UTF-16 extract
@example(["0\x000\x00"])  # once failed the law: a first line of UTF-16 is one error for the extract
def test_any_jsonl_text_gives_one_line_per_row(lines: list[str]) -> None:
    """Every line that is not blank is a row, unless the first line reads as UTF-16 (every
    other character NUL, say ``a\x00b\x00``): then the extract is one error before any row."""
    text = "".join(line.replace("\n", " ").replace("\r", " ") + "\n" for line in lines)
    if lines and utf16_hint(lines[0].replace("\n", " ").replace("\r", " ").removeprefix("\ufeff")) is not None:
        with pytest.raises(InputError, match="UTF-16"):
            _audited(text, "jsonl")
        return
    rows = [number for number, line in enumerate(_read(text), start=1) if line.strip()]
    assert [line["row"] for line in _audited(text, "jsonl")] == rows


@SETTINGS
@given(st.lists(CSV_LINES, max_size=8))
def test_any_csv_text_gives_one_line_per_record(lines: list[str]) -> None:
    """A record is one line (a quote left open does not swallow the lines after it): row n
    is line n + 1, and every line that is not empty is a row."""
    text = "id,age,setting,red_flags\n" + "\n".join(lines) + "\n"
    records = [number for number, line in enumerate(list(_read(text))[1:], start=1) if line.rstrip("\n")]
    assert [line["row"] for line in _audited(text, "csv")] == records

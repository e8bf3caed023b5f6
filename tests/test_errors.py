"""Error messages stay readable: at most 20 problems, then how many more; long names cut."""

from __future__ import annotations

import io
import json

from click.testing import CliRunner

from pyclingo_bridge.audit import AuditSettings, audit
from pyclingo_bridge.cli import main
from pyclingo_bridge.errors import MAX_PROBLEMS_SHOWN, FieldProblem, InputError

from .conftest import POLICY


def test_an_error_lists_20_problems_then_how_many_more() -> None:
    error = InputError([FieldProblem(f"k{number}", "unknown") for number in range(25)])
    assert str(error) == "; ".join(f"k{number}: unknown" for number in range(20)) + "; and 5 more"
    assert error.fields == tuple(f"k{number}" for number in range(20))
    assert (len(error.problems), len(error.shown), error.more) == (25, MAX_PROBLEMS_SHOWN, 5)


def test_an_error_of_20_problems_lists_them_all() -> None:
    error = InputError([FieldProblem(f"k{number}", "unknown") for number in range(20)])
    assert str(error) == "; ".join(f"k{number}: unknown" for number in range(20))
    assert error.more == 0


def test_a_long_field_name_is_cut() -> None:
    assert str(FieldProblem("x" * 1000, "unknown field")) == "x" * 99 + "…: unknown field"


UNKNOWN_KEYS = json.dumps({f"k{number}": 1 for number in range(100_000)})


def test_query_with_100000_unknown_keys_is_a_short_message() -> None:
    """The fault: a 22 MB message."""
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", "-"], input=UNKNOWN_KEYS)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: invalid input: k0: unknown field; allowed fields: ")
    assert result.stderr.endswith("; and 99,980 more\n")
    assert result.stderr.count("unknown field") == 20 and len(result.stderr) < 5_000


def test_an_audit_error_row_with_100000_problems_is_short() -> None:
    out = io.StringIO()
    audit(io.StringIO(UNKNOWN_KEYS + "\n"), AuditSettings(POLICY), out.write, jobs=1)
    (line,) = out.getvalue().splitlines()
    row = json.loads(line)
    assert row["error"].startswith("row 1: k0: unknown field") and row["error"].endswith("; and 99,980 more")
    assert row["fields"] == [f"k{number}" for number in range(20)] and len(line) < 5_000

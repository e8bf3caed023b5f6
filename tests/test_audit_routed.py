"""policykb audit --procedure-column: each row decided under the policy its procedure code names."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge.cli import main

TONSIL_ROWS = [
    {"id": "T1", "due_to_acute_tonsillitis": True, "episodes_disabling": True, "episodes_last_12_months": 7, "red_flags": []},
    {"id": "T2", "episodes_last_12_months": 2},
    {"episodes_last_12_months": 5, "episodes_12_to_24_months": 5, "red_flags": ["peritonsillar_abscess"]},
]


def _audit(arguments: list[str], stdin: str) -> tuple[int, list[dict], str]:
    result = CliRunner().invoke(main, ["audit", *arguments], input=stdin, prog_name="policykb")
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def test_rows_are_decided_as_with_policy_and_unroutable_rows_are_error_rows() -> None:
    routed_rows = [{**row, "opcs": code} for row, code in zip(TONSIL_ROWS, ["F34.1", "F347", "f34.9"])]
    extract = [routed_rows[0], {"id": "L1", "opcs": "U21.1", "age": 45}, routed_rows[1], {"id": "N", "age": 40}, routed_rows[2]]
    code, lines, _ = _audit(["-", "--procedure-column", "opcs"], _jsonl(extract))
    alone = _audit(["-", "--policy", "DRAFT_EBI_Tonsillectomy"], _jsonl([TONSIL_ROWS[0], {}, TONSIL_ROWS[1], {}, TONSIL_ROWS[2]]))[1]
    assert code == 1
    assert [line["row"] for line in lines] == [1, 2, 3, 4, 5]
    assert [lines[0], lines[2], lines[4]] == [alone[0], alone[2], alone[4]]
    assert lines[1] == {"row": 2, "id": "L1", "error": "row 2: opcs: opcs4 U21.1: no policy governs it", "fields": ["opcs"]}
    assert lines[3] == {"row": 4, "id": "N", "error": "row 4: opcs: no procedure code, so no policy to decide it under",
                        "fields": ["opcs"]}


def test_csv_rows_are_routed_and_a_stray_fact_is_an_error_row() -> None:
    extract = "id,opcs,episodes_last_12_months,age\nT1,F34.1,7,\n\nT2,F34.2,2,40\nT3,F34.2,,\n"
    code, lines, stderr = _audit(["-", "--input-format", "csv", "--procedure-column", "opcs"], extract)
    assert code == 1
    assert [(line["row"], line["id"], line.get("status")) for line in lines] == [
        (1, "T1", "undetermined"), (3, "T2", None), (4, "T3", "undetermined")]
    assert lines[1]["error"] == "row 3: age: not a fact of DRAFT_EBI_Tonsillectomy, the policy its procedure is routed to"
    assert stderr.startswith("audited 3 rows, each under the policy that governs its opcs code, in ")
    assert "  DRAFT_EBI_Tonsillectomy version 1: 2 rows\n  refused before any policy read them: 1 rows (error rows)\n" in stderr


@pytest.mark.parametrize(
    ("arguments", "stdin", "error"),
    [
        (["--policy", "CMICB_Clin086"], "", "Error: give --policy or --procedure-column, not both\n"),
        (["--report", "r.html"], "", "Error: --report reports one policy: audit its rows with --policy\n"),
        (["--input-format", "csv"], "id,age\n", ("Error: invalid input: opcs: no such column in the CSV header "
                                                 "(--procedure-column); columns: id, age\n")),
        (["--procedure-system", "read2"], "{}\n", ("Error: invalid input: --procedure-system: no code system 'read2' in the "
                                                   "knowledge base; known: icd10, loinc, opcs4, snomed\n")),
    ],
    ids=["with-policy", "with-report", "no-such-column", "unknown-system"],
)
def test_refusals(arguments: list[str], stdin: str, error: str) -> None:
    code, lines, stderr = _audit(["-", "--procedure-column", "opcs", *arguments], stdin)
    assert code in (1, 2) and lines == []
    assert stderr.endswith(error)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["F34.1", "F341", "U21.1", "", None]), st.integers(0, 9)), max_size=8))
def test_every_row_gets_one_line_in_input_order(rows: list[tuple[str | None, int]]) -> None:
    extract = [{"episodes_last_12_months": count, **({} if code is None else {"opcs": code})} for code, count in rows]
    code, lines, _ = _audit(["-", "--procedure-column", "opcs"], _jsonl(extract))
    assert [line["row"] for line in lines] == list(range(1, len(rows) + 1))
    for line, (procedure, _) in zip(lines, rows):
        assert ("error" in line) == (procedure not in ("F34.1", "F341"))
    assert code == (1 if any("error" in line for line in lines) else 0)


def test_a_stopped_routed_audit_says_so_and_writes_nothing_it_has_not_merged() -> None:
    # Fed without end, the run is still routing rows when the stop comes: no line is written yet.
    import os
    import signal
    import subprocess
    import sys
    import time

    child = subprocess.Popen(
        [sys.executable, "-m", "pyclingo_bridge", "audit", "-", "--procedure-column", "opcs"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert child.stdin is not None
    child.stdin.write(_jsonl([{**TONSIL_ROWS[1], "opcs": "F34.1"}] * 200))
    child.stdin.flush()
    time.sleep(1.5)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=20)
    assert child.returncode == 130
    assert out == ""
    assert err.startswith("interrupted (SIGINT): 0 rows written to standard output, whole lines in input order")


def test_a_stray_csv_quote_is_named_as_the_plain_audit_names_it_and_later_rows_go_on() -> None:
    """The routed audit reads CSV records with the audit's own reader: the error row names the
    line and column where the quote opened, and every later record is still routed."""
    routed = "id,opcs,episodes_last_12_months\nT1,F34.1,7\nT2,F34.1,\"7\nT3,F34.1,2\n"
    plain = "id,episodes_last_12_months\nT1,7\nT2,\"7\nT3,2\n"
    code, lines, _ = _audit(["-", "--input-format", "csv", "--procedure-column", "opcs"], routed)
    alone = _audit(["-", "--input-format", "csv", "--policy", "DRAFT_EBI_Tonsillectomy"], plain)[1]
    assert code == 1
    assert [(line["row"], line["id"]) for line in lines] == [(1, "T1"), (2, 2), (3, "T3")]
    assert "the quote at line 3, column 10" in lines[1]["error"]
    assert lines[1]["error"] == alone[1]["error"].replace("column 4", "column 10")  # one more column before it
    assert [lines[0].get("status"), lines[2].get("status")] == [alone[0].get("status"), alone[2].get("status")]

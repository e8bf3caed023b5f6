"""``policykb audit`` through click: output lines, errors, exit codes, formats, summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pyclingo_bridge import PolicyEngine
from pyclingo_bridge.audit import answer_fields
from pyclingo_bridge.cli import main

from .conftest import patient

COMMISSIONED = {"id": "a", **patient()}
PRIMARY_CARE = {"id": "b", **patient(setting="primary_care")}
UNKNOWN_SETTING = {"id": "c", **patient(setting=...)}
NO_ID = patient(age=15)


def _jsonl(*rows: Any) -> str:
    return "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def _run(args: list[str], stdin: str | None = None) -> Any:
    return CliRunner().invoke(main, ["audit", "--policy", "CMICB_Clin086", *args], input=stdin)


def test_rows_out_in_order_equal_query(tmp_path: Path, engine: PolicyEngine) -> None:
    source = tmp_path / "extract.jsonl"
    source.write_text(_jsonl(COMMISSIONED, PRIMARY_CARE, UNKNOWN_SETTING, NO_ID))
    result = _run([str(source)])
    assert result.exit_code == 0, result.stderr
    lines = _lines(result.stdout)
    assert [(line["row"], line["id"], line["status"], line["clauses"]) for line in lines] == [
        (1, "a", "commissioned", ["1.3"]),
        (2, "b", "not_commissioned", ["1.2"]),
        (3, "c", "undetermined", []),
        (4, 4, "outside_policy", ["1.5"]),
    ]
    assert [m["fact"] for m in lines[2]["missing"]] == ["setting"]
    for line, row in zip(lines, (COMMISSIONED, PRIMARY_CARE, UNKNOWN_SETTING, NO_ID)):
        assert {k: line[k] for k in ("status", "clauses", "missing", "provenance")} == answer_fields(engine.decide(row), False)
    assert "explanation" not in lines[0]


def test_explain_adds_the_query_explanation(tmp_path: Path, engine: PolicyEngine) -> None:
    source = tmp_path / "extract.jsonl"
    source.write_text(_jsonl(COMMISSIONED, UNKNOWN_SETTING))
    result = _run([str(source), "--explain"])
    assert result.exit_code == 0
    lines = _lines(result.stdout)
    assert [line["explanation"] for line in lines] == [
        engine.decide(COMMISSIONED).to_dict()["explanation"],
        engine.decide(UNKNOWN_SETTING).to_dict()["explanation"],
    ]


MALFORMED = [
    ("bad JSON", '{"id": "x", "age": ', 2, ["input"], "row 2: input: not valid JSON: Expecting value (column 20)"),
    ("not an object", "[1, 2]", 2, ["input"], "row 2: input: expected a JSON object of patient facts"),
    ("bad value", '{"id": "x", "age": "forty"}', "x", ["age"],
     "row 2: age: 'forty' is not allowed; expected an integer from 0 to 130 (or null / leave it out when unknown)"),
    ("duplicate key", '{"age": 40, "age": 41}', 2, ["age"], "row 2: age: given more than once"),
    ("unknown field", '{"setting": "mcas", "agee": 40}', 2, ["agee"],
     ("row 2: agee: unknown field (did you mean 'age'?); allowed fields: id, request_date, age, clinical_trial_continuation, "
      "core_criteria, emergency_or_inpatient, facet_joint_rfd_prerequisite, ifr_approved, likely_to_change_management, mcas_in_place, "
      "red_flags, sciatica, seen_by_mcas, setting")),
]


@pytest.mark.parametrize(("line", "record_id", "fields", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_row_gets_an_error_line_and_the_run_goes_on(
    line: str, record_id: Any, fields: list[str], message: str
) -> None:
    result = _run(["-", "--input-format", "jsonl"], stdin=_jsonl(COMMISSIONED, line, PRIMARY_CARE))
    assert result.exit_code == 1
    lines = _lines(result.stdout)
    assert len(lines) == 3
    assert lines[1] == {"row": 2, "id": record_id, "error": message, "fields": fields}
    assert [lines[0]["status"], lines[2]["status"]] == ["commissioned", "not_commissioned"]
    assert "Error: 1 of 3 rows could not be decided (see their error lines)" in result.stderr


def test_blank_lines_are_not_rows_and_rows_keep_their_line_numbers() -> None:
    result = _run(["-"], stdin=_jsonl(COMMISSIONED) + "\n" + _jsonl(PRIMARY_CARE))
    assert result.exit_code == 0
    assert [(line["row"], line["id"]) for line in _lines(result.stdout)] == [(1, "a"), (3, "b")]


def test_summary_on_stderr_counts_statuses_clauses_and_errors() -> None:
    result = _run(["-"], stdin=_jsonl(COMMISSIONED, COMMISSIONED, PRIMARY_CARE, UNKNOWN_SETTING, "oops"))
    summary = result.stderr.splitlines()
    assert summary[0].startswith("audited 5 rows under CMICB_Clin086 version 1 in ")
    assert summary[1:] == [
        "engine solves: 3 (rows of one input class share one)",
        "answer table: 25.0 % of decided rows answered without a solve",
        "by status:",
        "  commissioned               2",
        "  not_commissioned           1",
        "  outside_policy             0",
        "  undetermined               1",
        "  error                      1",
        "by clause (rows whose status the clause decided):",
        "  1.2                        1",
        "  1.3                        2",
        "Error: 1 of 5 rows could not be decided (see their error lines)",
    ]


def test_output_file_and_csv_input(tmp_path: Path) -> None:
    source = tmp_path / "extract.csv"
    source.write_text(
        "id,age,setting,sciatica,red_flags,likely_to_change_management,mcas_in_place,seen_by_mcas,core_criteria\n"
        "a,45,mcas,false,[],true,true,true,\n"
        "b,45,primary_care,FALSE,[],true,true,true,urgent\n"
        "c,45,mcas,false,cauda_equina;suspected_fracture,true,true,true,\n"
        "d,45,mcas,false,,true,true,true,\n"
        "e,forty,mcas,maybe,[],true,true,true,\n"
        "f,45,mcas\n"
    )
    output = tmp_path / "out.jsonl"
    result = _run([str(source), "-o", str(output)])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = _lines(output.read_text())
    assert [(line["id"], line.get("status"), line.get("clauses")) for line in lines[:4]] == [
        ("a", "commissioned", ["1.3"]),
        ("b", "commissioned", ["3.1", "3.2"]),
        ("c", "outside_policy", ["2.1", "2.2"]),
        ("d", "undetermined", []),
    ]
    assert lines[4]["fields"] == ["age", "sciatica"]
    assert lines[4]["error"].startswith("row 5: age: 'forty' is not allowed; expected an integer from 0 to 130")
    assert "sciatica: 'maybe' is not allowed; expected true or false" in lines[4]["error"]
    assert lines[5] == {"row": 6, "id": 6, "error": "row 6: input: 3 cells where the header has 9 columns", "fields": ["input"]}


def test_csv_with_a_byte_order_mark(tmp_path: Path) -> None:
    source = tmp_path / "extract.csv"
    source.write_bytes("id,age,setting\nx,15,mcas\n".encode("utf-8-sig"))
    result = _run([str(source)])
    assert result.exit_code == 0, result.stderr
    [line] = _lines(result.stdout)
    assert line == {"row": 1, "id": "x", "status": "outside_policy", "clauses": ["1.5"], "missing": [], "provenance": line["provenance"]}
    assert line["provenance"]["policy"] == "CMICB_Clin086"


def test_report_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    report = tmp_path / "no-such-folder" / "audit.html"
    result = _run(["-", "--report", str(report)], stdin=_jsonl(COMMISSIONED))
    assert result.exit_code == 1
    assert result.stdout == ""  # found before any row was decided
    assert result.stderr.endswith(f"Error: cannot write the report {report}: No such file or directory\n")


def test_csv_header_with_an_unknown_column_is_one_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "extract.csv"
    source.write_text("id,agee\nx,40\n")
    result = _run([str(source)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: invalid input: agee: unknown CSV column (did you mean 'age'?); allowed columns: id, request_date, age,")


def test_format_from_flag_when_the_name_does_not_tell(tmp_path: Path) -> None:
    source = tmp_path / "extract.txt"
    source.write_text(_jsonl(COMMISSIONED))
    refused = _run([str(source)])
    assert refused.exit_code == 2
    assert "cannot tell the format of" in refused.stderr
    accepted = _run([str(source), "--input-format", "jsonl"])
    assert accepted.exit_code == 0
    assert _lines(accepted.stdout)[0]["status"] == "commissioned"


def test_unknown_policy_is_a_clear_error() -> None:
    result = _run(["-", "--policy", "nope"], stdin=_jsonl(COMMISSIONED))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.output


def test_row_that_is_not_utf8_is_an_error_row_and_the_run_goes_on(tmp_path: Path) -> None:
    source = tmp_path / "extract.jsonl"
    source.write_bytes(_jsonl(COMMISSIONED).encode() + b'{"id": "caf\xe9"}\n' + _jsonl(PRIMARY_CARE).encode())
    result = _run([str(source)])
    assert result.exit_code == 1
    lines = _lines(result.stdout)
    assert lines[1] == {"row": 2, "id": 2, "error": "row 2: input: not UTF-8 text: byte 0xe9 at character 12", "fields": ["input"]}
    assert [lines[0]["status"], lines[2]["status"]] == ["commissioned", "not_commissioned"]
    assert "Traceback" not in result.output


def test_csv_cell_that_is_not_utf8_is_an_error_row(tmp_path: Path) -> None:
    source = tmp_path / "extract.csv"
    source.write_bytes(b"id,age,setting\nx\xff,40,mcas\ny,40,primary_care\n")
    result = _run([str(source)])
    lines = _lines(result.stdout)
    assert lines[0]["error"] == "row 1: input: not UTF-8 text: byte 0xff at character 2"
    assert lines[1]["id"] == "y" and "status" in lines[1]
    assert len(lines) == 2


def test_csv_record_short_of_a_cell_is_an_error_even_after_its_like(tmp_path: Path) -> None:
    """A short record is not the same row under no id: its cells are counted before anything."""
    source = tmp_path / "extract.csv"
    source.write_text("age,setting,id\n40,mcas,x\n40,mcas\n")
    lines = _lines(_run([str(source)]).stdout)
    assert "status" in lines[0]
    assert lines[1]["error"] == "row 2: input: 2 cells where the header has 3 columns"


def test_csv_cell_longer_than_the_csv_module_allows_is_an_error_row(tmp_path: Path) -> None:
    """The csv module refuses a field over 131,072 characters by default: that stopped the
    whole run with a traceback. The cell is read, and validation names the field."""
    source = tmp_path / "extract.csv"
    source.write_text("id,age,setting\nx,40,mcas\ny," + "9" * 200_000 + ",mcas\nz,40,primary_care\n")
    result = _run([str(source)])
    lines = _lines(result.stdout)
    assert [line["id"] for line in lines] == ["x", "y", "z"]
    assert lines[1]["fields"] == ["age"] and "(200,000 characters) is not allowed" in lines[1]["error"]
    assert len(lines[1]["error"]) < 300, "a long bad value is not echoed whole"
    assert "status" in lines[0] and "status" in lines[2]
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_json_row_nested_too_deeply_or_with_a_number_too_long_is_an_error_row(tmp_path: Path) -> None:
    source = tmp_path / "extract.jsonl"
    source.write_text("[" * 100_000 + "]" * 100_000 + "\n" + '{"age": ' + "9" * 5000 + "}\n" + _jsonl(PRIMARY_CARE))
    result = _run([str(source)])
    lines = _lines(result.stdout)
    assert lines[0]["error"] == "row 1: input: not valid JSON: nested too deeply (column 1)"
    assert lines[1]["error"] == "row 2: input: not valid JSON: a number too long to read: more than 4,300 digits (column 9)"
    assert lines[2]["status"] == "not_commissioned"
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_id_that_is_no_unicode_text_is_an_error_row(tmp_path: Path) -> None:
    """A JSON escape can spell a lone surrogate; echoed into UTF-8 output it would fail there."""
    source = tmp_path / "extract.jsonl"
    source.write_text('{"id": "x\\ud800", "age": 40}\n{"\\ud800": 1}\n' + _jsonl(PRIMARY_CARE))
    result = _run([str(source), "-o", str(tmp_path / "out.jsonl"), "--report", str(tmp_path / "report.html")])
    lines = _lines((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert lines[0]["fields"] == ["id"] and lines[0]["id"] == 1
    assert lines[1]["fields"] == ["\\ud800"] and lines[1]["error"].startswith("row 2: \\ud800: unknown field")
    assert lines[2]["status"] == "not_commissioned"
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_empty_input_is_zero_rows() -> None:
    result = _run(["-"], stdin="")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.startswith("audited 0 rows")


def test_report_is_written(tmp_path: Path) -> None:
    report = tmp_path / "audit.html"
    result = _run(["-", "--report", str(report)], stdin=_jsonl(COMMISSIONED, PRIMARY_CARE, UNKNOWN_SETTING))
    assert result.exit_code == 0
    assert result.stderr.endswith(f"report written to {report}\n")
    html = report.read_text()
    assert "<svg" in html and "Not commissioned rows (1)" in html and "Undetermined rows (1)" in html

"""Outputs that cannot be written, and the small frictions of the command line (issue 10 §4, §5).

A full disk is /dev/full, a reader gone away is a closed pipe: real processes, real file
descriptors, since that is where the faults are.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pyclingo_bridge.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "primary-care.json"
FULL = "No space left on device"


def _policykb(args: list[str], stdout: Any, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyclingo_bridge", *args],
        input=stdin.decode(),
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def _extract(tmp_path: Path, rows: int = 50) -> Path:
    path = tmp_path / "extract.jsonl"
    path.write_text("".join(json.dumps({"id": f"p{n}", "age": 20 + n % 60, "setting": "mcas"}) + "\n" for n in range(rows)))
    return path


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["query", "--policy", "CMICB_Clin086", str(EXAMPLE)], id="query"),
        pytest.param(["query", "--policy", "CMICB_Clin086", str(EXAMPLE), "--format", "json"], id="query-json"),
        pytest.param(["policies"], id="policies"),
        pytest.param(["show", "CMICB_Clin086"], id="show"),
    ],
)
def test_stdout_on_a_full_disk_is_one_message(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = _policykb(args, full)
    assert (done.returncode, done.stderr) == (1, f"Error: cannot write standard output: {FULL}\n")


def test_audit_to_stdout_on_a_full_disk_is_one_message(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        done = _policykb(["audit", "--policy", "CMICB_Clin086", str(_extract(tmp_path))], full)
    assert (done.returncode, done.stderr) == (1, f"Error: cannot write standard output: {FULL}\n")


def test_audit_output_file_on_a_full_disk_is_one_message(tmp_path: Path) -> None:
    done = _policykb(["audit", "--policy", "CMICB_Clin086", str(_extract(tmp_path)), "-o", "/dev/full"], subprocess.PIPE)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", f"Error: cannot write /dev/full: {FULL}\n")


@pytest.mark.parametrize(
    "args", [pytest.param(["query", "--policy", "CMICB_Clin086", str(EXAMPLE)], id="query"), pytest.param(["audit", "--policy", "CMICB_Clin086", "-"], id="audit")]
)
def test_a_reader_gone_away_ends_the_command_quietly(args: list[str], tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pyclingo_bridge", *args],
        stdin=_extract(tmp_path).open("rb"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None
    process.stdout.close()  # before the command writes a byte
    _, stderr = process.communicate(timeout=60)
    assert (process.returncode, stderr) == (141, b"")


def test_output_file_in_a_missing_folder_is_refused_before_the_work(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.jsonl"
    result = CliRunner().invoke(main, ["audit", "--policy", "CMICB_Clin086", str(_extract(tmp_path)), "-o", str(target)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.endswith(f"Error: Invalid value for '-o' / '--output': '{target}': No such file or directory\n")


def test_report_in_a_missing_folder_is_refused_before_the_work(tmp_path: Path) -> None:
    report = tmp_path / "missing" / "report.html"
    result = CliRunner().invoke(main, ["audit", "--policy", "CMICB_Clin086", str(_extract(tmp_path)), "--report", str(report)])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: cannot write the report {report}: No such file or directory\n"


def test_report_on_a_full_disk_is_one_message_after_the_rows(tmp_path: Path) -> None:
    done = _policykb(["audit", "--policy", "CMICB_Clin086", str(_extract(tmp_path)), "--report", "/dev/full"], subprocess.PIPE)
    assert done.returncode == 1
    assert len(done.stdout.splitlines()) == 50  # the rows are kept
    assert done.stderr.endswith(f"\nError: cannot write the report /dev/full: {FULL}\n")


# Frictions.

@pytest.mark.parametrize(
    ("typed", "meant"), [("qurey", "query"), ("audti", "audit"), ("polices", "policies"), ("chek", "check")]
)
def test_a_mistyped_command_gets_did_you_mean(typed: str, meant: str) -> None:
    result = CliRunner().invoke(main, [typed])
    assert result.exit_code == 2
    assert result.stderr.endswith(
        f"Error: No such command '{typed}'. Did you mean '{meant}'?"
        f" Commands: {', '.join(sorted(COMMANDS))}.\n"
    )


def test_an_unlike_command_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["zzz"])
    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: No such command 'zzz'. Commands: {', '.join(sorted(COMMANDS))}.\n")


def test_query_says_it_reads_a_terminal() -> None:
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "pyclingo_bridge", "query", "--policy", "CMICB_Clin086", "--format", "json"],
            stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
        )
        os.write(leader, EXAMPLE.read_bytes().replace(b"\n", b" ") + b"\n\x04")  # the facts, then Ctrl-D
        stdout, stderr = process.communicate(timeout=60)
    finally:
        os.close(leader)
        os.close(follower)
    assert process.returncode == 0
    assert stderr == "reading patient facts from standard input (Ctrl-D to end)…\n".encode()
    assert json.loads(stdout)["status"] == "not_commissioned"


def test_query_from_a_pipe_says_nothing_of_it() -> None:
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086"], input=EXAMPLE.read_text())
    assert (result.exit_code, result.stderr) == (0, "")


@pytest.mark.parametrize(
    ("given", "error", "fields"),
    [
        pytest.param(
            '{"age": "x", "sciatica": 3}',
            "invalid input: age: 'x' is not allowed; expected an integer from 0 to 130 (or null / leave it out when"
            " unknown); sciatica: 3 is not allowed; expected true or false (or null / leave it out when unknown)",
            [
                {"field": "age", "message": "'x' is not allowed; expected an integer from 0 to 130 (or null / leave it out when unknown)"},
                {"field": "sciatica", "message": "3 is not allowed; expected true or false (or null / leave it out when unknown)"},
            ],
            id="bad-values",
        ),
        pytest.param('{"age": 40, "age": 41}', "invalid input: age: given more than once",
                     [{"field": "age", "message": "given more than once"}], id="duplicate-key"),
        pytest.param('{"age": 40', "input is not valid JSON: Expecting ',' delimiter (line 1, column 11)", [], id="not-json"),
    ],
)
def test_json_format_writes_input_errors_as_json(given: str, error: str, fields: list[dict[str, str]]) -> None:
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", "-", "--format", "json"], input=given)
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"error": error, "fields": fields}
    assert result.stderr == ""


def test_text_format_keeps_the_plain_message() -> None:
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", "-"], input='{"age": 40, "age": 41}')
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: invalid input: age: given more than once\n"


@pytest.mark.parametrize("args", [["query", "--policy", "CMICB_Clin086", str(EXAMPLE)], ["show"], ["check"]], ids=["query", "show", "check"])
def test_an_unknown_policy_is_named_as_the_kb_names_it(args: list[str]) -> None:
    option = ["clin086"] if args == ["show"] else ["--policy", "clin086"]
    result = CliRunner().invoke(main, [*args, *option])
    assert result.exit_code == 1
    assert "(did you mean CMICB_Clin086?); known policies: CMICB_Clin086" in result.stderr
    assert "cmicb_clin086" not in result.output

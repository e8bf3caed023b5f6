"""The policykb CLI: exact output and exit codes, through click's CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pyclingo_bridge import __version__
from pyclingo_bridge.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

PRIMARY_CARE_TEXT = """\
Status: Not routinely commissioned
Policy: CMICB_Clin086 version 1 (Low back pain imaging)
Record: example-2
Clauses: 1.2

Advice (most urgent first)
  - Routine: [1.2] Explain to the patient that imaging is not needed for their low back pain, and \
manage it in primary care (NICE NG59 1.1.5).
  - Routine: [6.3] Not routinely commissioned: the clinician may apply to the ICB's Individual \
Funding Request panel for clinical exceptionality, showing how this patient differs from others the policy excludes.

Why
  Not routinely commissioned
  └─ [1.2] Imaging for low back pain is not routinely commissioned in a non-specialist setting
        because: imaging is requested in primary care; primary care is a non-specialist setting

Routes to commissioned that did not apply
  - [1.3] In a specialist setting, imaging whose result is likely to change management is commissioned
    not met: imaging is not requested in a specialist setting (MCAS or a consultant)
  - [3.2] The patient meets a core eligibility criterion that concerns this request
    not met: no core eligibility criterion is recorded for this request
  - [6.3] An approved individual funding request for clinical exceptionality funds the requested intervention
    not met: no individual funding request has been approved

Assumed (not recorded, so taken as absent)
  - assumed: the request does not continue treatment begun in a clinical trial — not recorded
  - assumed: no core eligibility criterion is recorded for this request — not recorded; recording \
it would change this answer
  - assumed: an elective request, not from emergency or inpatient care — not recorded
  - assumed: not requested as a prerequisite for radiofrequency denervation — not recorded
  - assumed: no individual funding request has been approved — not recorded; recording it would \
change this answer

Validity
  CMICB_Clin086 version 1; review due 2029-03.
  Check the version published by the ICB: this answer is valid only if it matches the version above \
(7.1, 7.2).
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_query_text_for_a_clinician(runner: CliRunner) -> None:
    result = runner.invoke(main, ["query", "--policy", "CMICB_Clin086", str(EXAMPLES / "primary-care.json")])
    assert (result.exit_code, result.stdout, result.stderr) == (0, PRIMARY_CARE_TEXT, "")


def test_query_json_for_machines(runner: CliRunner) -> None:
    result = runner.invoke(main, ["query", "--policy", "CMICB_Clin086", str(EXAMPLES / "specialist-likely-to-change.json"), "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert {"id", "policy", "policy_version", "status", "clauses", "explanation", "possible", "missing", "advice"} <= set(data)
    assert (data["id"], data["policy"], data["policy_version"], data["status"], data["clauses"]) == (
        "example-1", "CMICB_Clin086", "1", "commissioned", ["1.3"],
    )
    assert [step["clause"] for step in data["explanation"]["fired"]] == ["1.3", "1.3"]


def test_query_reads_stdin_and_exits_0_when_undetermined(runner: CliRunner) -> None:
    result = runner.invoke(main, ["query", "--policy", "CMICB_Clin086", "-", "--format", "json"], input='{"age": 40}')
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["status"] == "undetermined"
    assert [m["fact"] for m in data["missing"]] == ["likely_to_change_management", "red_flags", "setting"]
    assert all(m["question"].endswith("?") for m in data["missing"])


# name, stdin, arguments, exit code, exact stderr
ERRORS = [
    ("mistyped key", '{"sciatic": true}', [], 1,
     ("Error: invalid input: sciatic: unknown field (did you mean 'sciatica'?); allowed fields: id, request_date, age, "
      "clinical_trial_continuation, core_criteria, emergency_or_inpatient, facet_joint_rfd_prerequisite, ifr_approved, "
      "likely_to_change_management, mcas_in_place, red_flags, sciatica, seen_by_mcas, setting\n")),
    ("bad value", '{"setting": "gp"}', [], 1,
     ("Error: invalid input: setting: 'gp' is not allowed; expected one of primary_care, mcas, secondary_care "
      "(or null / leave it out when unknown)\n")),
    ("not JSON", "{age: 4}", [], 1,
     "Error: input is not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)\n"),
    ("duplicate key", '{"age": 4, "age": 50}', [], 1, "Error: invalid input: age: given more than once\n"),
    ("not an object", "[]", [], 1, "Error: invalid input: input: expected a JSON object of patient facts\n"),
    ("nested too deeply", "[" * 100_000 + "]" * 100_000, [], 1, "Error: input is not valid JSON: nested too deeply (line 1, column 1)\n"),
    ("a number of 5,000 digits", '{"age": ' + "9" * 5000 + "}", [], 1,
     "Error: input is not valid JSON: a number too long to read: more than 4,300 digits (line 1, column 9)\n"),
    ("a long bad value", '{"setting": "' + "g" * 500 + '"}', [], 1,
     "Error: invalid input: setting: '" + "g" * 60 + "'... (500 characters) is not allowed; expected one of primary_care, "
     "mcas, secondary_care (or null / leave it out when unknown)\n"),
    ("unknown policy", "{}", ["--policy", "CMICB_Clin08"], 1,
     "Error: unknown policy 'CMICB_Clin08' (did you mean CMICB_Clin086?); known policies: CMICB_Clin086, DRAFT_EBI_BreastReduction, DRAFT_EBI_LumbarRFD, DRAFT_EBI_Tonsillectomy\n"),
]


@pytest.mark.parametrize(("stdin", "arguments", "code", "stderr"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_bad_input_is_one_message_without_traceback(
    runner: CliRunner, stdin: str, arguments: list[str], code: int, stderr: str
) -> None:
    result = runner.invoke(main, ["query", "--policy", "CMICB_Clin086", "-", *arguments], input=stdin)
    assert (result.exit_code, result.stdout, result.stderr) == (code, "", stderr)


def test_bad_flag_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["query", "--policy", "CMICB_Clin086", "-", "--format", "xml"], input="{}")
    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.stderr


def test_missing_file_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["query", "--policy", "CMICB_Clin086", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "No such file or directory" in result.stderr


def test_policies_lists_metadata(runner: CliRunner) -> None:
    result = runner.invoke(main, ["policies", "--format", "json"])
    assert result.exit_code == 0
    by_reference = {policy["reference"]: policy for policy in json.loads(result.stdout)}
    assert sorted(by_reference) == ["CMICB_Clin086", "DRAFT_EBI_BreastReduction", "DRAFT_EBI_LumbarRFD", "DRAFT_EBI_Tonsillectomy"]
    policy = by_reference["CMICB_Clin086"]
    assert (policy["reference"], policy["title"], policy["version"], policy["ratified"], policy["review"]) == (
        "CMICB_Clin086", "Low back pain imaging", "1", "2024-03", "2029-03",
    )
    assert {c["number"] for c in policy["clauses"] if c["normative"]} == {
        "1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "3.1", "3.2", "6.3", "5", "6.5", "6.6",
    } - {"5"}
    text = runner.invoke(main, ["policies"]).stdout
    assert text.startswith("CMICB_Clin086  version 1  Low back pain imaging\n")


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"policykb, version {__version__}\n")


COMMAND_NAMES = main.list_commands(click.Context(main))


@pytest.mark.parametrize("name", COMMAND_NAMES, ids=COMMAND_NAMES)
def test_every_command_has_help(runner: CliRunner, name: str) -> None:
    command = main.get_command(click.Context(main), name)
    assert command is not None and command.help, f"{name} has no help text"
    result = runner.invoke(main, [name, "--help"])
    assert result.exit_code == 0 and result.stdout.startswith(f"Usage: main {name}")


def test_every_command_is_listed_in_help(runner: CliRunner) -> None:
    listing = runner.invoke(main, ["--help"]).stdout
    assert COMMAND_NAMES == ["ask", "audit", "check", "diff", "policies", "query", "serve", "show", "test"]
    assert all(f"  {name}  " in listing for name in COMMAND_NAMES)


def test_python_dash_m_runs_the_same_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pyclingo_bridge", "query", "--policy", "CMICB_Clin086", str(EXAMPLES / "suspected-cauda-equina.json"), "--format", "json"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "outside_policy"


@pytest.mark.parametrize(
    ("review", "today", "overdue"),
    [("2029-03", "2029-03-31", False), ("2029-03", "2029-04-01", True), ("2024-03", "2026-11-25", True)],
    ids=["review month", "month after", "years after"],
)
def test_policies_flags_an_overdue_review(review: str, today: str, overdue: bool) -> None:
    import datetime

    from pyclingo_bridge.cli.policies import _overdue

    assert _overdue(review, datetime.date.fromisoformat(today)) is overdue

"""`policykb test` and `policykb show` through click's runner, with exact output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pyclingo_bridge import KnowledgeBase
from pyclingo_bridge.cases import load_case_file
from pyclingo_bridge.cli import main

from .conftest import ONE_PASSING_ONE_FAILING

POLICY = "CMICB_Clin086"
SHIPPED = "kb/policies/cmicb_clin086/cases.yaml"
FULL_COVERAGE = "CMICB_Clin086 coverage: rules 20/20 (100%), normative clauses 12/12 (100%)"



def shipped_cases() -> list[tuple[int, str]]:
    path = KnowledgeBase.installed().case_files(POLICY)[0]
    return [(case.line, case.name) for case in load_case_file(path).cases]


def test_shipped_cases_pass_with_full_coverage() -> None:
    result = CliRunner().invoke(main, ["test", "--min-coverage", "100"])
    cases = shipped_cases()
    assert result.exit_code == 0
    lines = result.output.splitlines()
    shipped = [f"PASS  {SHIPPED}:{line}  {name}" for line, name in cases]
    assert [line for line in lines if line.startswith(f"PASS  {SHIPPED}:")] == shipped
    assert all(line.startswith("PASS  ") for line in lines[:-5])
    assert lines[-5].endswith(" passed") and "failed" not in lines[-5]
    assert lines[-4:] == [
        FULL_COVERAGE,
        "DRAFT_EBI_BreastReduction coverage: rules 26/26 (100%), normative clauses 13/13 (100%)",
        "DRAFT_EBI_LumbarRFD coverage: rules 26/26 (100%), normative clauses 13/13 (100%)",
        "DRAFT_EBI_Tonsillectomy coverage: rules 20/20 (100%), normative clauses 12/12 (100%)",
    ]


def test_failing_case_shows_expected_against_derived(tmp_path: Path) -> None:
    path = tmp_path / "mine.cases.yaml"
    path.write_text(ONE_PASSING_ONE_FAILING)
    result = CliRunner().invoke(main, ["test", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[:5] == [
        f"PASS  {path}:4  primary care",
        f"FAIL  {path}:7  wrongly expected",
        "      status: expected commissioned, derived not_commissioned",
        "      clauses: expected 1.3, derived 1.2",
        '      facts: {"age": 45, "setting": "primary_care", "red_flags": []}',
    ]
    assert "      Status: Not routinely commissioned" in lines
    assert "      Why" in lines
    assert lines[-4:] == [
        "2 cases: 1 passed, 1 failed",
        "CMICB_Clin086 coverage: rules 1/20 (5%), normative clauses 1/12 (8%)",
        (
            "  rules no case fires: mcas_first_defeats_1_3, mcas_first_required, mcas_not_seen_first, "
            "likely_to_change_management, specialist_request, unlikely_to_change_management, "
            "facet_joint_rfd_prerequisite, rfd_imaging_is_diagnostic, rfd_prerequisite_defeats_1_3, "
            "under_minimum_age, serious_pathology_excluded, suspected_cauda_equina_excluded, "
            "core_criterion_overrides, core_criterion_met, individual_funding_approved, "
            "individual_funding_overrides, diagnostic_for_restricted_procedure, clinical_trial_continuation, "
            "clinical_trial_overrides"
        ),
        "  clauses no case exercises: 1.1, 1.3, 1.4, 1.5, 2.1, 2.2, 3.1, 3.2, 6.3, 6.5, 6.6",
    ]


def test_min_coverage_fails_below_threshold(tmp_path: Path) -> None:
    path = tmp_path / "mine.cases.yaml"
    path.write_text(ONE_PASSING_ONE_FAILING.split("  - name: wrongly")[0])
    result = CliRunner().invoke(main, ["test", str(path), "--min-coverage", "50"])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "CMICB_Clin086: coverage below 50%"
    assert CliRunner().invoke(main, ["test", str(path), "--min-coverage", "5"]).exit_code == 0


def test_unreadable_case_file_is_an_error_line_and_the_rest_go_on(tmp_path: Path) -> None:
    (tmp_path / "a.cases.yaml").write_text("policy: CMICB_Clin086\ncasse: []\n")
    (tmp_path / "b.cases.yaml").write_text(ONE_PASSING_ONE_FAILING.split("  - name: wrongly")[0])
    result = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.splitlines()[:3] == [
        f"PASS  {tmp_path / 'b.cases.yaml'}:4  primary care",
        f"ERROR {tmp_path / 'a.cases.yaml'}:1: unknown key 'casse' (did you mean cases?); allowed: policy, version, base_facts, cases",
        "1 case: 1 passed, 1 error",
    ]


def test_json_output(tmp_path: Path) -> None:
    path = tmp_path / "mine.cases.yaml"
    path.write_text(ONE_PASSING_ONE_FAILING)
    result = CliRunner().invoke(main, ["test", str(path), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert [(c["name"], c["outcome"]) for c in data["cases"]] == [("primary care", "PASS"), ("wrongly expected", "FAIL")]
    assert data["cases"][1]["decision"]["status"] == "not_commissioned"
    assert data["coverage"][0]["clauses"]["covered"] == 1


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("101", "101.0 is not in the range 0<=x<=100."),
        ("-1", "-1.0 is not in the range 0<=x<=100."),
        ("lots", "'lots' is not a valid float range."),
    ],
    ids=["above", "below", "text"],
)
def test_min_coverage_must_be_a_percentage(value: str, complaint: str) -> None:
    result = CliRunner().invoke(main, ["test", "--min-coverage", value], prog_name="policykb")
    assert result.exit_code == 2
    assert result.stdout == ""  # refused before any case ran
    assert result.stderr == (
        "Usage: policykb test [OPTIONS] [PATHS]...\nTry 'policykb test --help' for help.\n\n"
        f"Error: Invalid value for '--min-coverage': {complaint}\n"
    )


def test_show_lists_clause_rules_and_cases() -> None:
    kb = KnowledgeBase.installed()
    rules = (kb.root / "policies/cmicb_clin086/rules.lp").read_text().splitlines()
    line = next(n for n, text in enumerate(rules, start=1) if "label(under_minimum_age)" in text)
    cases = {name: number for number, name in shipped_cases()}
    result = CliRunner().invoke(main, ["show", POLICY])
    assert result.exit_code == 0
    output = result.output.split("\n\n")
    assert output[0] == "CMICB_Clin086 version 1: Low back pain imaging"
    block = next(part for part in output if part.startswith("1.5 "))
    assert block.splitlines() == [
        "1.5 (normative) This policy applies to people aged 16 years or older.",
        "  rules:",
        (
            f"    under_minimum_age  kb/policies/cmicb_clin086/rules.lp:{line}:1  "
            "The patient is younger than the policy's minimum age of 16"
        ),
        "  cases:",
        *(
            f"    {SHIPPED}:{cases[name]}  {name}"
            for name in ["1.5 under 16 is outside the policy", "precedence 1.5 over core criteria", "unknown age and setting"]
        ),
    ]
    informative = next(part for part in output if part.startswith("7.3 "))
    assert informative.splitlines()[1:] == ["  rules: none", "  cases: none"]


def test_show_unknown_policy() -> None:
    result = CliRunner().invoke(main, ["show", "CMICB_Clin87"])
    assert result.exit_code == 1
    assert "unknown policy 'CMICB_Clin87' (did you mean CMICB_Clin086?)" in result.output


def test_show_json_has_every_clause() -> None:
    result = CliRunner().invoke(main, ["show", POLICY, "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    clauses = {c["clause"]: c for c in data["clauses"]}
    assert list(clauses) == ["1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "3.1", "3.2", "4.1", "6.3", "6.5", "6.6", "7.3"]
    assert [r["label"] for r in clauses["1.5"]["rules"]] == ["under_minimum_age"]
    assert all(c["rules"] for c in data["clauses"] if c["normative"])

"""Policy versions by date: the version in force, the date checks, and --as-of."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from pyclingo_bridge.check import check_versions
from pyclingo_bridge.cli import main
from pyclingo_bridge.knowledge_base import KnowledgeBase
from pyclingo_bridge.versions import (
    PolicyVersion,
    VersionError,
    date_problems,
    policy_versions,
    version_in_force,
)

from .conftest import COMPLETE_ADULT
from .versioned_kb import POLICY, VERSION_1, VERSION_2, versioned_kb


@pytest.fixture(scope="module")
def kb_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return versioned_kb(tmp_path_factory.mktemp("versioned") / "kb")


def _version(number: str, start: str | None, end: str | None) -> PolicyVersion:
    return PolicyVersion(
        number, date.fromisoformat(start) if start else None, date.fromisoformat(end) if end else None, None, "draft", ()
    )


@pytest.mark.parametrize(
    ("versions", "problems"),
    [
        ([_version("1", "2024-04-01", "2026-03-31"), _version("2", "2026-04-01", None)], []),
        (
            [_version("1", "2024-04-01", "2026-04-01"), _version("2", "2026-04-01", None)],
            ["versions 1 (2024-04-01 to 2026-04-01) and 2 (from 2026-04-01) overlap"],
        ),
        (
            [_version("1", "2024-04-01", "2026-03-30"), _version("2", "2026-04-01", None)],
            ["no version is in force from 2026-03-31 to 2026-03-31, between version 1 (2024-04-01 to 2026-03-30) and version 2 (from 2026-04-01)"],
        ),
        (
            [_version("1", "2024-04-01", None), _version("2", "2026-04-01", None)],
            [
                (
                    "version 1 has no effective_to but version 2 starts on 2026-04-01: the ranges overlap "
                    "(give version 1 an effective_to)"
                )
            ],
        ),
        (
            [_version("1", "2024-04-01", "2024-01-01")],
            ["version 1 ends (2024-01-01) before it starts (2024-04-01)"],
        ),
    ],
    ids=["tiled", "overlap", "gap of a day", "superseded without an end", "ends before it starts"],
)
def test_date_problems(versions: list[PolicyVersion], problems: list[str]) -> None:
    assert date_problems(versions) == problems


def test_an_unversioned_policy_is_one_version_in_force_on_every_date() -> None:
    [version] = policy_versions(KnowledgeBase.installed(), POLICY)
    assert (version.number, version.effective_from, version.effective_to, version.files) == ("1", None, None, ())
    assert version_in_force(KnowledgeBase.installed(), POLICY, date(1900, 1, 1)) == version


@pytest.mark.parametrize(
    ("day", "number"),
    [("2024-04-01", "1"), ("2026-03-31", "1"), ("2026-04-01", "2"), ("2040-01-01", "2")],
    ids=["first day of 1", "last day of 1", "first day of 2", "long after"],
)
def test_the_version_in_force(kb_root: Path, day: str, number: str) -> None:
    assert version_in_force(KnowledgeBase(kb_root), POLICY, date.fromisoformat(day)).number == number


def test_a_date_no_version_covers_names_every_version(kb_root: Path) -> None:
    with pytest.raises(VersionError) as raised:
        version_in_force(KnowledgeBase(kb_root), POLICY, date(2024, 3, 31))
    assert str(raised.value) == (
        "no version of CMICB_Clin086 is in force on 2024-03-31; versions: 1 (2024-04-01 to 2026-03-31), 2 (from 2026-04-01)"
    )


def _query(kb_root: Path, facts: dict[str, object], *options: str, output: str = "json") -> tuple[int, str, str]:
    arguments = ["query", "--kb", str(kb_root), "--policy", POLICY, "--format", output, *options, "-"]
    result = CliRunner().invoke(main, arguments, input=json.dumps(facts))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("options", "facts", "status"),
    [
        (["--as-of", "2025-06-01"], {}, "commissioned"),
        (["--as-of", "2026-06-01"], {}, "outside_policy"),
        ([], {"request_date": "2025-06-01"}, "commissioned"),
        (["--as-of", "2026-06-01"], {"request_date": "2025-06-01"}, "commissioned"),
        ([], {"request_date": "2026-04-01"}, "outside_policy"),
    ],
    ids=["as-of in version 1", "as-of in version 2", "request_date", "request_date before --as-of", "request_date first day of 2"],
)
def test_query_decides_under_the_version_in_force(kb_root: Path, options: list[str], facts: dict[str, object], status: str) -> None:
    code, out, _ = _query(kb_root, {**COMPLETE_ADULT, "age": 17, **facts}, *options)
    assert code == 0
    answer = json.loads(out)
    assert answer["status"] == status
    assert answer["policy_version"] == ("1" if status == "commissioned" else "2")


def test_query_on_a_date_no_version_covers_is_one_clear_error(kb_root: Path) -> None:
    code, out, err = _query(kb_root, COMPLETE_ADULT, "--as-of", "2020-01-01", output="text")
    assert (code, out) == (1, "")
    assert err == (
        "Error: no version of CMICB_Clin086 is in force on 2020-01-01; versions: 1 (2024-04-01 to 2026-03-31), 2 (from 2026-04-01)\n"
    )


@pytest.mark.parametrize("value", ["2025-02-30", "01/04/2026", "2026-4-1", 20260401], ids=["no such day", "not ISO", "not padded", "a number"])
def test_a_bad_request_date_names_the_field(kb_root: Path, value: object) -> None:
    code, out, err = _query(kb_root, {**COMPLETE_ADULT, "request_date": value}, output="text")
    assert (code, out) == (1, "")
    assert err == "Error: invalid input: request_date: expected a date as YYYY-MM-DD, such as 2026-04-01\n"


def test_a_bad_as_of_is_a_usage_error(kb_root: Path) -> None:
    result = CliRunner().invoke(main, ["query", "--kb", str(kb_root), "--policy", POLICY, "--as-of", "2026-13-01", "-"], input="{}")
    assert result.exit_code == 2
    assert "Invalid value for '--as-of': '2026-13-01' is not a date as YYYY-MM-DD" in result.stderr


def test_check_checks_each_version_and_their_dates(tmp_path: Path) -> None:
    root = versioned_kb(tmp_path / "kb", version_2=VERSION_2.replace("2026-04-01", "2026-04-03"))
    reports = check_versions(KnowledgeBase(root), POLICY)
    assert [report.policy for report in reports] == ["CMICB_Clin086 version 1", "CMICB_Clin086 version 2"]
    assert [(f.kind, f.message) for f in reports[0].findings] == [
        (
            "version_dates",
            (
                "no version is in force from 2026-04-01 to 2026-04-02, between version 1 (2024-04-01 to 2026-03-31) "
                "and version 2 (from 2026-04-03)"
            ),
        )
    ]
    assert reports[1].ok and reports[1].inputs_verified


def test_check_of_well_dated_versions_is_clean(kb_root: Path) -> None:
    reports = check_versions(KnowledgeBase(kb_root), POLICY)
    assert [report.ok for report in reports] == [True, True]


def test_an_author_case_may_pin_a_version(tmp_path: Path) -> None:
    root = versioned_kb(tmp_path / "kb", VERSION_1, VERSION_2)
    cases = root / "policies" / "cmicb_clin086" / "versions.cases.yaml"
    cases.write_text(
        "policy: CMICB_Clin086\n"
        "base_facts: {age: 17, setting: mcas, sciatica: false, red_flags: [], likely_to_change_management: true,"
        " mcas_in_place: true}\n"
        "cases:\n"
        "  - {name: pinned to 1, version: 1, status: commissioned, clauses: ['1.3']}\n"
        "  - {name: dated in 1, facts: {request_date: '2025-01-01'}, status: commissioned, clauses: ['1.3']}\n"
        "  - {name: pinned to 2, version: '2', status: outside_policy, clauses: ['1.5']}\n"
    )
    result = CliRunner().invoke(main, ["test", "--kb", str(root), "--as-of", "2026-06-01", str(cases)])
    assert result.exit_code == 0, result.stdout
    assert "3 passed" in result.stdout


@pytest.mark.parametrize(("day", "status"), [("2025-06-01", "commissioned"), ("2026-06-01", "outside_policy")], ids=["2025", "2026"])
def test_audit_applies_the_version_in_force_on_as_of(kb_root: Path, tmp_path: Path, day: str, status: str) -> None:
    extract = tmp_path / "rows.jsonl"
    extract.write_text(json.dumps({"id": "a", **COMPLETE_ADULT, "age": 17}) + "\n")
    result = CliRunner().invoke(main, ["audit", str(extract), "--kb", str(kb_root), "--policy", POLICY, "--as-of", day])
    assert result.exit_code == 0
    line = json.loads(result.stdout)
    assert (line["status"], line["provenance"]["version"]) == (status, "1" if status == "commissioned" else "2")
    assert f"under CMICB_Clin086 version {line['provenance']['version']}" in result.stderr


def test_policies_lists_each_version_and_its_dates() -> None:
    result = CliRunner().invoke(main, ["policies"])
    assert result.exit_code == 0
    assert "  versions: 1 (2024-04-01 to 2026-03-31), 2 (from 2026-04-01)\n" in result.stdout
    listed = {p["reference"]: p["versions"] for p in json.loads(CliRunner().invoke(main, ["policies", "--format", "json"]).stdout)}
    assert [(v["version"], v["effective_from"], v["effective_to"]) for v in listed["DRAFT_EBI_BreastReduction"]] == [
        ("1", "2024-04-01", "2026-03-31"),
        ("2", "2026-04-01", None),
    ]
    assert [v["version"] for v in listed["CMICB_Clin086"]] == ["1"]


@pytest.mark.parametrize(("day", "version"), [("2025-06-01", "1"), ("2026-06-01", "2")], ids=["2025", "2026"])
def test_a_routed_audit_applies_the_version_in_force_on_as_of(kb_root: Path, tmp_path: Path, day: str, version: str) -> None:
    extract = tmp_path / "rows.jsonl"
    extract.write_text(json.dumps({"id": "a", **COMPLETE_ADULT, "age": 17, "code": "41333006"}) + "\n")
    arguments = ["audit", str(extract), "--kb", str(kb_root), "--procedure-column", "code", "--procedure-system", "snomed"]
    result = CliRunner().invoke(main, [*arguments, "--as-of", day])
    assert result.exit_code == 0, result.stderr
    line = json.loads(result.stdout)
    assert (line["status"], line["provenance"]["version"]) == ("commissioned" if version == "1" else "outside_policy", version)


def test_a_routed_audit_decides_each_row_under_the_version_of_its_request_date(kb_root: Path, tmp_path: Path) -> None:
    rows = [
        {"id": "old", "request_date": "2025-06-01"},
        {"id": "new", "request_date": "2026-06-01"},
        {"id": "undated"},
        {"id": "before", "request_date": "2020-01-01"},
        {"id": "bad", "request_date": "2025-02-30"},
        {"id": "list", "request_date": ["2025-06-01"]},
    ]
    extract = tmp_path / "rows.jsonl"
    extract.write_text("".join(json.dumps({**COMPLETE_ADULT, "age": 17, "code": "41333006", **row}) + "\n" for row in rows))
    arguments = ["audit", str(extract), "--kb", str(kb_root), "--procedure-column", "code", "--procedure-system", "snomed"]
    result = CliRunner().invoke(main, [*arguments, "--as-of", "2025-01-01"])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["id"], line.get("status"), line.get("provenance", {}).get("version")) for line in lines[:3]] == [
        ("old", "commissioned", "1"),
        ("new", "outside_policy", "2"),
        ("undated", "commissioned", "1"),
    ]
    assert [(line["id"], line["fields"]) for line in lines[3:]] == [
        ("before", ["request_date"]), ("bad", ["request_date"]), ("list", ["request_date"])
    ]
    assert lines[3]["error"] == (
        "row 4: request_date: no version of CMICB_Clin086 is in force on 2020-01-01; "
        "versions: 1 (2024-04-01 to 2026-03-31), 2 (from 2026-04-01)"
    )
    assert lines[4]["error"] == "row 5: request_date: expected a date as YYYY-MM-DD, such as 2026-04-01"
    assert "  CMICB_Clin086 version 1: 2 rows\n  CMICB_Clin086 version 2: 1 rows\n" in result.stderr


def test_a_routed_csv_audit_reads_the_request_date_column(kb_root: Path, tmp_path: Path) -> None:
    extract = tmp_path / "rows.csv"
    extract.write_text(
        "id,code,request_date,age,setting,sciatica,red_flags,likely_to_change_management,mcas_in_place,seen_by_mcas\n"
        "a,41333006,2025-06-01,17,mcas,false,[],true,true,true\n"
        "b,41333006,2026-06-01,17,mcas,false,[],true,true,true\n"
    )
    arguments = ["audit", str(extract), "--kb", str(kb_root), "--procedure-column", "code", "--procedure-system", "snomed"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert [json.loads(line)["status"] for line in result.stdout.splitlines()] == ["commissioned", "outside_policy"]

"""Breast reduction's two versions: the version in force by date, exactly what version 2
changes (BMI 27.0 up to 29.9, all else met), and the rows of an extract it changes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pyclingo_bridge.cli import main
from pyclingo_bridge.impact import render_impact_html

POLICY = "DRAFT_EBI_BreastReduction"
ALL_ELSE_MET: dict[str, Any] = {
    "sex": "female",
    "gp_supportive_care": True,
    "thoracic_or_shoulder_pain": True,
    "physiotherapy_assessed": True,
    "functional_symptoms": True,
    "planned_reduction_grams_per_breast": 600,
    "bmi_stable_months": 24,
    "written_information_given": True,
}
EVERY_CLAUSE = ["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"]


def _run(*arguments: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(arguments), input=stdin)
    return result.exit_code, result.stdout


def _query(facts: dict[str, Any], *options: str) -> dict[str, Any]:
    code, out = _run("query", "--policy", POLICY, "--format", "json", *options, "-", stdin=json.dumps(facts))
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("day", "version", "status", "clauses"),
    [("2025-06-01", "1", "not_commissioned", ["1.6"]), ("2026-06-01", "2", "commissioned", EVERY_CLAUSE)],
    ids=["2025: version 1", "2026: version 2"],
)
def test_a_woman_with_bmi_28_4_by_the_version_in_force(day: str, version: str, status: str, clauses: list[str]) -> None:
    answer = _query({**ALL_ELSE_MET, "bmi": 28.4}, "--as-of", day)
    assert (answer["policy_version"], answer["status"], answer["clauses"]) == (version, status, clauses)
    assert answer["provenance"]["version"] == version
    assert answer["provenance"]["effective_from"] == {"1": "2024-04-01", "2": "2026-04-01"}[version]


def test_the_diff_is_exactly_bmi_27_0_up_to_29_9_all_else_met() -> None:
    code, out = _run("diff", POLICY, "--from", "1", "--to", "2", "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert (report["from"]["version"], report["to"]["version"]) == ("1", "2")
    moved = [c for c in report["changes"] if c["from"]["status"] != c["to"]["status"]]
    assert [(c["from"], c["to"]) for c in moved] == [
        ({"status": "not_commissioned", "clauses": ["1.6"]}, {"status": "commissioned", "clauses": EVERY_CLAUSE})
    ]
    for change in report["changes"]:
        assert Decimal("27.0") <= Decimal(str(change["example"]["bmi"])) <= Decimal("29.9")
        for side, day in (("from", "2025-06-01"), ("to", "2026-06-01")):
            answer = _query(change["example"], "--as-of", day)
            assert {"status": answer["status"], "clauses": answer["clauses"]} == change[side]


def test_the_text_names_the_bmi_range() -> None:
    code, out = _run("diff", POLICY, "--from", "1", "--to", "2")
    assert code == 0
    assert out.splitlines()[1:4] == [
        "status changes: 1 class of patients",
        "  1. not_commissioned (1.6) -> commissioned (1.2, 1.3, 1.4, 1.5, 1.6, 1.7)",
        "     patients with bmi 27.0 to 29.9, bmi_stable_months 12 to 600",
    ]


@pytest.mark.parametrize(
    ("bmi", "changes"),
    [(26.9, False), (27.0, True), (28.4, True), (29.9, True), (30.0, False)],
    ids=["26.9", "27.0", "28.4", "29.9", "30.0"],
)
def test_each_bmi_changes_exactly_when_the_diff_says(bmi: float, changes: bool) -> None:
    before, after = (_query({**ALL_ELSE_MET, "bmi": bmi}, "--as-of", day)["status"] for day in ("2025-06-01", "2026-06-01"))
    assert (before != after) == changes


@pytest.fixture()
def extract(tmp_path: Path) -> Path:
    rows = [
        {"id": f"r{number}", **ALL_ELSE_MET, "bmi": bmi}
        for number, bmi in enumerate([22.0, 26.9, 27.0, 28.4, 29.9, 30.0, 35.5, 28.4])
    ]
    rows.append({"id": "cosmetic", **ALL_ELSE_MET, "bmi": 28.0, "cosmetic_only": True, "functional_symptoms": False})
    rows.append({"id": "bad", "bmi": "tall"})
    path = tmp_path / "activity.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_on_an_extract_counts_exactly_the_rows_with_bmi_27_to_29_9(extract: Path, tmp_path: Path) -> None:
    report = tmp_path / "impact.html"
    code, out = _run("diff", POLICY, "--from", "1", "--to", "2", "--on", str(extract), "--format", "json", "--report", str(report))
    assert code == 0
    found = json.loads(out)
    assert found["transitions"] == [{"from": "not_commissioned", "to": "commissioned", "count": 4, "rows": ["r2", "r3", "r4", "r7"]}]
    assert (found["rows"], found["unchanged"], found["errors"]) == (10, 5, 1)
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 1
    assert "<title>not_commissioned → commissioned: 4</title>" in html
    assert "<script" not in html and "https://" not in html


def test_on_an_extract_as_text(extract: Path) -> None:
    code, out = _run("diff", POLICY, "--from", "1", "--to", "2", "--on", str(extract))
    assert code == 0
    assert out.splitlines()[1:] == [
        "10 rows: 4 change status, 5 unchanged, 1 could not be decided",
        "  not_commissioned -> commissioned: 4 rows (r2, r3, r4, r7)",
    ]


def test_the_impact_report_escapes_ids_and_renders_in_headless_chromium(extract: Path, tmp_path: Path) -> None:
    import shutil
    import subprocess

    from pyclingo_bridge.engine import engine_for
    from pyclingo_bridge.impact import impact

    text = extract.read_text().replace('"r2"', '"<script>alert(1)</script>"')
    extract.write_text(text)
    found = impact(extract, engine_for(POLICY, version="1"), engine_for(POLICY, version="2"), "jsonl", jobs=1)
    html = render_impact_html(found)
    assert "<script>" not in html and "&lt;script&gt;" in html
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no headless browser: install the Debian package chromium (.ci/run does)")
    page = tmp_path / "impact.html"
    page.write_text(html)
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "Rows by change of status" in dom and "<svg" in dom

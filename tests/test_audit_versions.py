"""``policykb audit --policy``: each row decided under the version in force on its own request_date."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge.audit import AuditSettings
from pyclingo_bridge.audit.routed import audit_by_version, dates_choose_versions
from pyclingo_bridge.cli import main
from pyclingo_bridge.engine import engine_for
from pyclingo_bridge.knowledge_base import knowledge_base
from pyclingo_bridge.versions import version_in_force

from .test_breast_reduction_versions import ALL_ELSE_MET, POLICY

BMIS = ["26.9", "27.0", "28.4", "29.9", "30.0", "31.5"]
VERSIONS = "versions: 1 (2024-04-01 to 2026-03-31), 2 (from 2026-04-01)"
DAYS = {"1": "2025-06-01", "2": "2026-06-01"}


def _rows() -> list[dict[str, Any]]:
    """Every BMI on a day of each version, interleaved so that the versions' rows alternate."""
    return [{"id": f"{bmi}@{number}", "request_date": day, **ALL_ELSE_MET, "bmi": float(bmi)}
            for bmi in BMIS for number, day in DAYS.items()]


def _expected(row: dict[str, Any], version: str) -> str:
    facts = {key: value for key, value in row.items() if key not in ("id", "request_date")}
    return engine_for(POLICY, version=version).decide(facts).status


def _audit(extract: Path, *options: str) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(main, ["audit", str(extract), "--policy", POLICY, "--jobs", "1", *options])
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def test_each_row_is_decided_under_the_version_of_its_request_date(tmp_path: Path) -> None:
    extract = tmp_path / "rows.jsonl"
    rows = _rows()
    extract.write_text("".join(json.dumps(row) + "\n" for row in rows))
    code, lines, stderr = _audit(extract, "-o", str(tmp_path / "out.jsonl"))
    assert code == 0, stderr
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(line["row"], line["id"]) for line in lines] == [(n, row["id"]) for n, row in enumerate(rows, start=1)]
    assert [line["provenance"]["version"] for line in lines] == [row["id"].split("@")[1] for row in rows]
    assert [line["status"] for line in lines] == [_expected(row, row["id"].split("@")[1]) for row in rows]
    by_bmi = {(line["id"].split("@")[0], line["provenance"]["version"]): line["status"] for line in lines}
    changed = [bmi for bmi in BMIS if by_bmi[(bmi, "1")] != by_bmi[(bmi, "2")]]
    assert changed == [bmi for bmi in BMIS if Decimal("27.0") <= Decimal(bmi) <= Decimal("29.9")]
    assert stderr.startswith(f"audited 12 rows, each under the version of {POLICY} in force on its request_date "
                             "(else --as-of, else today), in ")
    assert f"  {POLICY} version 1: 6 rows\n  {POLICY} version 2: 6 rows\n" in stderr
    manifest = json.loads((tmp_path / "out.jsonl.manifest.json").read_text())
    assert [version["version"] for version in manifest["versions"]] == ["1", "2"]
    assert manifest["rows"]["total"] == 12


def test_a_csv_extract_s_request_date_column_chooses_the_version(tmp_path: Path) -> None:
    extract = tmp_path / "rows.csv"
    columns = ["id", "request_date", *ALL_ELSE_MET, "bmi"]
    cells = {**{key: str(value).lower() for key, value in ALL_ELSE_MET.items()}, "bmi": "28.4"}
    extract.write_text(",".join(columns) + "\n" + "".join(
        ",".join([ident, day, *(cells[key] for key in columns[2:])]) + "\n"
        for ident, day in (("old", "2025-06-01"), ("new", "2026-06-01"), ("undated", ""))
    ))
    code, lines, stderr = _audit(extract, "--as-of", "2025-01-01")
    assert code == 0, stderr
    assert [(line["id"], line["status"], line["provenance"]["version"]) for line in lines] == [
        ("old", "not_commissioned", "1"), ("new", "commissioned", "2"), ("undated", "not_commissioned", "1"),
    ]


def test_rows_without_request_date_take_as_of_and_bad_rows_get_their_error_lines(tmp_path: Path) -> None:
    row = {**ALL_ELSE_MET, "bmi": 28.4}
    extract = tmp_path / "rows.jsonl"
    extract.write_text(
        json.dumps({"id": "undated", **row}) + "\n"
        + json.dumps({"id": "before", "request_date": "2020-01-01", **row}) + "\n"
        + "{not json\n"
        + json.dumps({"id": "bad date", "request_date": "2025-02-30", **row}) + "\n"
        + json.dumps({"id": "new", "request_date": "2026-06-01", **row}) + "\n"
    )
    code, lines, _ = _audit(extract, "--as-of", "2025-06-01")
    assert code == 1
    assert [(line["row"], line["id"], line.get("status"), line.get("fields")) for line in lines] == [
        (1, "undated", "not_commissioned", None),
        (2, "before", None, ["request_date"]),
        (3, 3, None, ["input"]),
        (4, "bad date", None, ["request_date"]),
        (5, "new", "commissioned", None),
    ]
    assert lines[1]["error"] == f"row 2: request_date: no version of {POLICY} is in force on 2020-01-01; {VERSIONS}"
    assert lines[3]["error"] == "row 4: request_date: expected a date as YYYY-MM-DD, such as 2026-04-01"


@pytest.mark.parametrize(("policy", "grouped"), [("CMICB_Clin086", False), (POLICY, True)],
                         ids=["one version on every date: not regrouped", "two dated versions"])
def test_only_a_policy_of_dated_versions_is_regrouped(policy: str, grouped: bool) -> None:
    assert dates_choose_versions(None, policy) is grouped


AS_OF = date(2025, 1, 1)
ROWS = st.lists(st.tuples(
    st.decimals(min_value=Decimal("20.0"), max_value=Decimal("35.0"), places=1),
    st.none() | st.dates(min_value=date(2024, 4, 1), max_value=date(2027, 12, 31)),
), min_size=1, max_size=30)


@settings(max_examples=15, deadline=None)
@given(ROWS)
def test_every_row_gets_the_answer_of_the_version_in_force_on_its_date(rows: list[tuple[Decimal, date | None]]) -> None:
    extract = "".join(json.dumps({**ALL_ELSE_MET, "bmi": float(bmi), **({"request_date": day.isoformat()} if day else {})}) + "\n"
                      for bmi, day in rows)
    written: list[str] = []
    audit_by_version(io.StringIO(extract), AuditSettings(POLICY, as_of=AS_OF), written.append, jobs=1)
    lines = [json.loads(line) for line in "".join(written).splitlines()]
    kb = knowledge_base()
    expected = []
    for bmi, day in rows:
        version = version_in_force(kb, POLICY, day or AS_OF).number
        expected.append((version, engine_for(POLICY, version=version).decide({**ALL_ELSE_MET, "bmi": float(bmi)}).status))
    assert [line["row"] for line in lines] == list(range(1, len(rows) + 1))
    assert [(line["provenance"]["version"], line["status"]) for line in lines] == expected


def test_a_csv_record_that_cannot_be_read_gets_the_audit_s_own_error_line(tmp_path: Path) -> None:
    extract = tmp_path / "rows.csv"
    extract.write_text('id,request_date,bmi,sex\na,2025-06-01,28.4,female\nb,2025-06-01,"28.4x,female\nc,2025-06-01,28.4,female,x\n')
    code, lines, _ = _audit(extract)
    assert code == 1
    assert [(line["id"], line.get("status"), line.get("error")) for line in lines] == [
        ("a", "not_commissioned", None),
        (2, None, ("row 2: input: not a readable CSV record: the quote at line 3, column 14 opens a quoted cell that the "
                   "line does not close (a record is one line; a quote inside a cell is written twice)")),
        (3, None, "row 3: input: 5 cells where the header has 4 columns"),
    ]


def test_an_unknown_csv_column_is_refused_before_any_row(tmp_path: Path) -> None:
    extract = tmp_path / "rows.csv"
    extract.write_text("id,request_date,bmj\na,2025-06-01,28.4\n")
    result = CliRunner().invoke(main, ["audit", str(extract), "--policy", POLICY])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith("Error: invalid input: bmj: unknown CSV column (did you mean 'bmi'?); allowed columns: id, ")


@pytest.mark.parametrize(
    ("spelling", "survives"),
    [
        pytest.param('"request_date"', True, id="plain"),
        pytest.param('"request\\u005fdate"', True, id="escaped"),  # the same member: the bytes never say request_date
        pytest.param('"note": "request_date", "other_date"', False, id="named-in-a-string"),
    ],
)
def test_a_row_dated_however_its_key_is_spelt_is_decided_under_its_version(
    tmp_path: Path, spelling: str, survives: bool
) -> None:
    """A file whose bytes cannot name a request_date is audited at once under the undated
    version (no row is split off): any doubt, an escape above all, reads every row's date."""
    facts = json.dumps({**ALL_ELSE_MET, "bmi": 28.4})[1:-1]
    lines = [f'{{"id": "a", {facts}}}', f'{{"id": "b", {spelling}: "{DAYS["1"]}", {facts}}}', f'{{"id": "c", {facts}}}']
    extract = tmp_path / "rows.jsonl"
    extract.write_text("\n".join(lines) + "\n")
    code, out, stderr = _audit(extract, "--as-of", DAYS["2"])
    assert code == (0 if survives else 1), stderr
    versions = {line["id"]: line.get("provenance", {}).get("version") for line in out}
    assert versions == ({"a": "2", "b": "1", "c": "2"} if survives else {"a": "2", "b": None, "c": "2"})


def test_an_extract_that_names_no_request_date_is_audited_under_the_as_of_version(tmp_path: Path) -> None:
    rows = [{"id": f"r{n}", **ALL_ELSE_MET, "bmi": float(bmi)} for n, bmi in enumerate(BMIS)]
    extract = tmp_path / "rows.jsonl"
    extract.write_text("".join(json.dumps(row) + "\n" for row in rows))
    for number, day in DAYS.items():
        code, out, stderr = _audit(extract, "--as-of", day)
        assert code == 0, stderr
        assert [line["provenance"]["version"] for line in out] == [number] * len(rows)
        assert [line["status"] for line in out] == [_expected(row, number) for row in rows]
        assert stderr.startswith(f"audited {len(rows)} rows under {POLICY} version {number} in ")

"""``policykb diff``: exactly the patients two versions decide differently, each with an example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pyclingo_bridge.cli import main
from pyclingo_bridge.diff import diff_engines
from pyclingo_bridge.engine import engine_for

from .versioned_kb import POLICY, versioned_kb

DRAFT = Path(__file__).resolve().parent.parent / "examples" / "drafts" / "cmicb_clin086_v2"


@pytest.fixture(scope="module")
def kb_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return versioned_kb(tmp_path_factory.mktemp("versioned") / "kb")


def _diff(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["diff", *arguments])
    return result.exit_code, result.stdout


def test_the_draft_moves_exactly_the_16_to_18_year_olds_outside_the_policy() -> None:
    code, out = _diff(POLICY, "--against-kb", str(DRAFT), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"policy", "from", "to", "changes"}
    assert (report["policy"], report["from"]["version"], report["to"]["version"]) == (POLICY, "1", "2")
    assert report["changes"]
    for change in report["changes"]:
        assert set(change) == {"from", "to", "example"}
        assert change["to"] == {"status": "outside_policy", "clauses": [*(["1.5"]), *change["to"]["clauses"][1:]]}
        assert change["to"]["clauses"][0] == "1.5"
        assert 16 <= change["example"]["age"] <= 18
    moved = {change["from"]["status"] for change in report["changes"] if change["from"]["status"] != "outside_policy"}
    assert moved == {"commissioned", "not_commissioned"}


@pytest.mark.parametrize("age", [15, 16, 17, 18, 19], ids=lambda age: f"age {age}")
def test_the_classes_are_exactly_the_ages_that_change(age: int) -> None:
    """Every class's ages, from the solver, are 16-18, and each age there does change: the
    diff's classes cover exactly the patients whose answers differ."""
    before, after = engine_for(POLICY), engine_for(POLICY, DRAFT)
    changes = diff_engines(before, after).changes
    ages = {value for change in changes for value in change.values["age"]}
    assert ages == {16, 17, 18}
    example = dict(changes[0].example, age=age)
    differs = (before.decide(example).status, before.decide(example).clauses) != (after.decide(example).status, after.decide(example).clauses)
    assert differs == (16 <= age <= 18)


def test_each_example_is_decided_by_query_as_the_diff_says(kb_root: Path) -> None:
    code, out = _diff(POLICY, "--kb", str(kb_root), "--from", "1", "--to", "2", "--format", "json")
    assert code == 0
    changes = json.loads(out)["changes"]
    assert changes
    for change in changes:
        for side, day in (("from", "2025-01-01"), ("to", "2026-06-01")):
            arguments = ["query", "--kb", str(kb_root), "--policy", POLICY, "--as-of", day, "--format", "json", "-"]
            answer = json.loads(CliRunner().invoke(main, arguments, input=json.dumps(change["example"])).stdout)
            assert {"status": answer["status"], "clauses": answer["clauses"]} == change[side]


def test_no_change_is_said_and_exits_0() -> None:
    assert _diff(POLICY) == (0, "CMICB_Clin086: version 1 (ratified, every date) -> version 1 (ratified, every date)\nno decision changes\n")


def test_text_names_the_class_and_its_example() -> None:
    code, out = _diff(POLICY, "--against-kb", str(DRAFT))
    assert code == 0
    lines = out.splitlines()
    assert lines[:3] == [
        "CMICB_Clin086: version 1 (ratified, every date) -> version 2 (draft, every date)",
        "status changes: 13 classes of patients",
        "  1. commissioned (1.3) -> outside_policy (1.5)",
    ]
    assert lines[3] == "     patients with age 16 to 18"
    assert lines[4].startswith('     example: {"age": ')


def test_an_unknown_version_is_one_clear_error(kb_root: Path) -> None:
    result = CliRunner().invoke(main, ["diff", POLICY, "--kb", str(kb_root), "--from", "3"])
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: CMICB_Clin086 has no version '3'; versions: 1 (2024-04-01 to 2026-03-31), 2 (from 2026-04-01)\n",
    )

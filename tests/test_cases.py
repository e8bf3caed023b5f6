"""Author case files: reading them, running them, and their coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyclingo_bridge import KnowledgeBase, PolicyEngine
from pyclingo_bridge.cases import (
    Case,
    CaseFileError,
    find_case_files,
    kb_root_of,
    load_case_file,
    policy_case_files,
    run_case,
)
from pyclingo_bridge.coverage import coverage

POLICY = "CMICB_Clin086"

HEADER = "policy: CMICB_Clin086\ncases:\n"


def write(tmp_path: Path, text: str, name: str = "x.cases.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_cases_with_base_facts_and_unquoted_clauses(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "policy: CMICB_Clin086\n"
        "base_facts: {age: 45, setting: mcas}\n"
        "cases:\n"
        "  - name: first\n"
        "    facts: {setting: primary_care, age: null}\n"
        "    status: not_commissioned\n"
        "    clauses: [6.5, 1.10, 1.2]\n",
    )
    [case] = load_case_file(path).cases
    assert case.facts == {"age": None, "setting": "primary_care"}
    assert case.clauses == ("1.2", "1.10", "6.5"), "clause numbers stay text, in clause order"
    assert (case.file, case.line, case.policy) == (path, 4, POLICY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("policy: CMICB_Clin086\ncasse: []\n", "x.cases.yaml:1: unknown key 'casse' (did you mean cases?)"),
        (HEADER + "  - name: a\n    status: commissioned\n", "x.cases.yaml:3: case 'a': clauses: expected the clauses"),
        (HEADER + "  - name: a\n    status: approved\n    clauses: []\n", "case 'a': status: 'approved' is not one of"),
        (HEADER + "  - name: a\n    status: commissioned\n    clause: [1.3]\n", "unknown key 'clause' (did you mean clauses?)"),
        (HEADER + "  - name: a\n    status: commissioned\n    status: outside_policy\n", "x.cases.yaml:5: 'status' is given twice"),
        (HEADER + "  - name: a\n    status: undetermined\n  - name: a\n    status: undetermined\n", "x.cases.yaml:5: case 'a' is named twice"),
        (HEADER + "  - name: a\n   status: [\n", "not valid YAML"),
        ("cases: []\n", "x.cases.yaml:1: policy: required"),
        (HEADER, "cases: expected a list of cases"),
    ],
    ids=["unknown-key", "no-clauses", "bad-status", "misspelt-key", "duplicate-key", "duplicate-name", "yaml", "no-policy", "no-cases"],
)
def test_bad_case_file_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CaseFileError) as error:
        load_case_file(write(tmp_path, text))
    assert message in str(error.value)


def case(**changes: object) -> Case:
    fields: dict[str, object] = {
        "name": "c",
        "facts": {"age": 45, "setting": "primary_care", "red_flags": []},
        "status": "not_commissioned",
        "clauses": ("1.2",),
    }
    fields.update(changes)
    return Case(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "outcome", "problems"),
    [
        ({}, "PASS", ()),
        ({"status": "commissioned"}, "FAIL", ("status: expected commissioned, derived not_commissioned",)),
        ({"clauses": ("1.3",)}, "FAIL", ("clauses: expected 1.3, derived 1.2",)),
        (
            {"facts": {"setting": "primary_care"}, "status": "undetermined", "clauses": (), "missing": ("age",)},
            "FAIL",
            ("missing: expected age, derived age, red_flags",),
        ),
        (
            {"facts": {"setting": "primary_care"}, "status": "undetermined", "clauses": (),
             "possible": ("not_commissioned", "outside_policy"), "missing": ("age", "red_flags")},
            "PASS",
            (),
        ),
    ],
    ids=["pass", "status", "clauses", "missing", "undetermined-pass"],
)
def test_run_case_compares_expected_and_derived(
    engine: PolicyEngine, changes: dict[str, object], outcome: str, problems: tuple[str, ...]
) -> None:
    result = run_case(engine, case(**changes))
    assert (result.outcome, result.problems) == (outcome, problems)


def test_bad_facts_are_an_error_result_naming_the_field(engine: PolicyEngine) -> None:
    result = run_case(engine, case(facts={"setting": "gp"}))
    assert result.outcome == "ERROR"
    assert result.error is not None and result.error.startswith("invalid facts: setting: 'gp' is not allowed")


def test_shipped_cases_pass_with_full_coverage(engine: PolicyEngine) -> None:
    kb = KnowledgeBase.installed()
    results = [run_case(engine, c) for case_file in policy_case_files(kb, POLICY) for c in case_file.cases]
    assert [r.case.name for r in results if not r.passed] == []
    cover = coverage(engine.policy, results)
    assert (cover.rules_not_fired, cover.clauses_not_covered) == ((), ())
    assert (cover.rule_percent, cover.clause_percent) == (100.0, 100.0)


def test_coverage_counts_exactly_the_rules_that_fired(engine: PolicyEngine) -> None:
    """One primary-care case fires 1.2's rule only: every other rule and clause is uncovered."""
    result = run_case(engine, case())
    cover = coverage(engine.policy, [result])
    fired = {step.rule for step in result.decision.explanation.steps} if result.decision else set()
    assert fired == {"non_specialist_setting"}
    assert set(cover.rules_not_fired) == set(engine.policy.rules) - fired
    assert cover.clauses_not_covered == ("1.1", "1.3", "1.4", "1.5", "2.1", "2.2", "3.1", "3.2", "6.3", "6.5", "6.6")
    assert cover.rule_percent == pytest.approx(100 / len(engine.policy.rules))


def test_coverage_of_undetermined_counts_only_rules_certain_to_fire(engine: PolicyEngine) -> None:
    """Age unknown: the 1.5 rule may or may not fire, so it is not counted."""
    result = run_case(engine, case(facts={"setting": "primary_care", "red_flags": []}, status="undetermined", clauses=()))
    assert result.decision is not None and result.decision.status == "undetermined"
    fired = coverage(engine.policy, [result]).rules_fired
    assert fired == {"non_specialist_setting"}


def test_case_files_are_found_and_know_their_kb(tmp_path: Path) -> None:
    kb = KnowledgeBase.installed()
    shipped = kb.case_files(POLICY)
    assert [path.name for path in shipped] == ["cases.yaml"]
    assert kb_root_of(shipped[0]) == kb.root.resolve()
    (tmp_path / "notes.yaml").write_text("x: 1\n")
    other = write(tmp_path, HEADER, "more.cases.yaml")
    assert find_case_files([tmp_path]) == [other]
    assert kb_root_of(other) is None

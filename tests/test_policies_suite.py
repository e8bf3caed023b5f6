"""A knowledge base of several policies: choosing one, and what every policy is checked for.

Part of the suite work (issue 11): no policy is chosen silently when the KB holds several;
the core clause 6.5 applies only where a policy declares a diagnostic-for-restricted-procedure
case, and the exemption from "dead rule" is declared in the KB.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pyclingo_bridge import KnowledgeBase, PolicyNotChosenError
from pyclingo_bridge.check import check_policy
from pyclingo_bridge.cli import main

pytest_plugins = ["pytester"]

CLIN086 = "policies/cmicb_clin086"
ADULT_IN_MCAS = {"age": 45, "setting": "mcas", "red_flags": [], "likely_to_change_management": True,
                 "mcas_in_place": True, "seen_by_mcas": True}


def kb_with(tmp_path: Path, *policies: str) -> Path:
    """A copy of the installed KB's core and of the named policy folders only."""
    source = KnowledgeBase.installed().root
    root = tmp_path / "kb"
    shutil.copytree(source / "core", root / "core", ignore=shutil.ignore_patterns("__pycache__"))
    for policy in policies:
        shutil.copytree(source / "policies" / policy, root / "policies" / policy)
    return root


def kb_with_a_second_policy(tmp_path: Path) -> Path:
    """Clin086 and a copy of it under another id (enough to make the choice ambiguous)."""
    root = kb_with(tmp_path, "cmicb_clin086")
    shutil.copytree(root / CLIN086, root / "policies" / "second_copy")
    policy = root / "policies" / "second_copy" / "policy.lp"
    policy.write_text(policy.read_text().replace('"CMICB_Clin086"', '"Second_Copy"'))
    return root


# -- choosing the policy -------------------------------------------------------------------

def test_a_kb_with_one_policy_chooses_it(tmp_path: Path) -> None:
    kb = KnowledgeBase(kb_with(tmp_path, "cmicb_clin086"))
    assert kb.choose_policy(None) == "cmicb_clin086"
    assert kb.choose_policy("CMICB_Clin086") == "CMICB_Clin086"


def test_a_kb_with_several_policies_needs_one_named(tmp_path: Path) -> None:
    kb = KnowledgeBase(kb_with_a_second_policy(tmp_path))
    with pytest.raises(PolicyNotChosenError) as raised:
        kb.choose_policy(None)
    assert str(raised.value) == "the knowledge base holds 2 policies, name one of: cmicb_clin086, second_copy"
    assert kb.choose_policy("second_copy") == "second_copy"


@pytest.mark.parametrize("command", ["query", "audit", "check"])
def test_cli_needs_policy_with_several_and_lists_them(tmp_path: Path, command: str) -> None:
    root = kb_with_a_second_policy(tmp_path)
    result = CliRunner().invoke(main, [command, "--kb", str(root), "-"], input="{}")
    if command == "check":  # check takes no input file
        result = CliRunner().invoke(main, [command, "--kb", str(root)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.endswith(
        "Error: give --policy: the knowledge base holds 2 policies, name one of: cmicb_clin086, second_copy\n"
    )


def test_cli_query_with_one_policy_needs_no_option(tmp_path: Path) -> None:
    root = kb_with(tmp_path, "cmicb_clin086")
    result = CliRunner().invoke(main, ["query", "--kb", str(root), "--format", "json", "-"], input=json.dumps(ADULT_IN_MCAS))
    assert result.exit_code == 0, result.output
    assert (json.loads(result.stdout)["policy"], json.loads(result.stdout)["status"]) == ("CMICB_Clin086", "commissioned")


def test_cli_query_names_the_policy_among_several(tmp_path: Path) -> None:
    root = kb_with_a_second_policy(tmp_path)
    result = CliRunner().invoke(
        main, ["query", "--kb", str(root), "--policy", "second_copy", "--format", "json", "-"], input=json.dumps(ADULT_IN_MCAS)
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["policy"] == "Second_Copy"


def test_check_all_covers_every_policy(tmp_path: Path) -> None:
    root = kb_with_a_second_policy(tmp_path)
    result = CliRunner().invoke(main, ["check", "--all", "--kb", str(root)])
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()] == ["CMICB_Clin086", "Second_Copy"]


def test_fixture_needs_the_marker_with_several_policies(pytester: pytest.Pytester, tmp_path: Path) -> None:
    root = kb_with_a_second_policy(tmp_path)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.policy("second_copy")
        def test_marked(policy_engine):
            assert policy_engine.policy.reference == "Second_Copy"

        def test_unmarked(policy_engine):
            pass
        """
    )
    result = pytester.runpytest("--strict-markers", "--policykb-kb", str(root))
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*policy_engine needs @pytest.mark.policy(ID): the knowledge base holds 2 policies, "
        "name one of: cmicb_clin086, second_copy*"
    ])


def test_fixture_takes_the_only_policy_unmarked(pytester: pytest.Pytester, tmp_path: Path) -> None:
    root = kb_with(tmp_path, "cmicb_clin086")
    pytester.makepyfile(
        """
        def test_unmarked(policy_engine):
            assert policy_engine.policy.reference == "CMICB_Clin086"
        """
    )
    pytester.runpytest("--policykb-kb", str(root)).assert_outcomes(passed=1)


# -- 6.5 applies only where a policy declares a case ----------------------------------------

DIAGNOSTIC_CASE = 'diagnostic_case("1.4").'
RFD_DIAGNOSTIC_RULE = """rule(rfd_imaging_is_diagnostic, "1.4",
    "The imaging only serves to decide on radiofrequency denervation, a restricted procedure").
diagnostic_for_restricted_procedure :- label(rfd_imaging_is_diagnostic),
    holds(facet_joint_rfd_prerequisite, true).
"""


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))


def test_a_policy_without_a_diagnostic_case_has_no_dead_6_5_rule(tmp_path: Path) -> None:
    root = kb_with(tmp_path, "cmicb_clin086")
    rules = root / CLIN086 / "rules.lp"
    _edit(rules, RFD_DIAGNOSTIC_RULE, "")
    _edit(rules, DIAGNOSTIC_CASE, "")
    report = check_policy(KnowledgeBase(root), "cmicb_clin086")
    assert [finding.kind for finding in report.findings] == []


def test_a_rule_declared_not_applicable_that_fires_is_reported(tmp_path: Path) -> None:
    """Without its diagnostic_case/1, Clin086's 6.5 rule is declared not applicable, yet it fires."""
    root = kb_with(tmp_path, "cmicb_clin086")
    _edit(root / CLIN086 / "rules.lp", DIAGNOSTIC_CASE, "")
    report = check_policy(KnowledgeBase(root), "cmicb_clin086")
    assert [(finding.kind, finding.clauses) for finding in report.findings] == [("not_applicable_rule_fires", ("6.5",))]
    assert report.findings[0].message == (
        "rule diagnostic_for_restricted_procedure is declared not applicable to this policy but fires: "
        "A diagnostic only to decide on a restricted procedure is not carried out without approval"
    )


def test_a_policy_with_a_diagnostic_case_still_finds_its_6_5_rule_dead(tmp_path: Path) -> None:
    """Declaring a case and deriving none is still a dead rule: the exemption is the KB's, not a blanket one."""
    root = kb_with(tmp_path, "cmicb_clin086")
    _edit(root / CLIN086 / "rules.lp", RFD_DIAGNOSTIC_RULE, "")
    report = check_policy(KnowledgeBase(root), "cmicb_clin086")
    assert [(finding.kind, finding.clauses) for finding in report.findings] == [("dead_rule", ("6.5",))]

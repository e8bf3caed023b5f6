"""The pytest plugin: case files collected as items, failures shown as expected vs derived."""

from __future__ import annotations

import pytest

from .conftest import ONE_PASSING_ONE_FAILING

pytest_plugins = ["pytester"]



def test_case_file_items_pass_and_fail_with_explanation(pytester: pytest.Pytester) -> None:
    pytester.makefile(".cases.yaml", demo=ONE_PASSING_ONE_FAILING)
    pytester.makefile(".yaml", unrelated="x: 1\n")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*demo.cases.yaml::primary care PASSED*",
            "*demo.cases.yaml::wrongly expected FAILED*",
            "case 'wrongly expected' (demo.cases.yaml:7)",
            "status: expected commissioned, derived not_commissioned",
            "clauses: expected 1.3, derived 1.2",
            "Status: Not routinely commissioned",
            "Why",
            "*[[]1.2[]] Imaging for low back pain is not routinely commissioned in a non-specialist setting",
        ]
    )


def test_unreadable_case_file_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".cases.yaml", demo="policy: CMICB_Clin086\ncasse: []\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*demo.cases.yaml:1: unknown key 'casse' (did you mean cases?)*"])


def test_policy_engine_fixture_and_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.policy("CMICB_Clin086")
        def test_marked(policy_engine):
            assert policy_engine.policy.reference == "CMICB_Clin086"
            assert policy_engine.decide({"age": 15}).status == "outside_policy"

        def test_unmarked(policy_engine):
            pass
        """
    )
    result = pytester.runpytest("--strict-markers")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*policy_engine needs @pytest.mark.policy(ID): the knowledge base holds 4 policies, name one of: "
        + "CMICB_Clin086, DRAFT_EBI_BreastReduction, DRAFT_EBI_LumbarRFD, DRAFT_EBI_Tonsillectomy*"
    ])

"""pytest plugin (entry point ``pytest11``): author case files as test items, and a fixture.

* Every ``cases.yaml`` / ``*.cases.yaml`` pytest meets becomes one test item per case, run
  by the same engine as every query (against the knowledge base the file sits in). A failure
  shows expected against derived, the patient's facts and the decision with its explanation.
* The ``policy_engine`` fixture is the engine of the policy named by ``@pytest.mark.policy(ID)``,
  over ``--policykb-kb DIR`` or the installed knowledge base. The mark may be left out only
  when the knowledge base holds one policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .case_report import render_failure
from .cases import Case, CaseFile, CaseFileError, CaseResult, engine_for_case_file, load_case_file, run_case
from .engine import PolicyEngine, engine_for
from .errors import PolicyNotChosenError
from .knowledge_base import KnowledgeBase, is_case_file


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("policykb")
    group.addoption(
        "--policykb-kb",
        default=None,
        metavar="DIR",
        help="knowledge base folder for the policy_engine fixture (default: the installed one)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "policy(id): the policy the policy_engine fixture decides under")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if is_case_file(file_path):
        return CaseFileCollector.from_parent(parent, path=file_path)
    return None


class CaseFileCollector(pytest.File):
    """An author case file: one item per case."""

    def collect(self) -> Iterator[CaseItem]:
        case_file = load_case_file(self.path)
        for case in case_file.cases:
            yield CaseItem.from_parent(self, name=case.name, case=case, case_file=case_file)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        if isinstance(excinfo.value, CaseFileError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class CaseFailed(Exception):
    """A case whose decision differs from the author's expectation."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.case.name)
        self.result = result


class CaseItem(pytest.Item):
    """One author case."""

    def __init__(self, *, case: Case, case_file: CaseFile, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.case_file = case_file

    def runtest(self) -> None:
        result = run_case(engine_for_case_file(self.case_file), self.case)
        if not result.passed:
            raise CaseFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CaseFailed):
            return f"case {self.case.name!r} ({self.path.name}:{self.case.line})\n" + render_failure(excinfo.value.result)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, f"case: {self.case.name}"


@pytest.fixture
def policy_engine(request: pytest.FixtureRequest) -> PolicyEngine:
    """The engine of the policy under test (``@pytest.mark.policy(ID)``; optional with one policy)."""
    marker = request.node.get_closest_marker("policy")
    named = str(marker.args[0]) if marker is not None and marker.args else None
    option = request.config.getoption("policykb_kb")
    kb_root = Path(option) if option else None
    kb = KnowledgeBase(kb_root) if kb_root else KnowledgeBase.installed()
    try:
        policy_id = kb.choose_policy(named)
    except PolicyNotChosenError as error:
        pytest.fail(f"policy_engine needs @pytest.mark.policy(ID): {error}", pytrace=False)
    return engine_for(policy_id, kb_root)

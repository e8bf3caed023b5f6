"""Author-case results and coverage as text: a line per case, what differs, the explanation."""

from __future__ import annotations

import json
from pathlib import Path

from .cases import Case, CaseResult, kb_root_of
from .check.source import shown_path
from .coverage import Coverage
from .render import render_text


def display_path(path: Path) -> str:
    """A case file as printed: ``kb/policies/...`` inside a knowledge base, else as given."""
    root = kb_root_of(path)
    return shown_path(path, root) if root is not None else str(path)


def case_place(case: Case) -> str:
    return f"{display_path(case.file)}:{case.line}"


def render_failure(result: CaseResult) -> str:
    """Expected against derived, the patient's facts, and the decision with its explanation."""
    lines = list(result.problems)
    if result.error is not None:
        lines.append(result.error)
    lines.append("facts: " + json.dumps(dict(result.case.facts), ensure_ascii=False))
    if result.decision is not None:
        lines += ["", *render_text(result.decision).rstrip("\n").splitlines()]
    return "\n".join(lines)


def render_result(result: CaseResult) -> str:
    """``PASS  file:line  name``; a failing case adds its failure, indented."""
    lines = [f"{result.outcome:<5} {case_place(result.case)}  {result.case.name}"]
    if not result.passed:
        lines += [f"      {line}" if line else "" for line in render_failure(result).splitlines()]
    return "\n".join(lines)


def render_summary(results: list[CaseResult], unreadable: int = 0) -> str:
    passed = sum(result.passed for result in results)
    failed = sum(result.outcome == "FAIL" for result in results)
    errors = sum(result.outcome == "ERROR" for result in results) + unreadable
    parts = [f"{passed} passed"]
    if failed:
        parts.append(f"{failed} failed")
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    count = len(results)
    return f"{count} case{'s' if count != 1 else ''}: " + ", ".join(parts)


def render_coverage(cover: Coverage) -> str:
    rules = len(cover.rules) - len(cover.rules_not_fired)
    clauses = len(cover.clauses) - len(cover.clauses_not_covered)
    lines = [
        (
            f"{cover.policy} coverage: rules {rules}/{len(cover.rules)} ({cover.rule_percent:.0f}%), "
            f"normative clauses {clauses}/{len(cover.clauses)} ({cover.clause_percent:.0f}%)"
        )
    ]
    if cover.rules_not_fired:
        lines.append("  rules no case fires: " + ", ".join(cover.rules_not_fired))
    if cover.clauses_not_covered:
        lines.append("  clauses no case exercises: " + ", ".join(cover.clauses_not_covered))
    return "\n".join(lines)

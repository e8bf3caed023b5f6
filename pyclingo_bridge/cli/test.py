"""``policykb test``: run author case files, with rule and clause coverage."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ..case_report import case_place, display_path, render_coverage, render_result, render_summary
from ..cases import CaseFileError, CaseResult, engine_for_case_file, find_case_files, load_case_file, run_case
from ..coverage import Coverage, coverage
from ..engine import engine_for
from ..errors import PolicyKBError
from ..metadata import PolicyInfo
from .options import as_of_option, format_option, kb_option, knowledge_base, library_errors, print_json


@click.command(name="test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@kb_option
@click.option(
    "--min-coverage",
    type=click.FloatRange(0, 100),
    default=None,
    help="Fail when rule or clause coverage of a policy is below this percentage.",
)
@as_of_option
@format_option
@click.pass_context
@library_errors
def test_command(
    ctx: click.Context,
    paths: tuple[Path, ...],
    kb_root: Path | None,
    min_coverage: float | None,
    as_of: date | None,
    output_format: str,
) -> None:
    """Run author case files (PATHS: files or folders; default: every policy's cases).

    Prints a line per case, a summary, and each policy's rule and clause coverage, computed
    from the rules that fired. Exit 1 if a case fails or coverage is below --min-coverage.
    """
    kb = knowledge_base(kb_root)
    files = find_case_files(paths) if paths else [f for p in kb.policy_folders() for f in kb.case_files(p)]
    results: list[CaseResult] = []
    unreadable: list[str] = []
    policies: dict[str, PolicyInfo] = {}
    by_policy: dict[str, list[CaseResult]] = {}
    for path in files:
        try:
            case_file = load_case_file(path)
            engine = engine_for_case_file(case_file, kb_root, as_of)
        except CaseFileError as error:
            unreadable.append(str(error))
            continue
        except PolicyKBError as error:  # an unknown policy or a broken KB stops this file only
            unreadable.append(f"{display_path(path)}: {error}")
            continue
        policies.setdefault(engine.policy.reference, engine.policy)
        for case in case_file.cases:
            result = run_case(engine, case)
            results.append(result)
            by_policy.setdefault(engine.policy.reference, []).append(result)
    if not paths:
        for policy_id in kb.policy_folders():
            info = engine_for(policy_id, kb_root).policy
            policies.setdefault(info.reference, info)
    covers = [coverage(info, by_policy.get(reference, [])) for reference, info in sorted(policies.items())]
    low = [c for c in covers if min_coverage is not None and min(c.rule_percent, c.clause_percent) < min_coverage]
    if output_format == "json":
        print_json(_json(results, unreadable, covers))
    else:
        for result in results:
            click.echo(render_result(result))
        for message in unreadable:
            click.echo(f"ERROR {message}")
        click.echo(render_summary(results, len(unreadable)))
        for cover in covers:
            click.echo(render_coverage(cover))
        for cover in low:
            click.echo(f"{cover.policy}: coverage below {min_coverage:g}%")
    if unreadable or low or not all(result.passed for result in results):
        ctx.exit(1)


def _json(results: list[CaseResult], unreadable: list[str], covers: list[Coverage]) -> dict[str, object]:
    return {
        "cases": [
            {
                "place": case_place(result.case),
                "name": result.case.name,
                "outcome": result.outcome,
                "problems": list(result.problems),
                "error": result.error,
                "decision": result.decision.to_dict() if result.decision else None,
            }
            for result in results
        ],
        "unreadable": unreadable,
        "passed": sum(result.passed for result in results),
        "total": len(results),
        "coverage": [cover.to_dict() for cover in covers],
    }

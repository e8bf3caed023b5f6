"""``policykb diff``: which patients two versions of a policy decide differently."""

from __future__ import annotations

from pathlib import Path

import click

from ..diff import diff_engines, render_diff_text
from ..engine import engine_for
from .options import format_option, kb_option, library_errors, print_json


@click.command()
@click.argument("policy")
@click.option("--from", "from_version", metavar="V1", default=None, help="Version to compare from (default: the one in force today).")
@click.option("--to", "to_version", metavar="V2", default=None, help="Version to compare to (default: the one in force today in --against-kb, else the last).")
@click.option(
    "--against-kb",
    "against",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Compare with the policy in this knowledge base folder (an author's edited copy).",
)
@format_option
@kb_option
@library_errors
def diff(
    policy: str, from_version: str | None, to_version: str | None, against: Path | None, output_format: str, kb_root: Path | None
) -> None:
    """Report every class of complete patients that two versions of POLICY decide
    differently (status, or the clauses that decide it), each with an example patient.

    Exhaustive over every complete, well-formed input, as `policykb check` is. Exit 0 with
    or without changes: this is a report, not a check.
    """
    before = engine_for(policy, kb_root, from_version)
    if against is not None:
        after = engine_for(policy, against, to_version)
    else:
        from ..versions import policy_versions

        last = policy_versions(before.kb, policy)[-1].number
        after = engine_for(policy, kb_root, to_version or last)
    result = diff_engines(before, after)
    if output_format == "json":
        print_json(result.to_dict())
    else:
        click.echo(render_diff_text(result, after.vocabulary.specs), nl=False)

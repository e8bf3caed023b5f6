"""``policykb check``: lint and verify a policy over every possible patient."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from ..check import check_versions
from ..check.report import render_report
from .options import (
    chosen_policy,
    format_option,
    kb_option,
    knowledge_base,
    library_errors,
    policy_option,
    print_json,
)


@click.command()
@policy_option
@click.option("--all", "check_all", is_flag=True, help="Check every policy of the knowledge base.")
@kb_option
@format_option
@click.pass_context
@library_errors
def check(ctx: click.Context, policy: str | None, check_all: bool, kb_root: Path | None, output_format: str) -> None:
    """Prove a policy's knowledge base sound: syntax, vocabulary lint, traceability, and no
    conflict, gap, dead rule or broken invariant for any patient.

    Every finding names its file:line and clause; conflicts, gaps and broken invariants come
    with a minimal counterexample patient. Exit 0 when clean, 1 when anything is wrong.
    """
    if check_all and ctx.get_parameter_source("policy") == ParameterSource.COMMANDLINE:
        raise click.UsageError("give --policy or --all, not both")
    kb = knowledge_base(kb_root)
    policy_ids = list(kb.policy_folders()) if check_all else [chosen_policy(kb_root, policy)]
    reports = [report for policy_id in policy_ids for report in check_versions(kb, policy_id)]
    if output_format == "json":
        print_json([report.to_dict() for report in reports])
    else:
        for report in reports:
            click.echo(render_report(report), nl=False)
    if not all(report.ok for report in reports):
        ctx.exit(1)

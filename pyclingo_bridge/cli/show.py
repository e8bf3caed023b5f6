"""``policykb show``: a policy's clauses, with the rules that encode them and the cases that exercise them."""

from __future__ import annotations

from pathlib import Path

import click

from ..case_report import case_place
from ..traceability import trace_policy
from .options import format_option, kb_option, knowledge_base, library_errors, print_json


@click.command()
@click.argument("policy")
@kb_option
@format_option
@library_errors
def show(policy: str, kb_root: Path | None, output_format: str) -> None:
    """Show POLICY's traceability table: each clause, its rules (file:line), and the author
    cases it decides."""
    info, traces = trace_policy(knowledge_base(kb_root), policy)
    if output_format == "json":
        print_json({"policy": info.to_dict(), "clauses": [trace.to_dict(case_place) for trace in traces]})
        return
    click.echo(f"{info.reference} version {info.version}: {info.title}")
    for trace in traces:
        clause = trace.clause
        click.echo("")
        click.echo(f"{clause.number} ({'normative' if clause.normative else 'informative'}) {clause.text}")
        if trace.rules:
            click.echo("  rules:")
            width = max(len(rule.label) for rule in trace.rules)
            for rule in trace.rules:
                dormant = "  (not applicable in this policy)" if rule.label in info.not_applicable else ""
                click.echo(f"    {rule.label:<{width}}  {rule.location}  {rule.text}{dormant}")
        else:
            click.echo("  rules: none" + (" - a normative clause no rule encodes" if clause.normative else ""))
        if trace.cases:
            click.echo("  cases:")
            for case in trace.cases:
                click.echo(f"    {case_place(case)}  {case.name}")
        else:
            click.echo("  cases: none")
        if trace.also_fired:
            count = len(trace.also_fired)
            click.echo(f"  also fires, without deciding, in {count} other case{'s' if count != 1 else ''}")

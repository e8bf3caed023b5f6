"""``policykb diff``: which patients two versions of a policy decide differently."""

from __future__ import annotations

from pathlib import Path

import click

from ..audit import INPUT_FORMATS, format_of
from ..diff import diff_engines, render_diff_text
from ..engine import engine_for
from ..impact import impact, render_impact_html, render_impact_text
from .options import cannot_write, format_option, kb_option, library_errors, print_json


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
@click.option(
    "--on",
    "extract",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Decide every row of this extract (JSONL or CSV, as audit reads) under both versions and count the changes.",
)
@click.option(
    "--input-format",
    type=click.Choice(INPUT_FORMATS),
    default=None,
    help="jsonl or csv; by default from the extract's extension.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="With --on: write the transitions as a self-contained HTML chart.",
)
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="With --on: processes to decide with.")
@format_option
@kb_option
@library_errors
def diff(
    policy: str,
    from_version: str | None,
    to_version: str | None,
    against: Path | None,
    extract: Path | None,
    input_format: str | None,
    report: Path | None,
    jobs: int | None,
    output_format: str,
    kb_root: Path | None,
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
    if report is not None and extract is None:
        raise click.UsageError("--report needs --on EXTRACT")
    if extract is not None:
        chosen = input_format or format_of(str(extract))
        if chosen is None:
            raise click.UsageError(f"cannot tell the format of {str(extract)!r} from its name; use --input-format jsonl|csv")
        found = impact(extract, before, after, chosen, jobs)
        if output_format == "json":
            print_json(found.to_dict())
        else:
            click.echo(render_impact_text(found), nl=False)
        if report is not None:
            try:
                report.write_text(render_impact_html(found), encoding="utf-8")
            except OSError as error:
                raise cannot_write(error, f"the report {report}") from None
        return
    result = diff_engines(before, after)
    if output_format == "json":
        print_json(result.to_dict())
    else:
        click.echo(render_diff_text(result, after.vocabulary.specs), nl=False)

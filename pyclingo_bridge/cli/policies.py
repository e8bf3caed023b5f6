"""``policykb policies``: the policies in the knowledge base with their metadata."""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from ..engine import engine_for
from ..versions import describe, policy_versions
from .options import format_option, kb_option, knowledge_base, library_errors, print_json


@click.command()
@format_option
@kb_option
@library_errors
def policies(output_format: str, kb_root: Path | None) -> None:
    """List the policies in the knowledge base with their metadata."""
    kb = knowledge_base(kb_root)
    infos = [engine_for(policy_id, kb_root).policy for policy_id in kb.policy_folders()]
    versions = {info.reference: policy_versions(kb, info.id) for info in infos}
    if output_format == "json":
        print_json([{**info.to_dict(), "versions": [v.to_dict() for v in versions[info.reference]]} for info in infos])
        return
    for info in infos:
        click.echo(f"{info.reference}  version {info.version}  {info.title}")
        if len(versions[info.reference]) > 1:  # the one in force today is shown above
            click.echo(f"  {describe(versions[info.reference])}")
        for key in ("status", "category", "commissioner", "ratified", "review", "source"):
            if key in info.metadata:
                overdue = key == "review" and _overdue(info.metadata[key])
                click.echo(f"  {key}: {info.metadata[key]}" + ("  (REVIEW OVERDUE: check for a newer version)" if overdue else ""))


def _overdue(review: str, today: datetime.date | None = None) -> bool:
    """A review date as YYYY-MM (or YYYY-MM-DD) that has passed."""
    today = today or datetime.date.today()
    return review[:7] < today.isoformat()[:7]

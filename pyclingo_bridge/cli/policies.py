"""``policykb policies``: the policies in the knowledge base with their metadata."""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from ..engine import engine_for
from .options import format_option, kb_option, knowledge_base, library_errors, print_json


@click.command()
@format_option
@kb_option
@library_errors
def policies(output_format: str, kb_root: Path | None) -> None:
    """List the policies in the knowledge base with their metadata."""
    infos = [engine_for(policy_id, kb_root).policy for policy_id in knowledge_base(kb_root).policy_folders()]
    if output_format == "json":
        print_json([info.to_dict() for info in infos])
        return
    for info in infos:
        click.echo(f"{info.reference}  version {info.version}  {info.title}")
        for key in ("status", "category", "commissioner", "ratified", "review", "source"):
            if key in info.metadata:
                overdue = key == "review" and _overdue(info.metadata[key])
                click.echo(f"  {key}: {info.metadata[key]}" + ("  (REVIEW OVERDUE: check for a newer version)" if overdue else ""))


def _overdue(review: str, today: datetime.date | None = None) -> bool:
    """A review date as YYYY-MM (or YYYY-MM-DD) that has passed."""
    today = today or datetime.date.today()
    return review[:7] < today.isoformat()[:7]

"""``policykb policies``: the policies in the knowledge base with their metadata."""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from .. import routing
from ..engine import engine_for
from ..versions import describe, policy_versions
from .options import format_option, kb_option, knowledge_base, library_errors, print_json


@click.command()
@click.option(
    "--code",
    nargs=2,
    metavar="SYSTEM CODE",
    default=None,
    help="Only the policies that govern this procedure code (SYSTEM as the KB names it, e.g. opcs4, snomed, or a FHIR URI).",
)
@format_option
@kb_option
@library_errors
def policies(code: tuple[str, str] | None, output_format: str, kb_root: Path | None) -> None:
    """List the policies in the knowledge base with their metadata."""
    if code is not None:
        _governing(routing.Procedure(code[0].strip(), code[1].strip()), output_format, kb_root)
        return
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


def _governing(procedure: routing.Procedure, output_format: str, kb_root: Path | None) -> None:
    """The policies that govern ``procedure``, each with the declaration that says so; none is
    an answer (exit 0), an unknown code system a usage error."""
    models = routing.models(kb_root)
    if not routing.known_system(models, procedure.system):
        raise click.UsageError(
            f"--code: no code system {procedure.system!r} in the knowledge base; known: {', '.join(routing.system_names(models))}"
        )
    found = routing.governing(models, [procedure])
    if output_format == "json":
        print_json([route.to_dict() for route in found])
        return
    if not found:
        click.echo(f"no policy governs {procedure}")
    for route in found:
        click.echo(f"{route.reference}  governs {route.system} {route.code}: {route.source}")


def _overdue(review: str, today: datetime.date | None = None) -> bool:
    """A review date as YYYY-MM (or YYYY-MM-DD) that has passed."""
    today = today or datetime.date.today()
    return review[:7] < today.isoformat()[:7]

"""``policykb query``: decide one patient."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ..engine import engine_in_force
from ..render import render_text
from ..versions import fhir_request_date
from ..vocabulary import REQUEST_DATE_FIELD
from .options import (
    as_of_option,
    chosen_policy,
    format_option,
    kb_option,
    library_errors,
    policy_option,
    print_json,
    read_json_object,
)


@click.command()
@click.argument("facts_file", metavar="[FILE|-]", type=click.File("r"), default="-")
@click.option("--fhir", "fhir", is_flag=True, help="FILE is a FHIR R4 Bundle: Patient, Conditions and one ServiceRequest.")
@policy_option
@as_of_option
@format_option
@kb_option
@library_errors
def query(facts_file: click.File, fhir: bool, policy: str | None, as_of: date | None, output_format: str, kb_root: Path | None) -> None:
    """Decide one patient's facts (a JSON object) under a policy.

    Exit 0 for any decision, undetermined included; 1 for bad input.
    """
    if getattr(facts_file, "name", None) == "<stdin>" and facts_file.isatty():  # type: ignore[attr-defined]
        # Without it a user who forgot the FILE sees a command that waits and says nothing.
        click.echo("reading patient facts from standard input (Ctrl-D to end)…", err=True)
    facts = read_json_object(facts_file)
    policy_id = chosen_policy(kb_root, policy)
    if fhir:
        engine = engine_in_force(policy_id, {REQUEST_DATE_FIELD: fhir_request_date(facts)}, kb_root, as_of)
    else:
        engine = engine_in_force(policy_id, facts, kb_root, as_of)
    if fhir:
        # Imported here: the FHIR models (pydantic) double the start-up of a plain query.
        from ..fhir import decide_bundle
        from ..render_fhir import render_fhir_text

        result = decide_bundle(engine, facts)
        if output_format == "json":
            print_json(result.to_dict())
        else:
            record = render_fhir_text(result.fhir, engine.wording)
            click.echo(render_text(result.decision, engine.policy.title, record), nl=False)
        return
    decision = engine.decide(facts)  # type: ignore[arg-type]
    if output_format == "json":
        print_json(decision.to_dict())
    else:
        click.echo(render_text(decision, engine.policy.title), nl=False)

"""``policykb query``: decide one patient."""

from __future__ import annotations

from pathlib import Path

import click

from ..engine import engine_for
from ..fhir import FhirDecision, decide_bundle
from ..render import render_text
from ..render_fhir import render_fhir_text
from .options import format_option, kb_option, library_errors, policy_option, print_json, read_json_object


@click.command()
@click.argument("facts_file", metavar="[FILE|-]", type=click.File("r"), default="-")
@click.option("--fhir", "fhir", is_flag=True, help="FILE is a FHIR R4 Bundle: Patient, Conditions and one ServiceRequest.")
@policy_option
@format_option
@kb_option
@library_errors
def query(facts_file: click.File, fhir: bool, policy: str, output_format: str, kb_root: Path | None) -> None:
    """Decide one patient's facts (a JSON object) under a policy.

    Exit 0 for any decision, undetermined included; 1 for bad input.
    """
    facts = read_json_object(facts_file)
    engine = engine_for(policy, kb_root)
    result = decide_bundle(engine, facts) if fhir else engine.decide(facts)  # type: ignore[arg-type]
    decision = result.decision if isinstance(result, FhirDecision) else result
    if output_format == "json":
        print_json(result.to_dict())
    else:
        text = render_text(decision, engine.policy.title)
        if isinstance(result, FhirDecision):
            text += render_fhir_text(result.fhir)
        click.echo(text, nl=False)

"""``policykb query``: decide one patient."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from .. import routing
from ..engine import PolicyEngine, engine_in_force
from ..errors import FieldProblem, InputError, PolicyNotChosenError
from ..render import render_text
from ..versions import fhir_request_date
from ..vocabulary import REQUEST_DATE_FIELD
from .options import (
    as_of_option,
    chosen_policy,
    format_option,
    kb_option,
    knowledge_base,
    library_errors,
    policy_option,
    print_json,
    read_json_object,
)


@click.command()
@click.argument("facts_file", metavar="[FILE|-]", type=click.File("r"), default="-")
@click.option(
    "--fhir",
    "fhir",
    is_flag=True,
    help="FILE is a FHIR R4 Bundle: Patient, Conditions, Observations and one ServiceRequest (its code chooses the policy).",
)
@click.option("--questionnaire-response", "questionnaire_response", is_flag=True,
              help="FILE is a FHIR R4 QuestionnaireResponse to the policy's Questionnaire.")
@policy_option
@as_of_option
@format_option
@kb_option
@library_errors
def query(facts_file: click.File, fhir: bool, questionnaire_response: bool, policy: str | None, as_of: date | None,
          output_format: str, kb_root: Path | None) -> None:
    """Decide one patient's facts (a JSON object) under a policy.

    The policy is --policy, or the one that governs the procedure the input names (the key
    "procedure": {"system": "opcs4", "code": "F34.1"}, or the ServiceRequest's code with
    --fhir), or the knowledge base's only policy. Exit 0 for any decision, undetermined
    included; 1 for bad input; 2 when no policy is chosen.
    """
    if fhir and questionnaire_response:
        raise click.UsageError("--fhir and --questionnaire-response: choose one.")
    if getattr(facts_file, "name", None) == "<stdin>" and facts_file.isatty():  # type: ignore[attr-defined]
        # Without it a user who forgot the FILE sees a command that waits and says nothing.
        click.echo("reading patient facts from standard input (Ctrl-D to end)…", err=True)
    facts = read_json_object(facts_file)
    engine = _engine(facts, fhir, policy, kb_root, as_of)
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
    if questionnaire_response:
        from ..questionnaire import facts_from_response

        decision = engine.decide_facts(facts_from_response(engine, facts))
    else:
        decision = engine.decide(routing.without_procedure(facts))  # type: ignore[arg-type]
    if output_format == "json":
        print_json(decision.to_dict())
    else:
        click.echo(render_text(decision, engine.policy.title), nl=False)


def _engine(facts: object, fhir: bool, policy: str | None, kb_root: Path | None, as_of: date | None) -> PolicyEngine:
    """The engine of ``--policy``; else of the policy that governs the procedure the input
    names; else of the knowledge base's only policy. A named policy that does not govern the
    procedure named is an input error (the field says where). The policy's version is the one
    in force on the input's request_date (a Bundle's ServiceRequest.authoredOn), else on
    ``as_of``, else today (versions.py)."""
    if fhir:
        from ..fhir import order_procedures, read_bundle  # the FHIR models: only for --fhir

        where = "ServiceRequest.code"
        procedures = order_procedures(read_bundle(facts)[1])
    else:
        where = routing.PROCEDURE_FIELD
        procedure = routing.procedure_of(facts)
        procedures = [procedure] if procedure else []
    kb = knowledge_base(kb_root)
    if policy is None and len(kb.policy_folders()) > 1:
        try:
            if not procedures:
                kb.choose_policy(None)  # refused, naming the policies
            policy = routing.choose(routing.models(kb_root), procedures, where)
        except PolicyNotChosenError as error:
            hint = "" if procedures else f", or name the procedure in the input ({where})"
            raise click.UsageError(f"give --policy{hint}: {error}") from None
    dated = {REQUEST_DATE_FIELD: fhir_request_date(facts)} if fhir else facts
    engine = engine_in_force(chosen_policy(kb_root, policy), dated, kb_root, as_of)
    if procedures and not fhir and not routing.governs(engine.model, procedures):
        named = ", ".join(str(p) for p in procedures)
        raise InputError([FieldProblem(where, f"{named}: not a procedure that {engine.policy.reference} governs")])
    return engine


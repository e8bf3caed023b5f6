"""``policykb ask``: the interview in a terminal, one question at a time."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import click

from ..engine import PolicyEngine, engine_for
from ..interview import AnswerError, Interview, read_answer
from ..render import render_text
from ..vocabulary import FactSpec
from .options import kb_option, library_errors, policy_option, read_json_object

UNKNOWN_HINT = "blank if unknown"


@click.command()
@click.argument("facts_file", metavar="[FILE]", type=click.File("r"), required=False)
@policy_option
@kb_option
@library_errors
def ask(facts_file: click.File | None, policy: str, kb_root: Path | None) -> None:
    """Ask, one at a time, only the questions that can still change the outcome.

    Starts from the facts in FILE (a JSON object), if given; shows the decision as soon as it
    is determined. A blank answer means unknown: that question is not asked again.
    """
    engine = engine_for(policy, kb_root)
    facts: Any = read_json_object(facts_file) if facts_file is not None else {}
    interview = Interview.starting_from(engine, facts)
    decision = interview.decision()
    while (spec := interview.next_question(decision)) is not None:
        click.echo(_question(spec))
        text = click.prompt(_hint(spec), default="", show_default=False,
                            value_proc=functools.partial(_value, engine, spec.key))
        interview.answer(spec.key, text if text != "" else None)
        decision = interview.decision()
    click.echo("")
    click.echo(render_text(decision, engine.policy.title), nl=False)


def _question(spec: FactSpec) -> str:
    lines = ["", spec.question or spec.meaning]
    if spec.type in ("enum", "list"):
        lines += [f"  {number}. {value.replace('_', ' ')}" for number, value in enumerate(spec.values, 1)]
    return "\n".join(lines)


def _hint(spec: FactSpec) -> str:
    hints = {"boolean": "yes or no", "enum": "number or name",
             "list": "numbers or names, comma-separated, or none"}
    return f"Answer ({hints.get(spec.type, spec.allowed().split(' (')[0])}; {UNKNOWN_HINT})"


def _value(engine: PolicyEngine, key: str, raw: str) -> Any:
    """The answer's value ("" for unknown); a bad answer is asked again, saying what is allowed."""
    if not raw.strip():
        return ""
    try:
        return read_answer(engine, key, raw)
    except AnswerError as error:
        raise click.UsageError(str(error)) from None

"""A decision as a CDS Hooks card: summary, indicator, source, Markdown detail, extension.

The indicator follows the most urgent advice: ``critical`` when any advice is more urgent
than routine (the KB's ``urgency/3``: emergency or urgent), otherwise ``info`` when
commissioned and ``warning`` when not commissioned, undetermined or outside the policy. The
detail is the KB's sentences: urgent advice first, why, what was set aside, what is missing,
what was assumed, and the policy's validity. Every string that came from the client is
escaped before it enters Markdown.
"""

from __future__ import annotations

import re
import uuid
from functools import cache
from typing import Any

import clingo

from ..atoms import read_atom
from ..engine import PolicyEngine
from ..fhir import FhirDecision
from ..render import STATUS_WORDS, assumption_sentence, clause_list, validity_lines

SUMMARY_LIMIT = 140
EXTENSION_KEY = "policykb"

# Inline Markdown and HTML that client text could use to format, link or inject markup.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]#!|<>~])")


@cache
def routine_rank(engine: PolicyEngine) -> int:
    """The rank of the least urgent advice the KB declares (routine): anything before it is urgent."""
    return max((urgency.rank for urgency in engine.wording.urgencies.values()), default=0)


def is_urgent(result: FhirDecision, engine: PolicyEngine) -> bool:
    """Some advice of this decision is more urgent than routine."""
    return any(advice.rank < routine_rank(engine) for advice in result.decision.advice)


def indicator(result: FhirDecision, engine: PolicyEngine) -> str:
    if is_urgent(result, engine):
        return "critical"
    return "info" if result.decision.status == "commissioned" else "warning"


def summary(result: FhirDecision, engine: PolicyEngine) -> str:
    """One line under 140 characters that states the outcome and its clauses."""
    decision = result.decision
    reference = engine.policy.reference
    clauses = _clause_list(decision.clauses)
    urgent = f"{decision.advice[0].urgency_words} advice: " if is_urgent(result, engine) else ""
    if decision.status == "commissioned":
        text = f"{urgent}Commissioned under {reference} ({clauses})"
    elif decision.status == "not_commissioned":
        text = f"{urgent}Not routinely commissioned under {reference} ({clauses})"
    elif decision.status == "outside_policy":
        text = f"{urgent}Outside {reference} ({clauses})"
    elif urgent:
        text = f"{urgent}{reference} undetermined, see the card"
    else:
        count = len(decision.missing)
        text = f"{reference} undetermined: {count} question{'s' if count != 1 else ''} to answer"
    return text if len(text) < SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 2] + "…"


def detail(result: FhirDecision, engine: PolicyEngine) -> str:
    """The explanation in Markdown: urgent advice first, clauses, why, what was set aside,
    questions, assumptions, the codes read, and the policy's validity."""
    decision, fhir = result.decision, result.fhir
    policy = engine.policy
    texts = {clause.number: clause.text for clause in policy.clauses}
    lines = [f"**{STATUS_WORDS[decision.status]}** — {policy.reference} version {policy.version}, *{policy.title}*", ""]
    if decision.advice:
        lines += ["Advice, most urgent first:"]
        lines += [f"- **{a.urgency_words}** [{a.clause}] {a.text}" for a in decision.advice] + [""]
    if decision.clauses:
        lines += ["Decided by:"] + [f"- **{c}** {texts.get(c, '')}" for c in decision.clauses] + [""]
    proof = [step for step in decision.explanation.steps if step.in_decision]
    if proof:
        lines += ["Why:"] + [
            f"- [{step.clause}] {step.text}" + (f": {'; '.join(step.because)}" if step.because else "")
            for step in proof
        ] + [""]
    if decision.explanation.set_aside:
        lines += ["Set aside (a clause of higher precedence decided):"]
        lines += [f"- [{item.clause}] {item.text}: set aside by {clause_list(item.by_clauses)}"
                  for item in decision.explanation.set_aside] + [""]
    if decision.possible:
        lines += ["Possible outcomes, depending on the answers:"]
        lines += [f"- {STATUS_WORDS[p.status]} ({_clause_list(p.clauses)})" for p in decision.possible] + [""]
    if decision.missing:
        lines += ["Missing information:"] + [f"- {m.question}" for m in decision.missing] + [""]
    if decision.assumptions:
        lines += ["Assumed (not recorded, so taken as absent):"]
        lines += [f"- {assumption_sentence(a)}" for a in decision.assumptions] + [""]
    record = [f"- {_md(m.coding.code)} {_md(m.coding.display)}: "
              + (_coded_fact(engine, m.fact, m.value) if m.fact else "the condition this policy is about")
              for m in fhir.mapped]
    record += [f"- {_md(c.code) or '(no code)'} {_md(c.display)}: not mapped ({_md(c.system) or 'no system'})"
               for c in fhir.unmapped]
    record += [f"- {_md(note)}" for note in (*fhir.ignored, *fhir.notes)]
    if record:
        lines += [f"From the record ({_md(fhir.order)}):"] + record + [""]
    lines += ["Validity:"] + [f"- {line}" for line in validity_lines(decision)]
    return "\n".join(lines).rstrip() + "\n"


def _coded_fact(engine: PolicyEngine, key: str, value: object) -> str:
    """What a mapped code established, in the KB's words (a list fact: the member present)."""
    shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return engine.wording.describe(read_atom(clingo.Function("holds", [clingo.Function(key), _symbol(shown)])))


def _symbol(text: str) -> clingo.Symbol:
    return clingo.Number(int(text)) if text.lstrip("-").isdigit() else clingo.Function(text)


def card(result: FhirDecision, engine: PolicyEngine) -> dict[str, Any]:
    """The CDS Hooks 2.0 card of one decided order."""
    policy = engine.policy
    decision = result.decision
    return {
        "uuid": str(uuid.uuid4()),
        "summary": summary(result, engine),
        "indicator": indicator(result, engine),
        "detail": detail(result, engine),
        "source": {"label": f"{policy.reference} version {policy.version}: {policy.title}"},
        "extension": {
            EXTENSION_KEY: {
                "status": decision.status,
                "clauses": list(decision.clauses),
                "policy": decision.policy,
                "policy_version": decision.policy_version,
                "provenance": engine.provenance.to_dict(),
                "order": result.fhir.order,
                "decision": result.to_dict(),
            }
        },
    }


_clause_list = clause_list


def _md(text: str | None) -> str:
    """Client text made inert in Markdown (no links, emphasis, HTML or headings)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split())) if text else ""

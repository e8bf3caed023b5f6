"""A decision as a CDS Hooks card: summary, indicator, source, Markdown detail, extension.

The indicator follows the status: ``info`` when commissioned, ``warning`` when not
commissioned, undetermined or outside the policy, and ``critical`` when a clause that the
knowledge base marks as an urgent pathway (``urgent_pathway/1``: 2.1, 2.2) put the patient
outside the policy. Every string that came from the client is escaped before it enters
Markdown.
"""

from __future__ import annotations

import re
import uuid
from functools import cache
from typing import Any

from ..engine import PolicyEngine
from ..fhir import FhirDecision
from ..render import STATUS_WORDS

SUMMARY_LIMIT = 140
EXTENSION_KEY = "policykb"

# Inline Markdown and HTML that client text could use to format, link or inject markup.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]#!|<>~])")


@cache
def urgent_clauses(engine: PolicyEngine) -> frozenset[str]:
    """The clauses whose exclusion sends a patient on an urgent pathway (from the KB)."""
    return engine.model.urgent_clauses


def indicator(result: FhirDecision, engine: PolicyEngine) -> str:
    decision = result.decision
    if decision.status == "commissioned":
        return "info"
    if decision.status == "outside_policy" and urgent_clauses(engine) & set(decision.clauses):
        return "critical"
    return "warning"


def summary(result: FhirDecision, engine: PolicyEngine) -> str:
    """One line under 140 characters that states the outcome and its clauses."""
    decision = result.decision
    reference = engine.policy.reference
    clauses = _clause_list(decision.clauses)
    if decision.status == "commissioned":
        text = f"Imaging commissioned under {reference} ({clauses})"
    elif decision.status == "not_commissioned":
        text = f"Imaging not routinely commissioned under {reference} ({clauses})"
    elif decision.status == "outside_policy":
        urgent = urgent_clauses(engine) & set(decision.clauses)
        text = (f"Red flag: urgent pathway, outside {reference} ({clauses})" if urgent
                else f"Outside {reference} ({clauses})")
    else:
        count = len(decision.missing)
        text = f"{reference} undetermined: {count} question{'s' if count != 1 else ''} to answer"
    return text if len(text) < SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 2] + "…"


def detail(result: FhirDecision, engine: PolicyEngine) -> str:
    """The explanation in Markdown: clauses, why, advice, questions, and the codes read."""
    decision, fhir = result.decision, result.fhir
    policy = engine.policy
    texts = {clause.number: clause.text for clause in policy.clauses}
    lines = [f"**{STATUS_WORDS[decision.status]}** — {policy.reference} version {policy.version}, *{policy.title}*", ""]
    if decision.clauses:
        lines += ["Decided by:"] + [f"- **{c}** {texts.get(c, '')}" for c in decision.clauses] + [""]
    proof = [step for step in decision.explanation.steps if step.in_decision]
    if proof:
        lines += ["Why:"] + [f"- [{step.clause}] {step.text}" for step in proof] + [""]
    if decision.advice:
        lines += ["Advice:"] + [f"- [{a.clause}] {a.text}" for a in decision.advice] + [""]
    if decision.possible:
        lines += ["Possible outcomes, depending on the answers:"]
        lines += [f"- {STATUS_WORDS[p.status]} ({_clause_list(p.clauses)})" for p in decision.possible] + [""]
    if decision.missing:
        lines += ["Missing information:"] + [f"- {m.question}" for m in decision.missing] + [""]
    record = [f"- {_md(m.coding.code)} {_md(m.coding.display)}: "
              + (f"{m.fact} = {m.value}" if m.fact else f"the condition this policy is about ({m.indication})")
              for m in fhir.mapped]
    record += [f"- {_md(c.code) or '(no code)'} {_md(c.display)}: not mapped ({_md(c.system) or 'no system'})"
               for c in fhir.unmapped]
    record += [f"- {_md(note)}" for note in (*fhir.ignored, *fhir.notes)]
    if record:
        lines += [f"From the record ({_md(fhir.order)}):"] + record
    return "\n".join(lines).rstrip() + "\n"


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
                "order": result.fhir.order,
                "decision": result.to_dict(),
            }
        },
    }


def _clause_list(clauses: tuple[str, ...]) -> str:
    if not clauses:
        return "no clause"
    return ("clause " if len(clauses) == 1 else "clauses ") + ", ".join(clauses)


def _md(text: str | None) -> str:
    """Client text made inert in Markdown (no links, emphasis, HTML or headings)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split())) if text else ""

"""Decisions as text for a clinician: the status, urgent advice first, then why, what is missing,
what was assumed, and which version of the policy answered.

Every sentence comes from the knowledge base (rule sentences, glossary, advice, questions); no
predicate name, stage name or input key is shown, except a key as the bracketed input hint
under a missing-information question. The JSON form of the same decision keeps the machine
form beside these sentences.
"""

from __future__ import annotations

from .decision import Assumption, Decision, Step, Validity

STATUS_WORDS = {
    "commissioned": "Commissioned",
    "not_commissioned": "Not routinely commissioned",
    "outside_policy": "Outside this policy",
    "undetermined": "Undetermined: depends on information not given",
}
CHECK_PUBLISHED = (
    "Check the version published by the ICB: this answer is valid only if it matches the version above (7.1, 7.2)."
)


def render_text(decision: Decision, title: str = "", record: str = "") -> str:
    """The decision as a clinician reads it; every fact shown is in the JSON form too.
    ``record`` (lines saying what was read from a record, such as FHIR codes) goes before the
    validity footer, which always ends the answer."""
    lines = [f"Status: {STATUS_WORDS[decision.status]}"]
    named = f" ({title})" if title else ""
    lines.append(f"Policy: {decision.policy} version {decision.policy_version}{named}")
    if decision.id is not None:
        lines.append(f"Record: {decision.id}")
    if decision.clauses:
        lines.append("Clauses: " + ", ".join(decision.clauses))
    if decision.clauses_depend_on_unknowns:
        lines.append("  (the status holds whatever the facts not given are; which of these clauses decides it depends on them)")
    if decision.advice:
        lines += ["", "Advice (most urgent first)"]
        lines += [f"  - {advice.urgency_words}: [{advice.clause}] {advice.text}" for advice in decision.advice]
    if decision.possible:
        lines += ["", "Possible outcomes"]
        lines += [
            f"  - {STATUS_WORDS[p.status]} (clauses {', '.join(p.clauses) or 'none'})"
            for p in decision.possible
        ]
    if decision.missing:
        lines += ["", "Missing information"]
        for missing in decision.missing:
            lines.append(f"  ? {missing.question}")
            lines.append(f"    [{missing.fact}: {missing.allowed}]")
    steps = decision.explanation.steps
    proof = [step for step in steps if step.in_decision]
    if proof:
        lines += ["", "Why", f"  {STATUS_WORDS[decision.status]}"]
        lines += _tree(proof)
    if decision.explanation.set_aside:
        lines += ["", "Set aside (a clause of higher precedence decided)"]
        lines += [f"  - [{item.clause}] {item.text}: set aside by {clause_list(item.by_clauses)}"
                  for item in decision.explanation.set_aside]
    if not decision.determined:
        found = [step for step in steps if not step.in_decision]
        if found:
            lines += ["", "Found so far (the missing information may still set these aside)"]
            for step in found:
                lines += _step_lines(step, "  - ", "    ")
    if decision.explanation.why_not:
        lines += ["", "Routes to commissioned that did not apply"]
        for route in decision.explanation.why_not:
            lines.append(f"  - [{route.clause}] {route.text}")
            if route.unmet_text:
                lines.append("    not met: " + "; ".join(route.unmet_text))
            if route.overridden_at:
                lines.append("    set aside: a clause of higher precedence decided")
    if decision.assumptions:
        lines += ["", "Assumed (not recorded, so taken as absent)"]
        lines += [f"  - {assumption_sentence(a)}" for a in decision.assumptions]
    if record:
        lines += record.rstrip("\n").split("\n")
    lines += ["", "Validity"] + [f"  {line}" for line in validity_lines(decision)]
    return "\n".join(lines) + "\n"


def assumption_sentence(assumption: Assumption) -> str:
    text = f"assumed: {assumption.text} — not recorded"
    if assumption.would_change:
        text += "; recording it would change this answer"
    return text


def validity_lines(decision: Decision) -> list[str]:
    """The footer of every answer: version, review date, overdue review, the published copy."""
    validity = decision.validity or Validity(decision.policy_version, "", True)
    lines = [f"{decision.policy} version {validity.version}; review due {validity.review or 'not recorded'}."]
    if validity.overdue:
        lines.append("The review date has passed: this policy may have been revised or superseded.")
    lines.append(CHECK_PUBLISHED)
    return lines


def clause_list(clauses: tuple[str, ...]) -> str:
    if not clauses:
        return "no clause"
    return ("clause " if len(clauses) == 1 else "clauses ") + ", ".join(clauses)


def _tree(proof: list[Step]) -> list[str]:
    used = {fact for step in proof for fact in step.uses}
    roots = [step for step in proof if step.conclusion not in used]
    lines: list[str] = []

    def walk(step: Step, prefix: str, last: bool, seen: frozenset[Step]) -> None:
        branch = "└─ " if last else "├─ "
        lines.extend(_step_lines(step, prefix + branch, prefix + ("   " if last else "│  ")))
        children = [s for s in proof if s.conclusion in step.uses and s not in seen]
        for index, child in enumerate(children):
            walk(child, prefix + ("   " if last else "│  "), index == len(children) - 1, seen | {step})

    for index, root in enumerate(roots):
        walk(root, "  ", index == len(roots) - 1, frozenset())
    return lines


def _step_lines(step: Step, first: str, rest: str) -> list[str]:
    return [
        f"{first}[{step.clause}] {step.text}",
        f"{rest}   because: " + ("; ".join(step.because) or "it always applies"),
    ]

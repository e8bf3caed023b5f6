"""Decisions as text for a clinician: the status first, then why, then what is missing."""

from __future__ import annotations

from .decision import Decision, Step

STATUS_WORDS = {
    "commissioned": "COMMISSIONED",
    "not_commissioned": "NOT COMMISSIONED",
    "outside_policy": "OUTSIDE THIS POLICY",
    "undetermined": "UNDETERMINED (depends on information not given)",
}


def render_text(decision: Decision, title: str = "") -> str:
    """The decision as a clinician reads it; every fact shown is in the JSON form too."""
    lines = [f"Status: {STATUS_WORDS[decision.status]}"]
    named = f" ({title})" if title else ""
    lines.append(f"Policy: {decision.policy} version {decision.policy_version}{named}")
    if decision.id is not None:
        lines.append(f"Record: {decision.id}")
    if decision.clauses:
        lines.append("Clauses: " + ", ".join(decision.clauses))
    if decision.clauses_depend_on_unknowns:
        lines.append("  (the status holds whatever the facts not given are; which of these clauses decides it depends on them)")
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
        lines += ["", "Explanation", f"  {decision.status}"]
        lines += _tree(proof)
    others = [step for step in steps if not step.in_decision]
    if others:
        heading = "Holds already, whatever the missing facts" if not decision.determined else "Also applied (not deciding)"
        lines += ["", heading]
        for step in others:
            lines += _step_lines(step, "  - ", "    ")
    if decision.explanation.why_not:
        lines += ["", "Routes to commissioned that did not apply"]
        for route in decision.explanation.why_not:
            lines.append(f"  - [{route.clause}] {route.text}")
            if route.unmet:
                lines.append("    not met: " + "; ".join(route.unmet))
            if route.overridden_at:
                lines.append(f"    overridden: a stage of higher precedence decided ({route.overridden_at} was set aside)")
    if decision.advice:
        lines += ["", "Advice"]
        lines += [f"  - [{advice.clause}] {advice.text}" for advice in decision.advice]
    return "\n".join(lines) + "\n"


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
        f"{rest}   => {step.conclusion}",
        f"{rest}   from: " + ("; ".join(step.uses) or "(no conditions)"),
    ]

"""Check reports as text for a policy author: each finding located, illustrated, summed up."""

from __future__ import annotations

import json

from .findings import CheckReport, Finding

KIND_WORDS = {
    "syntax": "syntax error",
    "grounding": "grounding error",
    "undefined_predicate": "undefined predicate",
    "arity_mismatch": "arity mismatch",
    "undeclared_fact": "undeclared fact",
    "unknown_value": "unknown value",
    "undeclared_threshold": "undeclared threshold",
    "not_a_parameter": "not a parameter",
    "parameter_without_fact": "parameter without its fact",
    "threshold_by_hand": "threshold by hand",
    "input_read_directly": "input read directly",
    "fact_not_read": "fact not read",
    "unlabelled_clause": "rule without clause",
    "unused_rule_metadata": "metadata without rule",
    "unknown_clause": "unknown clause",
    "untraced_clause": "untraced clause",
    "invariant_without_rule": "invariant without rule",
    "undeclared_invariant": "undeclared invariant",
    "conflict": "conflict",
    "gap": "gap",
    "unsatisfiable": "no model",
    "ruled_out": "patient ruled out",
    "dead_rule": "dead rule",
    "invariant_violated": "invariant violated",
    "undescribed_atom": "atom without words",
    "unknown_placeholder": "unknown placeholder",
    "advice_without_urgency": "advice without urgency",
    "contradiction_fields": "contradiction fields",
    "dead_contradiction": "contradiction never met",
}


def render_finding(finding: Finding) -> str:
    """One finding: ``file:line:col: kind [clauses]: message``, then its evidence indented."""
    where = f"{finding.location}: " if finding.location else ""
    clauses = f" [clause {', '.join(finding.clauses)}]" if finding.clauses else ""
    lines = [f"{where}{KIND_WORDS[finding.kind]}{clauses}: {finding.message}"]
    lines += [f"    {line}" for line in finding.detail.splitlines()]
    if finding.counterexample is not None:
        lines.append("  counterexample: " + json.dumps(finding.counterexample, ensure_ascii=False))
    if finding.rules and finding.kind != "dead_rule":
        lines.append("  rules fired:")
        for rule in finding.rules:
            place = f"{rule.location}  " if rule.location else ""
            lines.append(f"    {place}{rule.label} [{rule.clause}] {rule.text}")
    return "\n".join(lines)


def render_report(report: CheckReport) -> str:
    """Every finding of a policy, then a one-line summary."""
    lines = [render_finding(finding) for finding in report.findings]
    if report.ok:
        lines.append(
            f"{report.policy}: ok - {report.rules_checked} labelled rules each fire for some patient, "
            f"no patient meets a conflict or a gap, {report.invariants_checked} invariants hold, "
            f"{report.clauses_traced} normative clauses traced"
        )
    else:
        count = len(report.findings)
        lines.append(f"{report.policy}: {count} problem{'s' if count != 1 else ''}")
    return "\n".join(lines) + "\n"

"""A law for every input: what a clinician reads (text, card summary and detail) shows no rule
syntax, no predicate name, no stage name and no snake_case key, except a key as the bracketed
input hint under a missing-information question."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from pyclingo_bridge import PatientFacts, PolicyEngine, engine_for
from pyclingo_bridge.cds_hooks.cards import card
from pyclingo_bridge.decision import Validity
from pyclingo_bridge.fhir import FhirDecision, FhirFacts, decide_bundle
from pyclingo_bridge.render import render_text
from pyclingo_bridge.render_fhir import render_fhir_text

from .conftest import POLICY, patient
from .strategies import consistent, patient_facts

ENGINE = engine_for(POLICY)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
STAGES = sorted(str(atom.arguments[0]) for atom in ENGINE.program.facts("stage", 2))
PATTERNS = {
    "an arrow": re.compile(r"=>"),
    "a predicate applied to arguments": re.compile(r"\b[a-z][a-z0-9_]*\([a-z0-9_\"]"),
    "a snake_case name": re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"),
    "a stage name": re.compile(r"\b(?:" + "|".join(map(re.escape, STAGES)) + r")\b"),
    "a negated atom": re.compile(r"\bnot [a-z_]+\("),
}
INPUT_HINT = re.compile(r"^\s*\[[a-z0-9_]+: [^\]]*\]$")
"""The one place a key may show: ``[key: what is allowed]`` under a question."""


def leaks(text: str) -> list[str]:
    """Each forbidden pattern found outside an input hint, with its line."""
    found = []
    for line in text.splitlines():
        if INPUT_HINT.match(line):
            continue
        found += [f"{name}: {line!r}" for name, pattern in PATTERNS.items() if pattern.search(line)]
    return found


def test_the_patterns_catch_what_the_old_answers_showed() -> None:
    old = [
        "       => specialist_request",
        "       from: setting = mcas; specialist_setting(mcas)",
        "not defeated(likely_to_change_management)",
        "  not_commissioned (stage policy_statement)",
        "    not met: core_criteria includes any value",
    ]
    assert all(leaks(line) for line in old)
    assert leaks("    [mcas_in_place: true or false (or null / leave it out when unknown)]") == []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patient_facts(ENGINE.vocabulary).filter(consistent(ENGINE)))
def test_no_answer_shows_rule_syntax(facts: dict[str, Any]) -> None:
    decision = ENGINE.decide(facts)
    made = card(FhirDecision(decision, FhirFacts("ServiceRequest/order", PatientFacts({}))), ENGINE)
    for text in (render_text(decision, ENGINE.policy.title), made["summary"], made["detail"]):
        assert leaks(text) == []


BUNDLES = ["sciatica-bundle.json", "suspected-cauda-equina-bundle.json", "under-16-bundle.json"]


@pytest.mark.parametrize("bundle", BUNDLES)
def test_answers_from_fhir_show_no_rule_syntax(bundle: str) -> None:
    data = json.loads((EXAMPLES / "fhir" / bundle).read_text())
    result = decide_bundle(ENGINE, data)
    made = card(result, ENGINE)
    fhir_text = render_fhir_text(result.fhir, ENGINE.wording)
    for text in (render_text(result.decision, ENGINE.policy.title), fhir_text, made["summary"], made["detail"]):
        assert leaks(text) == []


def test_an_overdue_review_is_flagged(engine: PolicyEngine) -> None:
    decision = replace(engine.decide(patient()), validity=Validity("1", "2020-01", True))
    assert render_text(decision).endswith(
        "  CMICB_Clin086 version 1; review due 2020-01.\n"
        "  The review date has passed: this policy may have been revised or superseded.\n"
        "  Check the version published by the ICB: this answer is valid only if it matches the version above "
        "(7.1, 7.2).\n"
    )

"""Cards from decisions: indicator by status, a summary under 140 characters, cited source."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge import PatientFacts, PolicyEngine, engine_for
from pyclingo_bridge.cds_hooks.cards import card
from pyclingo_bridge.fhir import FhirDecision, FhirFacts

from .conftest import POLICY, patient


def card_for(engine: PolicyEngine, facts: dict[str, Any]) -> dict[str, Any]:
    decision = engine.decide(facts)
    return card(FhirDecision(decision, FhirFacts("ServiceRequest/x", PatientFacts({}))), engine)


CASES = [
    # name, facts, indicator, summary
    ("commissioned is info", patient(), "info", "Imaging commissioned under CMICB_Clin086 (clause 1.3)"),
    ("not commissioned is a warning", patient(setting="primary_care"), "warning",
     "Imaging not routinely commissioned under CMICB_Clin086 (clause 1.2)"),
    ("undetermined is a warning", patient(setting=...), "warning", "CMICB_Clin086 undetermined: 1 question to answer"),
    ("under 16 is a warning", patient(age=12), "warning", "Outside CMICB_Clin086 (clause 1.5)"),
    ("2.1 red flag is critical", patient(red_flags=["suspected_fracture"]), "critical",
     "Red flag: urgent pathway, outside CMICB_Clin086 (clause 2.1)"),
    ("2.2 red flag is critical", patient(red_flags=["perineal_anaesthesia"]), "critical",
     "Red flag: urgent pathway, outside CMICB_Clin086 (clause 2.2)"),
]


@pytest.mark.parametrize(("facts", "indicator", "summary"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_card(engine: PolicyEngine, facts: dict[str, Any], indicator: str, summary: str) -> None:
    result = card_for(engine, facts)
    assert (result["indicator"], result["summary"]) == (indicator, summary)
    assert result["extension"]["policykb"]["status"] == engine.decide(facts).status


def _facts() -> st.SearchStrategy[dict[str, Any]]:
    specs = engine_for(POLICY).vocabulary.specs
    values: dict[str, st.SearchStrategy[Any]] = {}
    for key, spec in specs.items():
        if spec.type == "integer":
            values[key] = st.integers(spec.low, spec.high)  # type: ignore[arg-type]
        elif spec.type == "boolean":
            values[key] = st.booleans()
        elif spec.type == "enum":
            values[key] = st.sampled_from(spec.values)
        else:
            values[key] = st.lists(st.sampled_from(spec.values), unique=True)
    return st.fixed_dictionaries({}, optional=values)


@settings(max_examples=150, deadline=None)
@given(_facts())
def test_every_card_is_well_formed(facts: dict[str, Any]) -> None:
    engine = engine_for(POLICY)
    result = card_for(engine, facts)
    status = result["extension"]["policykb"]["status"]
    assert len(result["summary"]) < 140
    assert (result["indicator"] == "info") == (status == "commissioned")
    assert result["indicator"] != "critical" or status == "outside_policy"
    assert result["source"]["label"].startswith("CMICB_Clin086")

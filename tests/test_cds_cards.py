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
from .strategies import consistent


def card_for(engine: PolicyEngine, facts: dict[str, Any]) -> dict[str, Any]:
    decision = engine.decide(facts)
    return card(FhirDecision(decision, FhirFacts("ServiceRequest/x", PatientFacts({}))), engine)


CASES = [
    # name, facts, indicator, summary
    ("commissioned is info", patient(), "info", "Commissioned under CMICB_Clin086 (clause 1.3)"),
    ("not commissioned is a warning", patient(setting="primary_care"), "warning",
     "Not routinely commissioned under CMICB_Clin086 (clause 1.2)"),
    ("undetermined is a warning", patient(setting=...), "warning", "CMICB_Clin086 undetermined: 1 question to answer"),
    ("under 16 is a warning", patient(age=12), "warning", "Outside CMICB_Clin086 (clause 1.5)"),
    ("2.1 red flag is critical", patient(red_flags=["suspected_fracture"]), "critical",
     "Urgent advice: Outside CMICB_Clin086 (clause 2.1)"),
    ("2.1 inflammatory disease is critical", patient(red_flags=["suspected_inflammatory_disease"]), "critical",
     "Urgent advice: Outside CMICB_Clin086 (clause 2.1)"),
    ("2.1 cord compression is critical", patient(red_flags=["suspected_cord_compression"]), "critical",
     "Urgent advice: Outside CMICB_Clin086 (clause 2.1)"),
    ("2.2 red flag is critical", patient(red_flags=["perineal_anaesthesia"]), "critical",
     "Emergency advice: Outside CMICB_Clin086 (clause 2.2)"),
    ("2-week-wait criterion is critical though commissioned", patient(core_criteria=["suspected_cancer_2ww"]),
     "critical", "Urgent advice: Commissioned under CMICB_Clin086 (clauses 3.1, 3.2)"),
    ("urgent criterion is critical", patient(setting="primary_care", core_criteria=["urgent"]),
     "critical", "Urgent advice: Commissioned under CMICB_Clin086 (clauses 3.1, 3.2)"),
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
    return st.fixed_dictionaries({}, optional=values).filter(consistent(engine_for(POLICY)))


@settings(max_examples=150, deadline=None)
@given(_facts())
def test_every_card_is_well_formed(facts: dict[str, Any]) -> None:
    engine = engine_for(POLICY)
    result = card_for(engine, facts)
    status = result["extension"]["policykb"]["status"]
    assert len(result["summary"]) < 140
    urgent = any(advice.urgency != "routine" for advice in engine.decide(facts).advice)
    assert (result["indicator"] == "critical") == urgent
    assert (result["indicator"] == "info") == (status == "commissioned" and not urgent)
    assert result["source"]["label"].startswith("CMICB_Clin086")

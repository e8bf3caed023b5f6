"""Each clause of CMICB_Clin086 and each precedence step, as a named case."""

from __future__ import annotations

from typing import Any

import pytest

from pyclingo_bridge import PolicyEngine

from .conftest import patient

CASES: list[tuple[str, dict[str, Any], str, list[str]]] = [
    # name, facts, status, clauses
    ("1.3 specialist, likely to change", patient(), "commissioned", ["1.3"]),
    ("1.3 consultant, seen in MCAS", patient(setting="secondary_care"), "commissioned", ["1.3"]),
    ("1.3 specialist, not likely to change", patient(likely_to_change_management=False), "not_commissioned", ["1.3"]),
    ("1.2 primary care", patient(setting="primary_care"), "not_commissioned", ["1.2"]),
    ("1.2 primary care with sciatica", patient(setting="primary_care", sciatica=True), "not_commissioned", ["1.2"]),
    ("1.1 consultant, MCAS in place, not seen", patient(setting="secondary_care", seen_by_mcas=False), "not_commissioned", ["1.1"]),
    ("1.1 no MCAS in place", patient(setting="secondary_care", mcas_in_place=False, seen_by_mcas=False), "commissioned", ["1.3"]),
    ("1.1 applies only to consultant requests", patient(seen_by_mcas=False), "commissioned", ["1.3"]),
    ("1.4 facet joint RFD prerequisite", patient(facet_joint_rfd_prerequisite=True), "not_commissioned", ["1.4", "6.5"]),
    ("1.4 in primary care too", patient(setting="primary_care", facet_joint_rfd_prerequisite=True), "not_commissioned", ["1.2", "1.4", "6.5"]),
    ("1.5 under 16", patient(age=15), "outside_policy", ["1.5"]),
    ("1.5 exactly 16 is in scope", patient(age=16), "commissioned", ["1.3"]),
    ("2.1 suspected infection", patient(red_flags=["suspected_infection"]), "outside_policy", ["2.1"]),
    ("2.1 serious neurological deficit", patient(red_flags=["serious_neurological_deficit"]), "outside_policy", ["2.1"]),
    ("2.2 sphincter disturbance", patient(red_flags=["sphincter_disturbance"]), "outside_policy", ["2.2"]),
    ("2.1+2.2 cauda equina", patient(red_flags=["cauda_equina"]), "outside_policy", ["2.1", "2.2"]),
    ("3.2 urgent in primary care", patient(setting="primary_care", core_criteria=["urgent"]), "commissioned", ["3.1", "3.2"]),
    ("3.2 with nothing to override", patient(core_criteria=["nice_tag"]), "commissioned", ["3.1", "3.2"]),
    ("6.3 IFR approved in primary care", patient(setting="primary_care", ifr_approved=True), "commissioned", ["6.3"]),
    ("6.6 trial continuation", patient(clinical_trial_continuation=True), "not_commissioned", ["6.6"]),
    ("6.6 trial continuation in primary care", patient(setting="primary_care", clinical_trial_continuation=True), "not_commissioned", ["6.6"]),
    # Precedence: applicability > core criteria > IFR > trial > policy statements.
    ("under 16 beats a core criterion", patient(age=10, core_criteria=["urgent"]), "outside_policy", ["1.5"]),
    ("red flag beats an approved IFR", patient(red_flags=["suspected_fracture"], ifr_approved=True), "outside_policy", ["2.1"]),
    ("core criterion beats trial continuation", patient(core_criteria=["urgent"], clinical_trial_continuation=True), "commissioned", ["3.1", "3.2"]),
    ("IFR beats trial continuation", patient(ifr_approved=True, clinical_trial_continuation=True), "commissioned", ["6.3"]),
    ("IFR beats 1.4", patient(ifr_approved=True, facet_joint_rfd_prerequisite=True), "commissioned", ["6.3"]),
    ("trial beats 1.3", patient(clinical_trial_continuation=True), "not_commissioned", ["6.6"]),
]


@pytest.mark.parametrize(("facts", "status", "clauses"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_clause(engine: PolicyEngine, facts: dict[str, Any], status: str, clauses: list[str]) -> None:
    decision = engine.decide(facts)
    assert decision.status == status
    assert list(decision.clauses) == clauses

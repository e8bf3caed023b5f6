"""Open-world facts that are not given are unknown: the status stands only if every completion agrees."""

from __future__ import annotations

from typing import Any

import pytest

from pyclingo_bridge import PolicyEngine

from .conftest import patient

# name, facts, status, possible statuses (undetermined only), missing facts
CASES: list[tuple[str, dict[str, Any], str, list[str], list[str]]] = [
    ("nothing known", {}, "undetermined",
     ["commissioned", "not_commissioned", "outside_policy"],
     ["age", "likely_to_change_management", "red_flags", "setting"]),
    ("a 10-year-old is outside whatever else is unknown", {"age": 10}, "outside_policy", [], []),
    ("cauda equina is outside whatever else is unknown", {"red_flags": ["cauda_equina"]}, "outside_policy", [], []),
    ("red flags not screened in primary care", patient(setting="primary_care", red_flags=...), "undetermined",
     ["not_commissioned", "outside_policy"], ["red_flags"]),
    ("null red flags mean not screened", patient(setting="primary_care", red_flags=None), "undetermined",
     ["not_commissioned", "outside_policy"], ["red_flags"]),
    ("age unknown", patient(age=...), "undetermined", ["commissioned", "outside_policy"], ["age"]),
    ("setting unknown", patient(setting=...), "undetermined", ["commissioned", "not_commissioned"], ["setting"]),
    ("likely to change unknown", patient(likely_to_change_management=...), "undetermined",
     ["commissioned", "not_commissioned"], ["likely_to_change_management"]),
    ("consultant, MCAS facts unknown", patient(setting="secondary_care", mcas_in_place=..., seen_by_mcas=...),
     "undetermined", ["commissioned", "not_commissioned"], ["mcas_in_place", "seen_by_mcas"]),
    ("MCAS facts do not matter outside consultant requests", patient(mcas_in_place=..., seen_by_mcas=...),
     "commissioned", [], []),
    ("sciatica never matters", patient(sciatica=...), "commissioned", [], []),
    ("primary care is not commissioned whatever likely-to-change is", patient(setting="primary_care", likely_to_change_management=...),
     "not_commissioned", [], []),
    ("facet RFD prerequisite decides even with setting unknown",
     patient(setting=..., likely_to_change_management=..., facet_joint_rfd_prerequisite=True), "not_commissioned", [], []),
    ("a core criterion decides with the policy statements unknown",
     {"age": 50, "red_flags": [], "core_criteria": ["urgent"]}, "commissioned", [], []),
    ("a core criterion does not decide while red flags are unknown",
     {"age": 50, "core_criteria": ["urgent"]}, "undetermined", ["commissioned", "outside_policy"], ["red_flags"]),
]


@pytest.mark.parametrize(("facts", "status", "possible", "missing"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_unknowns(
    engine: PolicyEngine, facts: dict[str, Any], status: str, possible: list[str], missing: list[str]
) -> None:
    decision = engine.decide(facts)
    assert decision.status == status
    assert [p.status for p in decision.possible] == possible
    assert [m.fact for m in decision.missing] == missing


def test_undetermined_answer_names_clauses_of_each_possibility(engine: PolicyEngine) -> None:
    decision = engine.decide(patient(setting="secondary_care", mcas_in_place=..., seen_by_mcas=...))
    assert {p.status: list(p.clauses) for p in decision.possible} == {
        "commissioned": ["1.3"],
        "not_commissioned": ["1.1"],
    }
    assert decision.clauses == ()


def test_missing_facts_are_asked_as_questions(engine: PolicyEngine) -> None:
    decision = engine.decide(patient(red_flags=...))
    [missing] = decision.missing
    assert missing.fact == "red_flags"
    assert missing.question.startswith("Has the patient been screened for red flags")
    assert "suspected_infection" in missing.allowed


def test_unknown_lists_every_open_fact_not_given(engine: PolicyEngine) -> None:
    decision = engine.decide({"age": 40})
    assert decision.unknown == (
        "likely_to_change_management", "mcas_in_place", "red_flags", "sciatica", "seen_by_mcas", "setting",
    )


def test_closed_world_facts_are_never_unknown(engine: PolicyEngine) -> None:
    closed = {key for key, spec in engine.vocabulary.specs.items() if spec.world == "closed"}
    assert closed == {
        "core_criteria", "ifr_approved", "clinical_trial_continuation", "facet_joint_rfd_prerequisite",
        "emergency_or_inpatient",
    }
    assert closed.isdisjoint(engine.decide({}).unknown)


def test_a_certain_status_whose_clause_depends_on_unknowns_cites_every_deciding_clause(engine: PolicyEngine) -> None:
    # Not commissioned whatever the setting: by 1.2 in primary care, by 1.3 (or 1.1) in a specialist one.
    decision = engine.decide({"age": 16, "likely_to_change_management": False, "red_flags": []})
    assert (decision.status, decision.clauses, decision.clauses_depend_on_unknowns) == (
        "not_commissioned", ("1.1", "1.2", "1.3"), True,
    )
    assert decision.missing == () and decision.possible == ()


def test_certain_clauses_are_not_widened_by_unknowns(engine: PolicyEngine) -> None:
    decision = engine.decide({"red_flags": ["suspected_infection"]})  # age unknown: 1.5 might apply too
    assert (decision.status, decision.clauses, decision.clauses_depend_on_unknowns) == ("outside_policy", ("2.1",), False)

"""Answers a clinician can act on: urgent advice first, assumptions named, contradictions
refused, validity stated (issue 12)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from click.testing import CliRunner

from pyclingo_bridge import InputError, PolicyEngine
from pyclingo_bridge.cli import main
from pyclingo_bridge.engine import review_overdue
from pyclingo_bridge.render import render_text

from .conftest import patient

ADVICE_CASES = [
    # name, facts, the advice (clause, urgency) in the order shown
    ("cauda equina feature before the age limit", patient(age=15, red_flags=["perineal_anaesthesia"]),
     [("2.2", "emergency"), ("1.5", "routine")]),
    ("2.1 before 2.2? no: emergency first", patient(red_flags=["suspected_fracture", "perineal_anaesthesia"]),
     [("2.2", "emergency"), ("2.1", "urgent")]),
    ("suspected inflammatory disease is urgent", patient(red_flags=["suspected_inflammatory_disease"]), [("2.1", "urgent")]),
    ("suspected cord compression is urgent", patient(red_flags=["suspected_cord_compression"]), [("2.1", "urgent")]),
    ("2-week-wait criterion", patient(core_criteria=["suspected_cancer_2ww"]), [("3.2", "urgent")]),
    ("urgent criterion", patient(setting="primary_care", core_criteria=["urgent"]), [("3.2", "urgent")]),
    ("1.2 manage in primary care, then IFR", patient(setting="primary_care"), [("1.2", "routine"), ("6.3", "routine")]),
    ("1.1 refer through MCAS, then IFR", patient(setting="secondary_care", seen_by_mcas=False),
     [("1.1", "routine"), ("6.3", "routine")]),
    ("6.6 the trial's sponsor, no IFR", patient(clinical_trial_continuation=True), [("6.6", "routine")]),
    ("1.3 refusal goes to IFR only", patient(likely_to_change_management=False), [("6.3", "routine")]),
    ("1.4 RFD is decided under its own policy, then IFR", patient(facet_joint_rfd_prerequisite=True),
     [("1.4", "routine"), ("6.3", "routine")]),
]


@pytest.mark.parametrize(("facts", "expected"), [c[1:] for c in ADVICE_CASES], ids=[c[0] for c in ADVICE_CASES])
def test_advice_is_ordered_by_urgency_then_clause(engine: PolicyEngine, facts: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [(a.clause, a.urgency) for a in engine.decide(facts).advice] == expected


def test_two_week_wait_advice_names_the_rule_and_nhs_england(engine: PolicyEngine) -> None:
    [advice] = engine.decide(patient(core_criteria=["suspected_cancer_2ww"])).advice
    assert "2-week-wait" in advice.text and "NHS England" in advice.text


def test_trial_continuation_is_for_the_sponsor(engine: PolicyEngine) -> None:
    [advice] = engine.decide(patient(clinical_trial_continuation=True)).advice
    assert "sponsor" in advice.text and "Individual Funding Request" not in advice.text


def test_text_shows_advice_before_the_explanation(engine: PolicyEngine) -> None:
    text = render_text(engine.decide(patient(age=15, red_flags=["perineal_anaesthesia"])))
    assert text.index("Emergency: [2.2]") < text.index("Routine: [1.5]") < text.index("\nWhy\n")


@pytest.mark.parametrize(
    ("facts", "status", "clauses"),
    [
        (patient(setting="secondary_care", seen_by_mcas=False, emergency_or_inpatient=True), "commissioned", ("1.3",)),
        (patient(setting="secondary_care", seen_by_mcas=False), "not_commissioned", ("1.1",)),
    ],
    ids=["emergency or inpatient: 1.1 does not apply", "elective: 1.1 applies"],
)
def test_1_1_is_about_elective_referrals(engine: PolicyEngine, facts: dict[str, Any], status: str, clauses: tuple[str, ...]) -> None:
    decision = engine.decide(facts)
    assert (decision.status, decision.clauses) == (status, clauses)


def test_every_closed_world_default_is_named_with_whether_it_matters(engine: PolicyEngine) -> None:
    decision = engine.decide(patient())
    assumed = {a.fact: (a.text, a.would_change) for a in decision.assumptions}
    assert assumed == {
        "clinical_trial_continuation": ("the request does not continue treatment begun in a clinical trial", True),
        "core_criteria": ("no core eligibility criterion is recorded for this request", False),
        "emergency_or_inpatient": ("an elective request, not from emergency or inpatient care", False),
        "facet_joint_rfd_prerequisite": ("not requested as a prerequisite for radiofrequency denervation", True),
        "ifr_approved": ("no individual funding request has been approved", False),
    }
    text = render_text(decision)
    assert ("  - assumed: not requested as a prerequisite for radiofrequency denervation — not recorded; "
            "recording it would change this answer\n") in text
    assert "  - assumed: no individual funding request has been approved — not recorded\n" in text


def test_a_stated_default_is_not_an_assumption(engine: PolicyEngine) -> None:
    decision = engine.decide(patient(ifr_approved=False, core_criteria=[]))
    assert {a.fact for a in decision.assumptions} == {
        "clinical_trial_continuation", "emergency_or_inpatient", "facet_joint_rfd_prerequisite",
    }


def test_assumptions_are_in_the_json_by_key() -> None:
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", "-", "--format", "json"], input=json.dumps(patient()))
    assumed = json.loads(result.stdout)["assumed"]
    assert [a["fact"] for a in assumed] == [
        "clinical_trial_continuation", "core_criteria", "emergency_or_inpatient", "facet_joint_rfd_prerequisite",
        "ifr_approved",
    ]


CONTRADICTIONS = [
    ("MCAS setting without MCAS", patient(mcas_in_place=False), ["mcas_in_place", "setting", "mcas_in_place", "seen_by_mcas"]),
    ("seen in MCAS without MCAS", patient(setting="secondary_care", mcas_in_place=False), ["mcas_in_place", "seen_by_mcas"]),
]


@pytest.mark.parametrize(("facts", "fields"), [c[1:] for c in CONTRADICTIONS], ids=[c[0] for c in CONTRADICTIONS])
def test_contradictory_facts_are_one_input_error_naming_every_field(
    engine: PolicyEngine, facts: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(InputError) as raised:
        engine.decide(facts)
    assert list(raised.value.fields) == fields


def test_a_contradiction_is_exit_1_without_traceback() -> None:
    facts = {"setting": "mcas", "mcas_in_place": False}
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", "-"], input=json.dumps(facts))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: invalid input: mcas_in_place: contradicts setting: the request is made in an MCAS service, but no "
        "MCAS service is recorded as in place; setting: contradicts mcas_in_place: the request is made in an MCAS "
        "service, but no MCAS service is recorded as in place\n"
    )


def test_a_contradictory_audit_row_is_an_error_row_and_the_rest_go_on() -> None:
    rows = [patient(), {"setting": "mcas", "mcas_in_place": False}, patient(setting="primary_care")]
    text = "".join(json.dumps(row) + "\n" for row in rows)
    result = CliRunner().invoke(main, ["audit", "--policy", "CMICB_Clin086", "-", "--input-format", "jsonl"], input=text)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line.get("status") for line in lines] == ["commissioned", None, "not_commissioned"]
    assert lines[1]["fields"] == ["mcas_in_place", "setting"]


def test_a_contradictory_completion_asks_nothing(engine: PolicyEngine) -> None:
    # In MCAS with MCAS unknown: the completion "no MCAS in place" is not a patient.
    decision = engine.decide({**patient(), "mcas_in_place": None})
    assert decision.status == "commissioned" and decision.missing == ()


@pytest.mark.parametrize(
    ("review", "today", "overdue"),
    [("2029-03", date(2029, 3, 31), False), ("2029-03", date(2029, 4, 1), True),
     ("2029-03-15", date(2029, 3, 16), True), ("March 2029", date(2024, 1, 1), True)],
    ids=["in the review month", "the month after", "a day date passed", "unreadable counts as overdue"],
)
def test_review_overdue(review: str, today: date, overdue: bool) -> None:
    assert review_overdue(review, today) is overdue


def test_every_answer_ends_with_its_validity(engine: PolicyEngine) -> None:
    text = render_text(engine.decide(patient()))
    assert text.endswith(
        "Validity\n"
        "  CMICB_Clin086 version 1; review due 2029-03.\n"
        "  Check the version published by the ICB: this answer is valid only if it matches the version above "
        "(7.1, 7.2).\n"
    )
    assert engine.validity(date(2030, 1, 1)).overdue and not engine.validity(date(2026, 1, 1)).overdue

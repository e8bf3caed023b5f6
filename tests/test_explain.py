"""The explanation: labelled rules that fired, in derivation order, each with its clause."""

from __future__ import annotations

from pyclingo_bridge import PolicyEngine

from .conftest import patient


def test_steps_cite_clauses_and_the_facts_they_used(engine: PolicyEngine) -> None:
    decision = engine.decide(patient(setting="primary_care"))
    [step] = decision.explanation.steps
    assert (step.rule, step.clause) == ("non_specialist_setting", "1.2")
    assert step.conclusion == "conclusion(policy_statement,not_commissioned)"
    assert step.uses == ("holds(setting,primary_care)", "non_specialist_setting(primary_care)")
    assert step.says == "not routinely commissioned under the policy statement"
    assert step.because == ("imaging is requested in primary care", "primary care is a non-specialist setting")
    assert step.in_decision


def test_steps_come_in_derivation_order(engine: PolicyEngine) -> None:
    steps = engine.decide(patient()).explanation.steps
    assert [(s.rule, s.depth) for s in steps] == [("specialist_request", 1), ("likely_to_change_management", 2)]
    assert "specialist_request" in steps[1].uses


def test_overridden_conclusions_are_shown_but_not_deciding(engine: PolicyEngine) -> None:
    steps = engine.decide(patient(setting="primary_care", core_criteria=["urgent"])).explanation.steps
    by_rule = {s.rule: s for s in steps}
    assert not by_rule["non_specialist_setting"].in_decision
    assert by_rule["core_criterion_met"].in_decision
    assert by_rule["core_criterion_overrides"].conclusion == "overridden(policy_statement)"


def test_why_not_lists_routes_to_commissioned_and_their_failing_conditions(engine: PolicyEngine) -> None:
    why_not = engine.decide(patient(setting="primary_care")).explanation.why_not
    assert [(r.clause, r.unmet, r.unmet_text) for r in why_not] == [
        ("1.3", ("specialist_request",), ("imaging is not requested in a specialist setting (MCAS or a consultant)",)),
        ("3.2", ("holds(core_criteria,any)",), ("no core eligibility criterion is recorded for this request",)),
        ("6.3", ("holds(ifr_approved,true)",), ("no individual funding request has been approved",)),
    ]


def test_why_not_names_a_route_that_held_but_was_overridden(engine: PolicyEngine) -> None:
    why_not = engine.decide(patient(clinical_trial_continuation=True)).explanation.why_not
    route = next(r for r in why_not if r.clause == "1.3")
    assert route.unmet == () and route.overridden_at == "policy_statement"


def test_why_not_shows_the_defeating_exception(engine: PolicyEngine) -> None:
    why_not = engine.decide(patient(setting="secondary_care", seen_by_mcas=False)).explanation.why_not
    route = next(r for r in why_not if r.clause == "1.3")
    assert route.unmet == ("neg(defeated(likely_to_change_management))",)
    assert route.unmet_text == ("an exception to clause 1.3 applies (clause 1.1 or 1.4)",)


def test_no_why_not_unless_not_commissioned(engine: PolicyEngine) -> None:
    assert engine.decide(patient()).explanation.why_not == ()
    assert engine.decide(patient(age=12)).explanation.why_not == ()


def test_cauda_equina_advises_emergency_mri(engine: PolicyEngine) -> None:
    advice = engine.decide(patient(red_flags=["perineal_anaesthesia"])).advice
    assert [(a.clause, a.text.split(":")[0]) for a in advice] == [("2.2", "Suspected cauda equina syndrome")]
    assert "emergency MRI" in advice[0].text


def test_not_commissioned_carries_the_ifr_route(engine: PolicyEngine) -> None:
    advice = engine.decide(patient(likely_to_change_management=False)).advice
    assert [a.clause for a in advice] == ["6.3"]
    assert "Individual Funding Request" in advice[0].text


def test_undetermined_explains_what_already_holds(engine: PolicyEngine) -> None:
    decision = engine.decide(patient(likely_to_change_management=...))
    assert [s.rule for s in decision.explanation.steps] == ["specialist_request"]


def test_explanations_are_shared_by_decisions_with_the_same_consequences(engine: PolicyEngine) -> None:
    # Two patients whose cautious consequences are the same (ages on the same side of 16)
    # share one explanation object; the age itself is not part of the trace.
    first = engine.decide(patient(setting="primary_care", age=40, id="a"))
    second = engine.decide(patient(setting="primary_care", age=70, id="b"))
    assert first.explanation is second.explanation and first.id != second.id
    assert engine.decide(patient(setting="mcas")).explanation is not first.explanation

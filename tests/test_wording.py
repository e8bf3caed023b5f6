"""Words for people: sentences from the KB's glossary, parameters quoted, and what check says."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pyclingo_bridge import KnowledgeBase, PolicyEngine
from pyclingo_bridge.check import check_policy

from .conftest import POLICY, patient

GLOSSARY = "policies/cmicb_clin086/glossary.lp"
RULES = "policies/cmicb_clin086/rules.lp"
POLICY_LP = "policies/cmicb_clin086/policy.lp"
VOCABULARY = "policies/cmicb_clin086/vocabulary.lp"


def edited_kb(tmp_path: Path, file: str, old: str, new: str) -> KnowledgeBase:
    root = tmp_path / "kb"
    shutil.copytree(KnowledgeBase.installed().root, root, ignore=shutil.ignore_patterns("__pycache__"))
    path = root / file
    text = path.read_text()
    assert text.count(old) == 1, f"the edit's anchor must occur once in {file}"
    path.write_text(text.replace(old, new))
    return KnowledgeBase(root)


def test_steps_read_as_sentences_beside_the_machine_form(engine: PolicyEngine) -> None:
    [step] = engine.decide(patient(setting="primary_care")).explanation.steps
    assert step.uses == ("holds(setting,primary_care)", "non_specialist_setting(primary_care)")
    assert step.because == ("imaging is requested in primary care", "primary care is a non-specialist setting")
    assert step.to_dict()["because"] == list(step.because)


def test_an_integer_fact_reads_as_its_meaning_and_value(engine: PolicyEngine) -> None:
    steps = engine.decide(patient(age=12)).explanation.steps
    step = next(step for step in steps if step.rule == "under_minimum_age")
    assert step.because == ("the patient's age in years: 12",)


def test_sentences_quote_the_parameter_not_a_literal(engine: PolicyEngine) -> None:
    decision = engine.decide(patient(age=12))
    assert next(s for s in decision.explanation.steps if s.rule == "under_minimum_age").text == "The patient is younger than the policy's minimum age of 16"
    assert [a.text for a in decision.advice] == [
        "This policy applies to people aged 16 or older; refer younger patients on the paediatric pathway."
    ]


def test_a_changed_parameter_changes_every_sentence_that_quotes_it(tmp_path: Path) -> None:
    kb = edited_kb(tmp_path, POLICY_LP, "parameter(minimum_age, age, 16,", "parameter(minimum_age, age, 18,")
    decision = PolicyEngine(POLICY, kb).decide(patient(age=17))
    assert next(s for s in decision.explanation.steps if s.rule == "under_minimum_age").text == "The patient is younger than the policy's minimum age of 18"
    assert "aged 18 or older" in decision.advice[0].text


@pytest.mark.parametrize(
    ("file", "old", "new", "kind", "words"),
    [
        (GLOSSARY, 'glossary(specialist_request, "imaging is requested in a specialist setting").\n', "",
         "undescribed_atom", "specialist_request (concluded by rule specialist_request)"),
        (GLOSSARY, 'glossary(holds(ifr_approved, false), "no individual funding request has been approved").\n'
         .replace("ifr_approved", "seen_by_mcas").replace("no individual funding request has been approved",
                                                          "the patient has not been seen in MCAS"), "",
         "undescribed_atom", "holds(seen_by_mcas,false)"),
        (RULES, "minimum age of {minimum_age}", "minimum age of {minimum_years}",
         "parameter_without_fact", "{minimum_years} quotes no declared parameter"),
        (GLOSSARY, 'glossary(specialist_request, "imaging is requested in a specialist setting")',
         'glossary(specialist_request, "imaging is requested in a specialist setting ({minimum_years})")',
         "unknown_placeholder", "{minimum_years} in the glossary entry of specialist_request"),
        (RULES, 'advice("1.1", routine, ', 'advice("1.1", ',
         "advice_without_urgency", 'advice("1.1", ...) has no urgency'),
        (RULES, 'advice("1.1", routine, ', 'advice("1.1", soon, ',
         "advice_without_urgency", "urgency soon, which urgency/3 does not declare"),
        (VOCABULARY, "holds(setting, mcas), holds(mcas_in_place, false).",
         "holds(setting, mcas), holds(mcas_in_place, false), holds(sciatica, true).",
         "contradiction_fields", "contradiction mcas_setting_without_mcas reads mcas_in_place, sciatica, setting"),
        (VOCABULARY, "holds(seen_by_mcas, true), holds(mcas_in_place, false).",
         "holds(seen_by_mcas, true), holds(mcas_in_place, false), holds(mcas_in_place, true).",
         "dead_contradiction", "contradiction seen_in_mcas_without_mcas is met by no input"),
    ],
    ids=["derived atom without words", "input value without words", "unknown placeholder in a rule",
         "unknown placeholder in the glossary",
         "advice without urgency", "undeclared urgency", "contradiction reads an undeclared field",
         "contradiction no input meets"],
)
def test_check_reports_what_a_clinician_would_read_wrong(
    tmp_path: Path, file: str, old: str, new: str, kind: str, words: str
) -> None:
    report = check_policy(edited_kb(tmp_path, file, old, new), POLICY)
    assert not report.ok
    messages = [finding.message for finding in report.findings if finding.kind == kind]
    assert any(words in message for message in messages), messages


def test_the_shipped_kb_words_everything() -> None:
    report = check_policy(KnowledgeBase.installed(), POLICY)
    assert [f for f in report.findings if f.kind in
            {"undescribed_atom", "unknown_placeholder", "advice_without_urgency", "contradiction_fields",
             "dead_contradiction"}] == []


def test_advice_without_urgency_is_shown_first_and_makes_the_card_critical(tmp_path: Path) -> None:
    from pyclingo_bridge import PatientFacts
    from pyclingo_bridge.cds_hooks.cards import card
    from pyclingo_bridge.fhir import FhirDecision, FhirFacts

    kb = edited_kb(tmp_path, RULES, 'advice("1.1", routine, ', 'advice("1.1", ')
    engine = PolicyEngine(POLICY, kb)
    decision = engine.decide(patient(setting="secondary_care", seen_by_mcas=False))
    assert [(a.clause, a.urgency) for a in decision.advice] == [("1.1", "undeclared"), ("6.3", "routine")]
    made = card(FhirDecision(decision, FhirFacts("ServiceRequest/x", PatientFacts({}))), engine)
    assert made["indicator"] == "critical"


def test_check_words_any_policy_not_only_clin086(tmp_path: Path) -> None:
    """A second policy without a glossary: check names its atoms; the first stays clean."""
    root = tmp_path / "kb"
    shutil.copytree(KnowledgeBase.installed().root, root, ignore=shutil.ignore_patterns("__pycache__"))
    other = root / "policies" / "demo_copy"
    shutil.copytree(root / "policies" / "cmicb_clin086", other)
    (other / "glossary.lp").unlink()
    policy = other / "policy.lp"
    policy.write_text(policy.read_text().replace('metadata(reference, "CMICB_Clin086")', 'metadata(reference, "DEMO_Copy")'))
    kb = KnowledgeBase(root)
    words = {f.message.split(" ")[0] for f in check_policy(kb, "demo_copy").findings if f.kind == "undescribed_atom"}
    assert {"specialist_request", "holds(setting,mcas)", "mcas_not_seen_first"} <= words
    assert "cauda_equina_feature(perineal_anaesthesia)" not in words  # worded by the shared red-flags module
    assert "conclusion(policy_statement,commissioned)" not in words  # the core's own words still apply
    assert check_policy(kb, POLICY).ok

"""A policy's Questionnaire from its vocabulary, QuestionnaireResponses as facts, the adaptive form."""

from __future__ import annotations

import json
import re
import types
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pyclingo_bridge.cli import main
from pyclingo_bridge.engine import engine_for
from pyclingo_bridge.errors import InputError
from pyclingo_bridge.knowledge_base import KnowledgeBase
from pyclingo_bridge.questionnaire import (
    ITEM_TYPES,
    NONE_FOUND,
    OPTION_EXCLUSIVE,
    UNIT,
    answer_system,
    facts_from_response,
    next_question,
    questionnaire,
    relevant_when,
)
from pyclingo_bridge.render import STATUS_WORDS
from pyclingo_bridge.vocabulary import FactSpec

from .strategies import consistent, patient_facts, value_of

ENGINE = engine_for("cmicb_clin086")
URL = "https://cds.example/Questionnaire/cmicb_clin086"
SPECS = ENGINE.vocabulary.specs


def items() -> dict[str, dict[str, Any]]:
    return {entry["linkId"]: entry for entry in questionnaire(ENGINE, URL)["item"]}


def answer(key: str, value: Any) -> dict[str, Any]:
    """A QuestionnaireResponse item answering ``key`` with a fact value (the form's encoding)."""
    spec = SPECS[key]
    if spec.type == "boolean":
        answers = [{"valueBoolean": value}]
    elif spec.type == "integer":
        answers = [{"valueInteger": value}]
    elif spec.type == "list":
        answers = [{"valueCoding": {"system": answer_system(key), "code": v}} for v in value or [NONE_FOUND]]
    else:
        answers = [{"valueCoding": {"system": answer_system(key), "code": value}}]
    return {"linkId": key, "answer": answers}


def response(facts: dict[str, Any]) -> dict[str, Any]:
    found = [answer(key, value) for key, value in facts.items() if value is not None]
    return {"resourceType": "QuestionnaireResponse", "status": "in-progress", **({"item": found} if found else {})}


def test_the_questionnaire_is_valid_fhir_with_one_item_per_fact() -> None:
    resource = questionnaire(ENGINE, URL)
    Questionnaire.model_validate(resource)
    assert resource["url"] == URL and resource["status"] == "active" and resource["version"] == ENGINE.policy.version
    assert sorted(entry["linkId"] for entry in resource["item"]) == sorted(SPECS)


def test_the_policys_questions_come_in_its_declaration_order() -> None:
    text = (KnowledgeBase.installed().policy_folder("cmicb_clin086") / "vocabulary.lp").read_text()
    declared = re.findall(r"^fact\((\w+),", text, re.MULTILINE)
    linked = [entry["linkId"] for entry in questionnaire(ENGINE, URL)["item"]]
    assert [key for key in linked if key in declared] == declared


@pytest.mark.parametrize(("key", "expected"), [
    ("age", {"type": "integer", "extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": 0},
        {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": 130}]}),
    ("sciatica", {"type": "boolean"}),
    ("setting", {"type": "choice", "codes": ["primary_care", "mcas", "secondary_care"]}),
    ("red_flags", {"type": "choice", "repeats": True, "codes": [*SPECS["red_flags"].values, NONE_FOUND]}),
    ("core_criteria", {"type": "choice", "repeats": True, "codes": list(SPECS["core_criteria"].values)}),
], ids=["integer-with-range", "boolean", "enum-choice", "open-list-with-none-found", "closed-list"])
def test_item_types_follow_the_fact_types(key: str, expected: dict[str, Any]) -> None:
    entry = items()[key]
    codes = expected.pop("codes", None)
    assert {k: entry[k] for k in expected} == expected
    assert entry.get("repeats", False) == expected.get("repeats", False)
    if codes is not None:
        assert [option["valueCoding"]["code"] for option in entry["answerOption"]] == codes


def test_none_found_is_exclusive_of_the_red_flags() -> None:
    [none_found] = [o for o in items()["red_flags"]["answerOption"] if o["valueCoding"]["code"] == NONE_FOUND]
    assert none_found["extension"] == [{"url": OPTION_EXCLUSIVE, "valueBoolean": True}]


def test_item_text_is_the_kbs_question() -> None:
    found = items()
    for key, spec in SPECS.items():
        assert found[key]["text"] == (spec.question or spec.meaning[:1].upper() + spec.meaning[1:])


def test_a_decimal_fact_has_its_unit_and_an_unknown_type_is_a_string() -> None:
    decimal = types.SimpleNamespace(key="bmi", type="decimal", world="open", meaning="body mass index",
                                    low=10, high=80, unit="kg/m2", values=())
    shape = ITEM_TYPES["decimal"](decimal)  # type: ignore[arg-type]
    assert shape["type"] == "decimal"
    assert {"url": UNIT, "valueCoding": {"system": "http://unitsofmeasure.org", "code": "kg/m2"}} in shape["extension"]
    assert {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueDecimal": 10} in shape["extension"]
    assert "date" not in ITEM_TYPES  # a type the table does not know ...
    spec = FactSpec("onset", "date", "open", "date of onset", question="When did it start?")  # type: ignore[arg-type]
    engine = types.SimpleNamespace(vocabulary=types.SimpleNamespace(specs={"onset": spec}),
                                   model=types.SimpleNamespace(relevant_when=()))
    from pyclingo_bridge.questionnaire import item

    assert item(engine, "onset") == {"linkId": "onset", "text": "When did it start?", "type": "string"}  # type: ignore[arg-type]


def test_enable_when_comes_from_the_kb() -> None:
    found = items()
    assert found["seen_by_mcas"]["enableWhen"] == [{"question": "mcas_in_place", "operator": "=", "answerBoolean": True}]
    assert found["likely_to_change_management"]["enableBehavior"] == "any"
    assert {c["answerCoding"]["code"] for c in found["likely_to_change_management"]["enableWhen"]} == {"mcas", "secondary_care"}
    assert "enableWhen" not in found["red_flags"]


DECLARED = [(key, other, value) for key, pairs in relevant_when(ENGINE).items() for other, value in pairs]


@pytest.mark.parametrize(("key", "other"), sorted({(k, o) for k, o, _ in DECLARED}), ids=lambda v: str(v))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_fact_relevant_only_given_another_changes_nothing_otherwise(key: str, other: str, data: st.DataObject) -> None:
    """The KB's fact_relevant_when/3 checked against its rules: with ``other`` at a value that
    does not enable ``key``, every value of ``key`` (and leaving it unknown) decides the same."""
    enabling = {value for k, o, value in DECLARED if (k, o) == (key, other)}
    spec = SPECS[other]
    others = [v for v in (spec.values if spec.type != "integer" else ()) if v not in enabling]
    facts = data.draw(patient_facts(ENGINE.vocabulary))
    facts[other] = data.draw(st.sampled_from(others)) if spec.type != "boolean" else "true" not in enabling
    facts.pop(key, None)
    # Contradictory facts are input errors, tested apart: only values of key that fit the others count.
    assume(consistent(ENGINE)(facts))
    variants = [facts] + [v for v in ({**facts, key: data.draw(value_of(SPECS[key]))} for _ in range(3)) if consistent(ENGINE)(v)]
    outcomes = {(d.status, d.clauses) for d in map(ENGINE.decide, variants)}
    assert len(outcomes) == 1, (facts, outcomes)


@settings(max_examples=60, deadline=None)
@given(facts=patient_facts(ENGINE.vocabulary).filter(consistent(ENGINE)))
def test_a_response_decides_as_its_facts(facts: dict[str, Any]) -> None:
    decided = ENGINE.decide_facts(facts_from_response(ENGINE, response(facts)))
    expected = ENGINE.decide(facts)
    assert (decided.status, decided.clauses, decided.missing) == (expected.status, expected.clauses, expected.missing)


def test_parameters_holding_the_response_are_read() -> None:
    body = {"resourceType": "Parameters", "parameter": [{"name": "questionnaire-response", "resource": response({"age": 12})}]}
    assert facts_from_response(ENGINE, body).given == {"age": 12}


@pytest.mark.parametrize(("body", "message"), [
    (response({}) | {"item": [{"linkId": "weight", "answer": [{"valueInteger": 3}]}]},
     "QuestionnaireResponse.item[linkId=weight]: not a question of this policy's Questionnaire"),
    (response({"age": 200}), "QuestionnaireResponse.item[linkId=age]: 200 is not allowed; expected an integer from 0 to 130"),
    (response({}) | {"item": [{"linkId": "age", "answer": [{"valueInteger": 3}, {"valueInteger": 4}]}]},
     "QuestionnaireResponse.item[linkId=age]: expected one answer"),
    ({"resourceType": "Parameters", "parameter": []}, "Parameters.parameter: expected one questionnaire-response"),
    ({"resourceType": "QuestionnaireResponse"}, "QuestionnaireResponse.status"),
], ids=["unknown-item", "out-of-range", "two-answers", "parameters-without-response", "not-valid-fhir"])
def test_a_bad_response_is_one_error_naming_the_item(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as error:
        facts_from_response(ENGINE, body)
    assert message in str(error.value)


def test_the_adaptive_form_starts_with_the_first_missing_question() -> None:
    start, decision = next_question(ENGINE, response({}), URL)
    QuestionnaireResponse.model_validate(start)
    assert start["status"] == "in-progress" and start["questionnaire"] == "#adaptive"
    [contained] = start["contained"]
    order = [entry["linkId"] for entry in questionnaire(ENGINE, URL)["item"]]
    missing = {m.fact for m in decision.missing}
    [asked] = contained["item"]
    assert asked["linkId"] == next(key for key in order if key in missing)
    assert contained["derivedFrom"] == [URL]


TRUTH = st.fixed_dictionaries({key: value_of(spec) for key, spec in SPECS.items() if spec.world == "open"}).filter(
    consistent(ENGINE)
)


@settings(max_examples=40, deadline=None)
@given(truth=TRUTH)
def test_the_interview_asks_only_what_can_change_the_outcome_and_ends_with_the_decision(truth: dict[str, Any]) -> None:
    current = response({})
    asked: list[str] = []
    for _ in range(len(SPECS) + 1):
        current, decision = next_question(ENGINE, current, URL)
        if current["status"] == "completed":
            break
        question = current["contained"][0]["item"][-1]["linkId"]
        assert question in {m.fact for m in decision.missing} and question not in asked
        asked.append(question)
        current["item"] = [*current.get("item", []), answer(question, truth[question])]
    assert current["status"] == "completed"
    final = ENGINE.decide(truth)
    assert decision.status == final.status
    shown = current["contained"][0]["item"][-1]
    assert shown["linkId"] == "decision" and shown["type"] == "display"
    assert shown["code"][0]["code"] == final.status


def test_cli_query_decides_a_questionnaire_response(tmp_path: Path) -> None:
    facts = {"age": 40, "setting": "primary_care", "red_flags": []}
    (tmp_path / "qr.json").write_text(json.dumps(response(facts)))
    (tmp_path / "facts.json").write_text(json.dumps(facts))
    runner = CliRunner()
    from_response = runner.invoke(main, ["query", "--policy", "CMICB_Clin086", "--questionnaire-response", str(tmp_path / "qr.json")])
    from_facts = runner.invoke(main, ["query", "--policy", "CMICB_Clin086", str(tmp_path / "facts.json")])
    assert (from_response.exit_code, from_response.output) == (0, from_facts.output)
    assert STATUS_WORDS["not_commissioned"] in from_response.output


def test_cli_query_a_bad_response_is_exit_1_naming_the_item(tmp_path: Path) -> None:
    (tmp_path / "qr.json").write_text(json.dumps(response({"age": 200})))
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", "--questionnaire-response", str(tmp_path / "qr.json")])
    assert result.exit_code == 1
    assert result.output == ("Error: invalid input: QuestionnaireResponse.item[linkId=age]: 200 is not allowed; "
                             "expected an integer from 0 to 130 (or null / leave it out when unknown)\n")


def test_cli_query_fhir_and_questionnaire_response_are_exclusive(tmp_path: Path) -> None:
    (tmp_path / "qr.json").write_text("{}")
    result = CliRunner().invoke(main, ["query", "--fhir", "--questionnaire-response", str(tmp_path / "qr.json")])
    assert result.exit_code == 2 and "--fhir and --questionnaire-response: choose one." in result.output


@pytest.mark.parametrize("declaration", [
    "fact_relevant_when(seen_by_mcas, mcas_in_place, maybe).",
    "fact_relevant_when(seen_by_mcas, nonexistent, true).",
    "fact_relevant_when(nonexistent, mcas_in_place, true).",
    "fact_relevant_when(seen_by_mcas, age, 16).",
], ids=["unknown-value", "unknown-other-fact", "unknown-fact", "not-a-boolean-or-enum"])
def test_a_faulty_relevance_declaration_is_a_kb_error(tmp_path: Path, declaration: str) -> None:
    import shutil

    from pyclingo_bridge.cds_hooks import create_app
    from pyclingo_bridge.engine import PolicyEngine
    from pyclingo_bridge.errors import KnowledgeBaseError

    kb = tmp_path / "kb"
    shutil.copytree(KnowledgeBase.installed().root, kb)
    with (kb / "policies" / "cmicb_clin086" / "vocabulary.lp").open("a") as vocabulary:
        vocabulary.write("\n" + declaration + "\n")
    with pytest.raises(KnowledgeBaseError, match=r"fact_relevant_when\(.*\) names a fact"):
        relevant_when(PolicyEngine("cmicb_clin086", KnowledgeBase(kb)))
    with pytest.raises(KnowledgeBaseError):
        create_app(kb, auth=None)


def test_the_example_response_is_commissioned() -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "fhir" / "questionnaire-response.json"
    decision = ENGINE.decide_facts(facts_from_response(ENGINE, json.loads(example.read_text())))
    assert (decision.status, decision.clauses) == ("commissioned", ("1.3",))

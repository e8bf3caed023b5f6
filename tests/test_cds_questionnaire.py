"""The Questionnaire endpoints of the service, over HTTP on 127.0.0.1 (authentication: test_cds_auth.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from pyclingo_bridge.cds_hooks import create_app, running_server
from pyclingo_bridge.knowledge_base import KnowledgeBase
from pyclingo_bridge.render import STATUS_WORDS

from .test_cds_coverage_information import LBP, coverage_bundle, hook
from .test_questionnaire import answer, response

FHIR = {"Content-Type": "application/fhir+json"}
NEXT = "/Questionnaire/cmicb_clin086/$next-question"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_server(create_app(auth=None)) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        yield http


@pytest.mark.parametrize("policy_id", ["cmicb_clin086", "CMICB_Clin086"], ids=["as-named", "any-case"])
def test_the_questionnaire_is_served_as_fhir(client: httpx.Client, base_url: str, policy_id: str) -> None:
    got = client.get(f"/Questionnaire/{policy_id}")
    assert got.status_code == 200 and got.headers["content-type"] == "application/fhir+json"
    Questionnaire.model_validate(got.json())
    assert got.json()["url"] == f"{base_url}/Questionnaire/cmicb_clin086"


def test_crd_points_at_the_questionnaire_served(client: httpx.Client) -> None:
    body = client.post("/cds-services/cmicb_clin086-order-sign", json=hook((LBP,), coverage_bundle("cov-1"))).json()
    [canonical] = [p["valueCanonical"] for e in body["systemActions"][0]["resource"]["extension"]
                   for p in e.get("extension", []) if p["url"] == "questionnaire"]
    assert client.get(canonical).json()["url"] == canonical


def test_an_unknown_policy_is_404(client: httpx.Client) -> None:
    got = client.get("/Questionnaire/nope")
    assert (got.status_code, got.json()) == (404, {"detail": f"no policy 'nope'; the policies are {', '.join(KnowledgeBase.installed().policy_folders())}"})
    assert client.post("/Questionnaire/nope/$next-question", json=response({}), headers=FHIR).status_code == 404


def wrapped(resource: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [{"name": "questionnaire-response", "resource": resource}]}


@pytest.mark.parametrize("wrap", [lambda r: r, wrapped], ids=["response", "parameters"])
def test_next_question_leads_to_a_decision(client: httpx.Client, wrap: Any) -> None:
    truth = {"age": 40, "setting": "primary_care", "red_flags": [], "sciatica": False,
             "likely_to_change_management": True, "mcas_in_place": False, "seen_by_mcas": False}
    current = response({})
    for _ in range(len(truth) + 1):
        got = client.post(NEXT, json=wrap(current), headers=FHIR)
        assert got.status_code == 200 and got.headers["content-type"] == "application/fhir+json"
        current = got.json()
        QuestionnaireResponse.model_validate(current)
        if current["status"] == "completed":
            break
        question = current["contained"][0]["item"][-1]["linkId"]
        current["item"] = [*current.get("item", []), answer(question, truth[question])]
    assert current["status"] == "completed"
    decision = current["contained"][0]["item"][-1]
    assert decision["code"][0]["code"] == "not_commissioned"
    assert decision["text"] == f"{STATUS_WORDS['not_commissioned']} under CMICB_Clin086 version 1 (clause 1.2)"


@pytest.mark.parametrize(("body", "headers", "status", "detail"), [
    (b'{"resourceType": "QuestionnaireResponse", "status": "in-progress", "item": [{"linkId": "x"}]}', FHIR, 400,
     "QuestionnaireResponse.item[linkId=x]: not a question of this policy's Questionnaire"),
    (b"[]", FHIR, 400, "body must be a JSON object (a CDS Hooks request)"),
    (b"{}", {"Content-Type": "text/plain"}, 415,
     "Content-Type: expected application/fhir+json or application/json, got 'text/plain'"),
], ids=["unknown-item", "not-an-object", "not-json"])
def test_next_question_refusals(client: httpx.Client, body: bytes, headers: dict[str, str], status: int, detail: str) -> None:
    got = client.post(NEXT, content=body, headers=headers)
    assert (got.status_code, got.json()) == (status, {"detail": detail})

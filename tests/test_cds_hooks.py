"""The CDS Hooks service, over real HTTP on 127.0.0.1: discovery, cards, and every 4xx."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pyclingo_bridge.cds_hooks import create_app, running_server
from pyclingo_bridge.cds_hooks.app import MAX_BODY_BYTES

EXAMPLE = json.loads((Path(__file__).resolve().parent.parent / "examples" / "fhir" / "cds-hooks-order-sign.json").read_text())
SIGN = "/cds-services/cmicb_clin086-order-sign"
SELECT = "/cds-services/cmicb_clin086-order-select"
ICD10 = "http://hl7.org/fhir/sid/icd-10"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_server(create_app()) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        yield http


def request(**changes: Any) -> dict[str, Any]:
    """The example order-sign request; ``changes`` are dotted paths, ``...`` deletes."""
    body = copy.deepcopy(EXAMPLE)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = body
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is ...:
            del target[last]
        else:
            target[last] = value
    return body


def conditions(*codes: str) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Condition", "code": {"coding": [{"system": ICD10, "code": code}]},
                      "subject": {"reference": "Patient/pat-ces"}}} for code in codes]}


def test_discovery(client: httpx.Client) -> None:
    response = client.get("/cds-services")
    assert response.status_code == 200
    services = {s["id"]: s for s in response.json()["services"]}
    assert {(i, s["hook"]) for i, s in services.items()} == {
        ("cmicb_clin086-order-select", "order-select"), ("cmicb_clin086-order-sign", "order-sign")}
    for service in services.values():
        assert service["prefetch"] == {"patient": "Patient/{{context.patientId}}",
                                       "conditions": "Condition?patient={{context.patientId}}"}


CARD_CASES = [
    # name, request, indicator, status, clauses, summary
    ("cauda equina is critical", request(), "critical", "outside_policy", ["2.1", "2.2"],
     "Emergency advice: Outside CMICB_Clin086 (clauses 2.1, 2.2)"),
    ("low back pain only is undetermined", request(prefetch__conditions=conditions("M54.5")), "warning", "undetermined", [],
     "CMICB_Clin086 undetermined: 3 questions to answer"),
    ("under 16 is outside, not urgent", request(prefetch__patient={"resourceType": "Patient", "id": "pat-ces", "birthDate": "2015-01-01"},
                                               prefetch__conditions=None),
     "warning", "outside_policy", ["1.5"], "Outside CMICB_Clin086 (clause 1.5)"),
]


@pytest.mark.parametrize(("body", "indicator", "status", "clauses", "summary"), [c[1:] for c in CARD_CASES],
                         ids=[c[0] for c in CARD_CASES])
def test_card(client: httpx.Client, body: dict[str, Any], indicator: str, status: str, clauses: list[str], summary: str) -> None:
    response = client.post(SIGN, json=body)
    assert response.status_code == 200
    [card] = response.json()["cards"]
    decision = card["extension"]["policykb"]
    assert (card["indicator"], decision["status"], decision["clauses"], decision["policy"]) == (
        indicator, status, clauses, "CMICB_Clin086")
    assert card["summary"] == summary and len(card["summary"]) < 140
    assert card["source"]["label"] == "CMICB_Clin086 version 1: Low back pain imaging"


def test_undetermined_detail_asks_the_missing_questions(client: httpx.Client) -> None:
    [card] = client.post(SIGN, json=request(prefetch__conditions=conditions("M54.5"))).json()["cards"]
    questions = [m["question"] for m in card["extension"]["policykb"]["decision"]["missing"]]
    assert "Missing information:\n" + "".join(f"- {q}\n" for q in questions) in card["detail"]


def test_client_text_is_inert_in_markdown(client: httpx.Client) -> None:
    body = request()
    body["prefetch"]["conditions"]["entry"][0]["resource"]["code"]["coding"][0]["display"] = "[click](http://x) <b>"
    [card] = client.post(SIGN, json=body).json()["cards"]
    assert "\\[click\\](http://x) \\<b\\>" in card["detail"]


def test_order_select_decides_only_the_selection(client: httpx.Client) -> None:
    body = request(hook="order-select", context__selections=["ServiceRequest/order-ces"])
    assert len(client.post(SELECT, json=body).json()["cards"]) == 1
    body = request(hook="order-select", context__selections=["ServiceRequest/other"])
    assert client.post(SELECT, json=body).json()["cards"] == []


def test_a_laboratory_order_gets_no_card(client: httpx.Client) -> None:
    body = request()
    body["context"]["draftOrders"]["entry"][0]["resource"]["category"][0]["coding"][0]["code"] = "108252007"
    assert client.post(SIGN, json=body).json() == {"cards": []}


ERROR_CASES = [
    # name, body (bytes or JSON), status, detail starts with; posted to order-sign unless noted
    ("not JSON", b"{", 400, "body is not valid JSON"),
    ("duplicate key", b'{"hook": "order-sign", "hook": "order-sign"}', 400, "body is not valid JSON: key 'hook' given more than once"),
    ("NaN", b'{"hook": NaN}', 400, "body is not valid JSON: NaN is not a JSON number"),
    ("deeply nested", b"[" * 100_000 + b"]" * 100_000, 400, "body is not valid JSON: nested too deeply"),
    ("a number of 5,000 digits", b'{"hook": ' + b"9" * 5000 + b"}", 400, "body is not valid JSON: Exceeds the limit"),
    ("not UTF-8", b'{"hook": "\xff"}', 400, "body is not valid JSON: not UTF-8 JSON"),
    ("a list", b"[]", 400, "body must be a JSON object"),
    ("wrong hook", request(hook="order-select"), 400, "hook: expected 'order-sign'"),
    ("no patientId", request(context__patientId=...), 400, "context.patientId"),
    ("draftOrders not a Bundle", request(context__draftOrders={"resourceType": "Patient"}), 400, "context.draftOrders"),
    ("bad birthDate", request(prefetch__patient={"resourceType": "Patient", "birthDate": "soon"}), 400, "prefetch.patient.birthDate"),
    ("another patient", request(prefetch__patient={"resourceType": "Patient", "id": "someone-else"}), 400, "prefetch.patient: Patient/someone-else"),
    ("order-select without selections", (SELECT, request(hook="order-select")), 400, "context.selections"),
    ("no prefetch", request(prefetch=...), 412, "prefetch patient, conditions not sent"),
    ("prefetch conditions missing", request(prefetch__conditions=..., fhirServer="https://ehr.example/fhir"), 412,
     "prefetch conditions not sent: this service never queries the FHIR server"),
]


@pytest.mark.parametrize(("body", "status", "detail"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_bad_requests(client: httpx.Client, body: Any, status: int, detail: str) -> None:
    path, body = body if isinstance(body, tuple) else (SIGN, body)
    response = client.post(path, content=body if isinstance(body, bytes) else json.dumps(body).encode())
    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)


def test_unknown_service_is_404(client: httpx.Client) -> None:
    response = client.post("/cds-services/no-such-service", json=request())
    assert (response.status_code, response.json()["detail"]) == (404, "no service 'no-such-service'; see GET /cds-services")


def test_declared_body_over_1_mb_is_413_before_reading(base_url: str) -> None:
    # Declare a huge body and send none of it: the answer must come without the body.
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"POST {SIGN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {100 * MAX_BODY_BYTES}\r\n\r\n".encode())
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 413 ")


def test_streamed_body_over_1_mb_is_413(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        yield b'{"pad": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = client.post(SIGN, content=chunks())
    assert response.status_code == 413


def test_openapi_document_is_served(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    assert set(document["paths"]) == {"/cds-services", "/cds-services/{service_id}"}

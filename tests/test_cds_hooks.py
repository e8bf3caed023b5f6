"""The CDS Hooks service, over real HTTP on 127.0.0.1: discovery, cards, and every 4xx.

Authentication is off here (``auth=None``); tests/test_cds_auth.py covers it.
"""

from __future__ import annotations

import copy
import gc
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pyclingo_bridge.cds_hooks import create_app, running_server, uvicorn_config
from pyclingo_bridge.cds_hooks.body import DRAIN_LIMIT_BYTES, MAX_BODY_BYTES
from pyclingo_bridge.cds_hooks.request import MAX_DRAFT_ORDERS, MAX_PREFETCH_ENTRIES

EXAMPLE = json.loads((Path(__file__).resolve().parent.parent / "examples" / "fhir" / "cds-hooks-order-sign.json").read_text())
SIGN = "/cds-services/cmicb_clin086-order-sign"
SELECT = "/cds-services/cmicb_clin086-order-select"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
JSON = {"Content-Type": "application/json"}
READ_TIMEOUT = 1.0
# CI puts shared/ beside the clone, as here.
CRD_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "external" / "crd"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_server(create_app(auth=None, read_timeout=READ_TIMEOUT), read_timeout=READ_TIMEOUT) as url:
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
        (f"{policy}-{hook}", hook)
        for policy in ("cmicb_clin086", "draft_ebi_breastreduction", "draft_ebi_lumbarrfd", "draft_ebi_tonsillectomy")
        for hook in ("order-select", "order-sign")
    }
    for service in services.values():
        prefetch = dict(service["prefetch"])
        prefetch.pop("observations", None)  # only where the policy maps Observations: test_observations.py
        assert prefetch == {"patient": "Patient/{{context.patientId}}",
                            "conditions": "Condition?patient={{context.patientId}}",
                            "coverage": "Coverage?patient={{context.patientId}}&status=active"}


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
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["category"][0]["coding"][0]["code"] = "108252007"
    order["code"] = {"text": "Full blood count"}  # no procedure code a policy governs
    assert client.post(SIGN, json=body).json() == {"cards": []}


ERROR_CASES = [
    # name, body (bytes or JSON), status, detail starts with; posted to order-sign unless noted
    ("not JSON", b"{", 400, "body is not valid JSON"),
    ("duplicate key", b'{"hook": "order-sign", "hook": "order-sign"}', 400, "body is not valid JSON: key 'hook' given more than once"),
    ("NaN", b'{"hook": NaN}', 400, "body is not valid JSON: NaN is not a JSON number"),
    ("deeply nested", b"[" * 100_000 + b"]" * 100_000, 400, "body is not valid JSON: nested too deeply"),
    # No Python advice (sys.set_int_max_str_digits) to a client: the number is too long.
    ("a number of 5,000 digits", b'{"hook": ' + b"9" * 5000 + b"}", 400,
     "body is not valid JSON: a number too long to read: more than 4,300 digits: line 1 column 10 (char 9)"),
    ("not UTF-8", b'{"hook": "\xff"}', 400, "body is not valid JSON: not UTF-8 text: byte 0xFF at offset 10 (line 1, column 11)"),
    ("UTF-16", '{"hook": "order-sign"}'.encode("utf-16"), 400,
     "body is not valid JSON: UTF-16 text (it starts with the byte-order mark FF FE), not UTF-8: save it as UTF-8"),
    ("a list", b"[]", 400, "body must be a JSON object"),
    ("wrong hook", request(hook="order-select"), 400, "hook: expected 'order-sign'"),
    ("no patientId", request(context__patientId=...), 400, "context.patientId"),
    ("draftOrders not a Bundle", request(context__draftOrders={"resourceType": "Patient"}), 400, "context.draftOrders"),
    ("bad birthDate", request(prefetch__patient={"resourceType": "Patient", "birthDate": "soon"}), 400, "prefetch.patient.birthDate"),
    ("another patient", request(prefetch__patient={"resourceType": "Patient", "id": "someone-else"}), 400, "prefetch.patient: Patient/someone-else"),
    ("order-select without selections", (SELECT, request(hook="order-select")), 400, "context.selections"),
    ("no prefetch", request(prefetch=...), 412, "prefetch patient, conditions not sent"),
    ("prefetch conditions missing, no token to read them", request(prefetch__conditions=..., fhirServer="https://ehr.example/fhir"),
     412, ("prefetch conditions not sent: send the prefetch this service declares in its discovery document, or a "
          "fhirServer and fhirAuthorization to read it from; the request gives no fhirServer with a bearer fhirAuthorization")),
]


@pytest.mark.parametrize(("body", "status", "detail"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_bad_requests(client: httpx.Client, body: Any, status: int, detail: str) -> None:
    path, body = body if isinstance(body, tuple) else (SIGN, body)
    response = client.post(path, content=body if isinstance(body, bytes) else json.dumps(body).encode(), headers=JSON)
    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)


def orders(count: int) -> dict[str, Any]:
    """The example request with ``count`` copies of its draft order."""
    body = request()
    entry = body["context"]["draftOrders"]["entry"][0]
    body["context"]["draftOrders"]["entry"] = [copy.deepcopy(entry) for _ in range(count)]
    for index, item in enumerate(body["context"]["draftOrders"]["entry"]):
        item["resource"]["id"] = f"order-{index}"
    return body


LIMIT_CASES = [
    # name, body, status, detail
    ("draft orders at the cap", orders(MAX_DRAFT_ORDERS), 200, None),
    ("one draft order over the cap", orders(MAX_DRAFT_ORDERS + 1), 413,
     f"context.draftOrders: {MAX_DRAFT_ORDERS + 1} draft orders; this service reads at most {MAX_DRAFT_ORDERS} per call"),
    ("2,000 draft orders", orders(2000), 413, "context.draftOrders: 2000 draft orders;"),  # under the body limit
    ("prefetched conditions over the cap", request(prefetch__conditions=conditions(*["M54.5"] * (MAX_PREFETCH_ENTRIES + 1))),
     413, f"prefetch.conditions: {MAX_PREFETCH_ENTRIES + 1} entries; this service reads at most {MAX_PREFETCH_ENTRIES}"),
]


@pytest.mark.parametrize(("body", "status", "detail"), [c[1:] for c in LIMIT_CASES], ids=[c[0] for c in LIMIT_CASES])
def test_orders_and_prefetch_are_capped(client: httpx.Client, body: dict[str, Any], status: int, detail: str | None) -> None:
    response = client.post(SIGN, json=body)
    assert response.status_code == status
    if detail is None:
        assert len(response.json()["cards"]) == MAX_DRAFT_ORDERS
    else:
        assert response.json()["detail"].startswith(detail)


CONTENT_TYPE_CASES = [
    # name, Content-Type header (None: not sent), status, detail
    ("text/plain", "text/plain", 415, "Content-Type: expected application/json, got 'text/plain'"),
    ("form-encoded", "application/x-www-form-urlencoded", 415,
     "Content-Type: expected application/json, got 'application/x-www-form-urlencoded'"),
    ("none", None, 415, "Content-Type: expected application/json, got none"),
    ("Latin-1 JSON", "application/json; charset=latin-1", 415, "Content-Type: charset 'latin-1'"),
    ("UTF-8 JSON", "application/json; charset=utf-8", 200, None),
    ("upper case", "Application/JSON", 200, None),
]


@pytest.mark.parametrize(("content_type", "status", "detail"), [c[1:] for c in CONTENT_TYPE_CASES],
                         ids=[c[0] for c in CONTENT_TYPE_CASES])
def test_only_json_is_decided(client: httpx.Client, content_type: str | None, status: int, detail: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(SIGN, content=json.dumps(request()).encode(), headers=headers)
    assert response.status_code == status
    if detail is not None:
        assert response.json()["detail"].startswith(detail)
    else:
        assert len(response.json()["cards"]) == 1


def test_a_body_with_a_utf8_byte_order_mark_is_read_as_without(client: httpx.Client) -> None:
    body = json.dumps(request()).encode()
    json_type = {"Content-Type": "application/json"}
    with_bom = client.post(SIGN, content=b"\xef\xbb\xbf" + body, headers=json_type)
    assert with_bom.status_code == 200
    answers = [with_bom.json(), client.post(SIGN, content=body, headers=json_type).json()]
    for answer in answers:
        for card in answer["cards"]:
            del card["uuid"]  # new for every card
    assert answers[0]["cards"] and answers[0] == answers[1]


def test_unknown_service_is_404(client: httpx.Client) -> None:
    response = client.post("/cds-services/no-such-service", json=request())
    assert (response.status_code, response.json()) == (404, {"detail": "no service 'no-such-service'; see GET /cds-services"})


SHAPE_CASES = [
    # name, method, path, status, detail
    ("unknown path", "GET", "/nothing-here", 404, "Not Found"),
    ("GET on a hook", "GET", SIGN, 405, "Method Not Allowed"),
    ("DELETE on discovery", "DELETE", "/cds-services", 405, "Method Not Allowed"),
]


@pytest.mark.parametrize(("method", "path", "status", "detail"), [c[1:] for c in SHAPE_CASES], ids=[c[0] for c in SHAPE_CASES])
def test_every_refusal_has_the_one_shape(client: httpx.Client, method: str, path: str, status: int, detail: str) -> None:
    response = client.request(method, path)
    assert (response.status_code, response.json()) == (status, {"detail": detail})


def _urllib_post(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """POST with Python's urllib: the whole body is sent before the answer is read, no Expect."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=JSON), timeout=20) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 4 * MAX_BODY_BYTES, DRAIN_LIMIT_BYTES],
                         ids=["just over 1 MB", "4 MB", "at the drain limit"])
def test_urllib_reads_the_413_of_a_body_over_1_mb(base_url: str, size: int) -> None:
    status, answer = _urllib_post(base_url + SIGN, b" " * size)
    assert (status, answer) == (413, {"detail": f"body of {size} bytes exceeds the limit of {MAX_BODY_BYTES} bytes"})


def test_urllib_reads_a_refusal_given_before_the_body(base_url: str) -> None:
    # 404 is decided from the path alone; the 2 MB body is read and dropped, then answered.
    status, answer = _urllib_post(base_url + "/cds-services/no-such-service", b" " * (2 * MAX_BODY_BYTES))
    assert (status, answer) == (404, {"detail": "no service 'no-such-service'; see GET /cds-services"})


def test_the_connection_stays_usable_after_a_413(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        assert http.post(SIGN, content=b" " * (MAX_BODY_BYTES + 1), headers=JSON).status_code == 413
        assert http.post(SIGN, json=request()).status_code == 200


def _raw(base_url: str, data: bytes, timeout: float = 10) -> bytes:
    """Send ``data`` on a fresh connection; everything the server sends until it closes."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def test_a_declared_huge_body_is_413_without_sending_it(base_url: str) -> None:
    # Past the drain limit nothing is read: the answer comes at once, and the connection closes.
    reply = _raw(base_url, f"POST {SIGN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {100 * MAX_BODY_BYTES}\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in reply.lower()
    assert reply.endswith(f'{{"detail":"body of {100 * MAX_BODY_BYTES} bytes exceeds the limit of {MAX_BODY_BYTES} bytes"}}'.encode())


def test_expect_100_continue_gets_the_413_without_sending_the_body(base_url: str) -> None:
    reply = _raw(base_url, f"POST {SIGN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                           f"Content-Length: {2 * MAX_BODY_BYTES}\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.1 413 ")  # no "100 Continue" first


def test_streamed_body_over_1_mb_is_413(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        yield b'{"pad": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = client.post(SIGN, content=chunks(), headers=JSON)
    assert (response.status_code, response.json()) == (413, {"detail": f"body exceeds the limit of {MAX_BODY_BYTES} bytes"})


def test_a_stalled_body_gets_408_within_the_read_timeout(base_url: str) -> None:
    start = time.monotonic()
    reply = _raw(base_url, f"POST {SIGN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           f"Content-Length: 100\r\n\r\n{{\"hook\":".encode())
    elapsed = time.monotonic() - start
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert reply.endswith(f'{{"detail":"request body not received within {READ_TIMEOUT:g} s"}}'.encode())
    assert READ_TIMEOUT <= elapsed < READ_TIMEOUT + 3


def test_a_stalled_request_head_is_closed_within_the_read_timeout(base_url: str) -> None:
    start = time.monotonic()
    reply = _raw(base_url, f"POST {SIGN} HTTP/1.1\r\nHost: x\r\n".encode())
    elapsed = time.monotonic() - start
    assert reply == b""
    assert READ_TIMEOUT <= elapsed < READ_TIMEOUT + 3


def test_no_cors_origin_by_default(client: httpx.Client) -> None:
    response = client.post(SIGN, json=request(), headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(SIGN, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


def test_configured_cors_origin_only() -> None:
    with running_server(create_app(auth=None, cors_origins=["https://ehr.example"])) as url, \
            httpx.Client(base_url=url, timeout=10) as http:
        allowed = http.get("/cds-services", headers={"Origin": "https://ehr.example"})
        other = http.get("/cds-services", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://ehr.example"
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.skipif(not (CRD_FIXTURES / "order_sign_hook_request.json").is_file(),
                    reason=f"the Inferno CRD fixture is not beside the repository: {CRD_FIXTURES}")
def test_crd_order_sign_of_orders_no_policy_governs_gets_no_card(client: httpx.Client) -> None:
    # A diet order and a medication order, no prefetch: nothing to decide, so nothing is needed.
    body = json.loads((CRD_FIXTURES / "order_sign_hook_request.json").read_text())
    assert "prefetch" not in body
    response = client.post(SIGN, json=body)
    assert (response.status_code, response.json()) == (200, {"cards": []})


def test_a_governed_order_still_needs_the_prefetch(client: httpx.Client) -> None:
    body = request(prefetch=...)
    body["context"]["draftOrders"]["entry"].insert(0, {"resource": {"resourceType": "NutritionOrder", "status": "draft",
                                                                   "intent": "order", "dateTime": "2026-03-10",
                                                                   "patient": {"reference": "Patient/pat-ces"}}})
    response = client.post(SIGN, json=body)
    assert response.status_code == 412


def test_openapi_document_is_served(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    assert set(document["paths"]) == {"/cds-services", "/cds-services/{service_id}", "/Questionnaire/{policy_id}",
                                      "/Questionnaire/{policy_id}/$next-question"}
    responses = document["paths"]["/cds-services/{service_id}"]["post"]["responses"]
    assert set(responses) == {"200", "400", "401", "404", "408", "412", "413", "415"}
    for status, response in responses.items():
        if status != "200":
            assert response["content"]["application/json"]["schema"]["required"] == ["detail"]


def test_an_unexpected_fault_is_a_500_of_the_one_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyclingo_bridge.cds_hooks.app as app_module

    def broken(*_: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app_module, "_answer", broken)
    with running_server(create_app(auth=None)) as url:
        response = httpx.post(url + SIGN, json=request(), timeout=10)
    assert (response.status_code, response.json()) == (
        500, {"detail": "internal error: the service could not answer; the server log says why"})


def test_the_start_up_objects_are_frozen_out_of_the_collector_while_serving() -> None:
    gc.unfreeze()
    app = create_app(auth=None)
    uvicorn_config(app)
    assert gc.get_freeze_count() > 0
    with running_server(app):
        pass
    assert gc.get_freeze_count() == 0

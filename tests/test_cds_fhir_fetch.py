"""A hook call without prefetch is answered from its fhirServer: a local FHIR server on 127.0.0.1.

The FHIR server is a tiny http.server that serves fixture resources to the right bearer
token only and records every request; each test sets how it answers (slow, huge, redirecting,
paging) and the limits are small, so every fault test ends within a second or two.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from pyclingo_bridge.cds_hooks import create_app, running_server
from pyclingo_bridge.cds_hooks.fhir_fetch import FetchError, FetchLimits, fetch_prefetch
from pyclingo_bridge.cds_hooks.services import observation_codes
from pyclingo_bridge.engine import PolicyEngine

from .conftest import RFD_TEST_CODING, kb_governing_rfd

EXAMPLE = json.loads((Path(__file__).resolve().parent.parent / "examples" / "fhir" / "cds-hooks-order-sign.json").read_text())
SIGN = "/cds-services/cmicb_clin086-order-sign"
TOKEN = "s3cret-access-token-for-the-fhir-server"
LIMITS = FetchLimits(timeout=0.5, max_requests=4, max_response_bytes=64 * 1024)


@dataclass
class FhirServer:
    """What the fixture server serves, how, and what it was asked."""

    url: str = ""
    resources: dict[str, Any] = field(default_factory=dict)
    seen: list[tuple[str, str | None]] = field(default_factory=list)
    delay: float = 0.0
    redirect_to: str | None = None
    pad: int = 0
    next_link: str | None = None


def searchset(resources: list[dict[str, Any]], next_link: str | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
    if next_link:
        bundle["link"] = [{"relation": "next", "url": next_link}]
    return bundle


def fixture_resources() -> dict[str, Any]:
    prefetch = EXAMPLE["prefetch"]
    return {
        "/fhir/Patient/pat-ces": prefetch["patient"],
        "/fhir/Condition": prefetch["conditions"],
        "/fhir/Coverage": searchset([{"resourceType": "Coverage", "id": "cov-1", "status": "active",
                                      "beneficiary": {"reference": "Patient/pat-ces"}}]),
        "/fhir/Observation": searchset([]),
    }


def serve_fhir(state: FhirServer) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            state.seen.append((self.path, self.headers.get("Authorization")))
            time.sleep(state.delay)
            if state.redirect_to:
                self._send(302, b"", {"Location": state.redirect_to})
            elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, json.dumps({"resourceType": "OperationOutcome"}).encode())
            elif parts.path in state.resources:
                resource = copy.deepcopy(state.resources[parts.path])
                if state.next_link and resource["resourceType"] == "Bundle":
                    resource["link"] = [{"relation": "next", "url": state.next_link}]
                if state.pad:
                    resource["text"] = {"status": "generated", "div": "<div>" + "x" * state.pad + "</div>"}
                self._send(200, json.dumps(resource).encode())
            else:
                self._send(404, b"{}")

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture
def fhir() -> Iterator[FhirServer]:
    state = FhirServer(resources=fixture_resources())
    server = serve_fhir(state)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/fhir"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with running_server(create_app(auth=None, fetch_limits=LIMITS)) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield http


def hook(server: str | None, *, token: str | None = TOKEN, drop: tuple[str, ...] = ("patient", "conditions")) -> dict[str, Any]:
    body = copy.deepcopy(EXAMPLE)
    for key in drop:
        del body["prefetch"][key]
    if server is not None:
        body["fhirServer"] = server
    if token is not None:
        body["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                                     "scope": "user/Patient.read user/Condition.read", "subject": "cds-service"}
    return body


def paths(state: FhirServer) -> list[str]:
    return [urlsplit(path).path for path, _ in state.seen]


LOW_BACK_PAIN = searchset([{"resourceType": "Condition", "id": "cond-lbp", "subject": {"reference": "Patient/pat-ces"},
                            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "M54.5"}]}}])


def test_a_missing_prefetch_is_read_from_the_fhir_server(client: httpx.Client, fhir: FhirServer) -> None:
    fhir.resources["/fhir/Condition"] = LOW_BACK_PAIN
    fetched = client.post(SIGN, json=hook(fhir.url))
    sent = client.post(SIGN, json={**EXAMPLE, "prefetch": {**EXAMPLE["prefetch"], "conditions": LOW_BACK_PAIN}})
    assert fetched.status_code == 200, fetched.text
    decision = fetched.json()["cards"][0]["extension"]["policykb"]["decision"]
    assert decision == sent.json()["cards"][0]["extension"]["policykb"]["decision"]
    assert paths(fhir) == ["/fhir/Patient/pat-ces", "/fhir/Condition", "/fhir/Coverage"]
    assert all(auth == f"Bearer {TOKEN}" for _, auth in fhir.seen)
    assert parse_qs(urlsplit(fhir.seen[1][0]).query) == {"patient": ["pat-ces"]}
    assert parse_qs(urlsplit(fhir.seen[2][0]).query) == {"patient": ["pat-ces"], "status": ["active"]}
    # The Coverage read lets the answer carry CRD coverage information.
    [action] = fetched.json()["systemActions"]
    assert "Coverage/cov-1" in json.dumps(action)


def test_only_what_is_missing_is_read(client: httpx.Client, fhir: FhirServer) -> None:
    assert client.post(SIGN, json=hook(fhir.url, drop=("conditions",))).status_code == 200
    assert paths(fhir) == ["/fhir/Condition", "/fhir/Coverage"]


def test_a_complete_prefetch_reads_nothing(client: httpx.Client, fhir: FhirServer) -> None:
    assert client.post(SIGN, json=hook(fhir.url, drop=())).status_code == 200
    assert fhir.seen == []


def test_observations_are_not_read_when_the_kb_maps_none(fhir: FhirServer) -> None:
    assert observation_codes(PolicyEngine("cmicb_clin086")) == ()


def test_observations_are_read_by_the_codes_the_kb_maps(fhir: FhirServer) -> None:
    codes = observation_codes(PolicyEngine("draft_ebi_lumbarrfd"))
    assert codes == (("http://loinc.org", "72514-3"),)
    found = asyncio.run(fetch_prefetch(fhir.url, TOKEN, "pat-ces", ["conditions"], codes, LIMITS))
    assert set(found) == {"conditions", "observations"}
    query = parse_qs(urlsplit(fhir.seen[-1][0]).query)
    assert query == {"patient": ["pat-ces"], "code": ["http://loinc.org|72514-3"]}


def pain_score(score: int, date: str, unit: str = "{score}") -> dict[str, Any]:
    return {"resourceType": "Observation", "id": f"pain-{date}", "status": "final",
            "subject": {"reference": "Patient/pat-ces"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
            "effectiveDateTime": date,
            "valueQuantity": {"value": score, "system": "http://unitsofmeasure.org", "code": unit}}


@pytest.fixture(scope="module")
def rfd_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    kb_root = kb_governing_rfd(tmp_path_factory.mktemp("kb") / "kb")
    app = create_app(kb_root, auth=None, fetch_limits=LIMITS)
    with running_server(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield http


def test_a_fetched_observation_gives_its_fact(rfd_client: httpx.Client, fhir: FhirServer) -> None:
    """The RFD service reads the pain score from the server's Observations: the most recent
    on or before the order's date counts, and the card's decision says which was used."""
    fhir.resources["/fhir/Observation"] = searchset([pain_score(3, "2025-01-05"), pain_score(7, "2025-01-10")])
    body = hook(fhir.url)
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["authoredOn"] = "2025-01-12"
    order["code"] = {"coding": [RFD_TEST_CODING]}  # an order the RFD policy governs
    answer = rfd_client.post("/cds-services/draft_ebi_lumbarrfd-order-sign", json=body)
    assert answer.status_code == 200, answer.text
    assert "/fhir/Observation" in paths(fhir)
    decision = answer.json()["cards"][0]["extension"]["policykb"]["decision"]
    used = [o for o in decision["fhir"]["observations"] if o["used"]]
    assert decision["fhir"]["facts"]["pain_score"] == 7
    assert [o["resource"] for o in used] == ["Observation/pain-2025-01-10"]


@pytest.mark.parametrize(("setup", "detail"), [
    (lambda s: setattr(s, "resources", {}), "could not read the Patient: fhirServer answered HTTP 404"),
    (lambda s: setattr(s, "delay", 1.0), "could not read the Patient: fhirServer did not answer within 0.5 s"),
    (lambda s: setattr(s, "pad", 100_000), "could not read the Patient: response over 65536 bytes"),
    (lambda s: setattr(s, "redirect_to", "http://127.0.0.2:9/elsewhere"),
     "could not read the Patient: fhirServer answered HTTP 302"),
    (lambda s: setattr(s, "next_link", "http://127.0.0.2:9/fhir/Condition?page=2"),
     "could not read the Conditions: the next page is not on fhirServer; not followed"),
], ids=["not-found", "too-slow", "too-large", "redirect-not-followed", "next-page-elsewhere-not-followed"])
def test_a_failed_read_is_a_412_naming_what(client: httpx.Client, fhir: FhirServer, setup: Any, detail: str) -> None:
    setup(fhir)
    response = client.post(SIGN, json=hook(fhir.url))
    assert (response.status_code, response.json()) == (412, {"detail": detail})


def test_the_request_count_is_bounded(client: httpx.Client, fhir: FhirServer) -> None:
    fhir.next_link = f"{fhir.url}/Condition?page=next"  # a search that never ends
    response = client.post(SIGN, json=hook(fhir.url))
    assert response.json() == {"detail": "could not read the Conditions: more than 4 requests to fhirServer in one hook call"}
    assert len(fhir.seen) == 4


def test_a_wrong_token_is_refused_by_the_server_and_named(client: httpx.Client, fhir: FhirServer) -> None:
    response = client.post(SIGN, json=hook(fhir.url, token="not-the-token"))
    assert response.status_code == 412
    assert response.json()["detail"].endswith("fhirServer answered HTTP 401")


@pytest.mark.parametrize(("server", "token", "detail"), [
    (None, TOKEN, "the request gives no fhirServer with a bearer fhirAuthorization"),
    ("FHIR", None, "the request gives no fhirServer with a bearer fhirAuthorization"),
    ("http://ehr.example/fhir", TOKEN,
     "could not read fhirServer: the access token is only sent over https (or to a loopback address)"),
    ("ftp://127.0.0.1/fhir", TOKEN, "could not read fhirServer: expected an http(s) URL"),
], ids=["no-server", "no-token", "plain-http-elsewhere", "not-http"])
def test_without_a_usable_server_it_is_a_412(client: httpx.Client, fhir: FhirServer, server: str | None,
                                              token: str | None, detail: str) -> None:
    response = client.post(SIGN, json=hook(fhir.url if server == "FHIR" else server, token=token))
    assert response.status_code == 412
    assert response.json()["detail"].endswith(detail)


def test_fetching_off_is_a_412_and_reads_nothing(fhir: FhirServer) -> None:
    with running_server(create_app(auth=None, fhir_fetch=False)) as url:
        response = httpx.post(url + SIGN, json=hook(fhir.url), timeout=10)
    assert response.status_code == 412
    assert response.json()["detail"] == (
        "prefetch patient, conditions not sent: send the prefetch this service declares in its discovery "
        "document, or a fhirServer and fhirAuthorization to read it from; this service does not read fhirServer "
        "itself (--fhir-fetch off)")
    assert fhir.seen == []


def test_the_token_is_never_logged_or_answered(client: httpx.Client, fhir: FhirServer,
                                                caplog: pytest.LogCaptureFixture) -> None:
    fhir.resources = {}
    with caplog.at_level(logging.DEBUG):
        response = client.post(SIGN, json=hook(fhir.url))
    assert response.status_code == 412 and caplog.records
    assert TOKEN not in response.text
    assert not [r for r in caplog.records if TOKEN in r.getMessage()]
    # The service's own log names what failed, not the URL read (it holds the patient's id).
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("pyclingo_bridge")]
    assert ours == ["prefetch not read from fhirServer: the Patient: fhirServer answered HTTP 404"]


def test_fetch_errors_never_hold_the_token(fhir: FhirServer) -> None:
    fhir.resources = {}
    with pytest.raises(FetchError) as error:
        asyncio.run(fetch_prefetch(fhir.url, TOKEN, "pat-ces", ["patient"], (), LIMITS))
    assert TOKEN not in str(error.value)

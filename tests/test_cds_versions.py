"""The CDS service decides each draft order under the policy version in force on its authoredOn."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge import engine_for
from pyclingo_bridge.cds_hooks import create_app, order_versions, running_server
from pyclingo_bridge.cds_hooks.decisions import NotRemembered
from pyclingo_bridge.cds_hooks.order_versions import OrderVersions
from pyclingo_bridge.cds_hooks.request import HookError
from pyclingo_bridge.versions import VersionError

from .conftest import BREAST_REDUCTION_TEST_CODING, kb_governing

SIGN = "/cds-services/draft_ebi_breastreduction-order-sign"
POLICY_ID = "DRAFT_EBI_BreastReduction"
VERSIONS = "versions: 1 (2024-04-01 to 2026-03-31), 2 (from 2026-04-01)"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    kb_root = kb_governing(tmp_path_factory.mktemp("kb") / "kb", "draft_ebi_breastreduction", BREAST_REDUCTION_TEST_CODING)
    # Started in version 2's time: an order's own date must still choose version 1.
    app = create_app(kb_root, auth=None, as_of=date(2026, 6, 1))
    with running_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


def hook_call(authored: str | None, bmi: float = 28.4) -> dict[str, Any]:
    """An order-sign call for a woman whose BMI of ``bmi`` was measured before the order."""
    patient = {"resourceType": "Patient", "id": "pat-br", "gender": "female", "birthDate": "1980-05-01"}
    order: dict[str, Any] = {"resourceType": "ServiceRequest", "id": "order-br", "status": "draft", "intent": "order",
                             "subject": {"reference": "Patient/pat-br"}, "code": {"coding": [BREAST_REDUCTION_TEST_CODING]}}
    if authored is not None:
        order["authoredOn"] = authored
    bmi_observation = {"resourceType": "Observation", "id": "bmi", "status": "final",
                       "subject": {"reference": "Patient/pat-br"}, "effectiveDateTime": "2025-01-10",
                       "code": {"coding": [{"system": "http://loinc.org", "code": "39156-5"}]},
                       "valueQuantity": {"value": bmi, "system": "http://unitsofmeasure.org", "code": "kg/m2"}}
    searchset = {"resourceType": "Bundle", "type": "searchset"}
    return {"hook": "order-sign", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2eb",
            "context": {"userId": "Practitioner/1", "patientId": "pat-br",
                        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]}},
            "prefetch": {"patient": patient, "conditions": {**searchset, "entry": []},
                         "observations": {**searchset, "entry": [{"resource": bmi_observation}]}}}


def _decided(client: httpx.Client, authored: str | None) -> dict[str, Any]:
    answer = client.post(SIGN, json=hook_call(authored))
    assert answer.status_code == 200, answer.text
    (card,) = answer.json()["cards"]
    return card  # type: ignore[no-any-return]


# The service reads only the Patient, Conditions and Observations: the BMI comes from its
# Observation, and the criteria no code records (sex, support in primary care, symptoms, ...)
# stay unknown. So neither card is certain; what version 1's BMI limit of 27 settles (no
# commissioning at BMI 28.4) and version 2's limit of 30 leaves open is what they show.
def _possible(policykb: dict[str, Any]) -> list[str]:
    return [possible["status"] for possible in policykb["decision"]["possible"]]


def test_an_order_of_2025_is_decided_under_version_1(client: httpx.Client) -> None:
    card = _decided(client, "2025-06-01")
    policykb = card["extension"]["policykb"]
    assert (policykb["status"], _possible(policykb)) == ("undetermined", ["not_commissioned", "outside_policy"])
    assert [missing["fact"] for missing in policykb["decision"]["missing"]] == ["sex"]
    assert (policykb["policy_version"], policykb["provenance"]["version"]) == ("1", "1")
    assert card["source"]["label"].startswith("DRAFT_EBI_BreastReduction version 1: ")


def test_an_order_of_2026_is_decided_under_version_2(client: httpx.Client) -> None:
    card = _decided(client, "2026-06-01T10:30:00Z")
    policykb = card["extension"]["policykb"]
    assert (policykb["status"], _possible(policykb)) == ("undetermined", ["commissioned", "not_commissioned", "outside_policy"])
    assert "bmi" not in [missing["fact"] for missing in policykb["decision"]["missing"]]
    assert (policykb["policy_version"], policykb["provenance"]["version"]) == ("2", "2")
    assert card["source"]["label"].startswith("DRAFT_EBI_BreastReduction version 2: ")


def test_an_order_without_authored_on_is_decided_under_the_version_of_as_of(client: httpx.Client) -> None:
    assert _decided(client, None)["extension"]["policykb"]["provenance"]["version"] == "2"


@pytest.mark.parametrize(("authored", "detail"), [
    ("2020-01-01", f"ServiceRequest.authoredOn: no version of DRAFT_EBI_BreastReduction is in force on 2020-01-01; {VERSIONS}"),
    ("2026", ("ServiceRequest.authoredOn: 2026 may mean a day of version 1 or of version 2 of DRAFT_EBI_BreastReduction; "
              f"give the day the order was written ({VERSIONS})")),
], ids=["before every version", "a year two versions share"])
def test_a_date_no_one_version_covers_is_a_400_naming_the_versions(client: httpx.Client, authored: str, detail: str) -> None:
    answer = client.post(SIGN, json=hook_call(authored))
    assert (answer.status_code, answer.json()) == (400, {"detail": detail})


def test_a_refused_date_is_refused_alike_every_time(client: httpx.Client) -> None:
    answers = [client.post(SIGN, json=hook_call("2020-01-01")) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()


def test_a_repeated_call_gets_the_same_answer(client: httpx.Client) -> None:
    """The second call is answered from the decision memory (on the event loop), the first by the engine."""
    body = hook_call("2025-06-02")
    first, second = (client.post(SIGN, json=body).json() for _ in range(2))
    for answer in (first, second):
        for card in answer["cards"]:
            assert card.pop("uuid")
    assert first == second


def _order(authored: str | None) -> ServiceRequest:
    return ServiceRequest.model_validate({"resourceType": "ServiceRequest", "status": "draft", "intent": "order",
                                          "subject": {"reference": "Patient/p"},
                                          **({"authoredOn": authored} if authored else {})})


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return kb_governing(tmp_path_factory.mktemp("kb2") / "kb", "draft_ebi_breastreduction", BREAST_REDUCTION_TEST_CODING)


@settings(max_examples=40, deadline=None)
@given(st.dates(date(2023, 1, 1), date(2028, 12, 31)), st.sampled_from(["day", "month", "year", "none"]))
def test_the_remembered_version_is_the_one_in_force(two_versions: Path, day: date, precision: str) -> None:
    versions = OrderVersions(two_versions, None, 8)
    authored = {"day": day.isoformat(), "month": day.isoformat()[:7], "year": day.isoformat()[:4], "none": None}[precision]
    order = _order(authored)
    outcomes: list[object] = []
    for _ in range(2):  # the first looks the version up, the second is remembered
        try:
            outcomes.append(versions.for_order(POLICY_ID, order, day)[0])
        except HookError as error:
            outcomes.append(error.message)
    if authored is None or authored == day.isoformat():
        try:
            expected: object = engine_for(POLICY_ID, two_versions, as_of=day)
        except VersionError:
            expected = outcomes[0]
            assert isinstance(expected, str)
        assert outcomes[0] is expected or outcomes[0] == expected
    assert outcomes[0] is outcomes[1] or outcomes[0] == outcomes[1]


def test_remembered_only_never_looks_a_version_up(two_versions: Path) -> None:
    versions = OrderVersions(two_versions, None, 8)
    with pytest.raises(NotRemembered):
        versions.for_order(POLICY_ID, _order("2025-06-01"), date(2026, 6, 1), remembered_only=True)
    engine, _ = versions.for_order(POLICY_ID, _order("2025-06-01"), date(2026, 6, 1))
    assert versions.for_order(POLICY_ID, _order("2025-06-01"), date(2026, 6, 1), remembered_only=True)[0] is engine


def test_the_days_remembered_are_bounded(two_versions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(order_versions, "REMEMBERED_DAYS", 3)
    versions = OrderVersions(two_versions, None, 8)
    for day in range(1, 10):
        versions.for_order(POLICY_ID, _order(f"2025-06-{day:02d}"), date(2026, 6, 1))
    assert len(versions._in_force) == 3

"""FHIR Observations to number facts (``code_measures/5``): unit, range, status and date decide
which Observation counts; every one read is accounted for, and one not used says why."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge import InputError, PolicyEngine
from pyclingo_bridge.cds_hooks import create_app, running_server
from pyclingo_bridge.cli import main
from pyclingo_bridge.fhir import decide_bundle

from .conftest import RFD_TEST_CODING, kb_governing_rfd

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "fhir"
LOINC, UCUM = "http://loinc.org", "http://unitsofmeasure.org"
PAIN = "72514-3"


@pytest.fixture(scope="module")
def rfd() -> PolicyEngine:
    return PolicyEngine("draft_ebi_lumbarrfd")


def observation(value: Any, date: str | None = "2026-03-01", *, unit: str | None = "{score}", status: str = "final",
                ident: str | None = None, code: str = PAIN, **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Observation", "id": ident or f"obs-{date}-{value}", "status": status,
                                "subject": {"reference": "Patient/p"},
                                "code": {"coding": [{"system": LOINC, "code": code}]}}
    if date is not None:
        resource["effectiveDateTime"] = date
    quantity: dict[str, Any] = {"value": value}
    if unit is not None:
        quantity |= {"system": UCUM, "code": unit}
    resource["valueQuantity"] = quantity
    resource.update(extra)
    return resource


def bundle(*resources: dict[str, Any], authored: str | None = "2026-03-10") -> dict[str, Any]:
    order: dict[str, Any] = {"resourceType": "ServiceRequest", "id": "o", "status": "draft", "intent": "order",
                             "subject": {"reference": "Patient/p"}}
    if authored is not None:
        order["authoredOn"] = authored
    entries = [{"resourceType": "Patient", "id": "p", "birthDate": "1970-05-01"}, order, *resources]
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in entries]}


def account(engine: PolicyEngine, data: dict[str, Any]) -> tuple[Any, list[tuple[str, bool, str]]]:
    """The pain score decided on, and (resource, used, reason) of each Observation read."""
    fhir = decide_bundle(engine, data).fhir
    return fhir.facts.given.get("pain_score"), [(o.resource, o.used, o.reason) for o in fhir.observations]


USED = "the most recent Observation on or before the order's date (2026-03-10): used"
CASES = [
    # name, observations, authoredOn, pain score decided on, account
    ("right unit", [observation(7, ident="a")], "2026-03-10", 7, [("Observation/a", True, USED)]),
    ("a decimal that is a whole number", [observation(7.0, ident="a")], "2026-03-10", 7,
     [("Observation/a", True, USED)]),
    ("on the order's date counts", [observation(6, "2026-03-10T16:00:00Z", ident="a")], "2026-03-10T09:00:00Z", 6,
     [("Observation/a", True, "the most recent Observation on or before the order's date (2026-03-10 09:00:00+00:00): used")]),
    ("wrong unit", [observation(7, unit="%", ident="a")], "2026-03-10", None,
     [("Observation/a", False, "unit %, not {score}: not used")]),
    ("the unit's case matters", [observation(7, unit="{SCORE}", ident="a")], "2026-03-10", None,
     [("Observation/a", False, "unit {SCORE}, not {score}: not used")]),
    ("no unit", [observation(7, unit=None, ident="a")], "2026-03-10", None,
     [("Observation/a", False, "no UCUM unit recorded (expected {score}): not used")]),
    ("out of range", [observation(11, ident="a")], "2026-03-10", None,
     [("Observation/a", False, "value 11 is not an integer from 0 to 10: not used")]),
    ("not a whole number", [observation(6.5, ident="a")], "2026-03-10", None,
     [("Observation/a", False, "value 6.5 is not an integer from 0 to 10: not used")]),
    ("a comparator is no exact value",
     [observation(7, ident="a") | {"valueQuantity": {"value": 7, "comparator": ">", "system": UCUM, "code": "{score}"}}],
     "2026-03-10", None, [("Observation/a", False, "value >7 is not an exact value: not used")]),
    ("two dates: the most recent counts", [observation(3, "2026-01-01", ident="old"), observation(7, "2026-03-01", ident="new")],
     "2026-03-10", 7, [("Observation/old", False, "an earlier Observation: not used"), ("Observation/new", True, USED)]),
    ("one after the order's date is not used", [observation(7, "2026-03-01", ident="a"), observation(2, "2026-03-11", ident="b")],
     "2026-03-10", 7, [("Observation/a", True, USED), ("Observation/b", False, "dated after the order's date: not used")]),
    ("an unusable most recent one is not replaced by an older one",
     [observation(7, "2026-01-01", ident="old"), observation(7, "2026-03-01", unit="%", ident="new")], "2026-03-10", None,
     [("Observation/old", False, "an earlier Observation: not used"), ("Observation/new", False, "unit %, not {score}: not used")]),
    ("same day, different values", [observation(3, "2026-03-01", ident="a"), observation(7, "2026-03-01", ident="b")],
     "2026-03-10", None, [("Observation/a", False, "the most recent Observations cannot be told apart by date and disagree: not used"),
                          ("Observation/b", False, "the most recent Observations cannot be told apart by date and disagree: not used")]),
    ("same day, ordered by time", [observation(3, "2026-03-01T08:00:00Z", ident="a"), observation(7, "2026-03-01T09:00:00Z", ident="b")],
     "2026-03-10", 7, [("Observation/a", False, "an earlier Observation: not used"), ("Observation/b", True, USED)]),
    ("a partial date that may be after the order", [observation(7, "2026-03", ident="a")], "2026-03-10", None,
     [("Observation/a", False, "a partial date that may fall after the order's date: not used")]),
    ("the end of a period", [observation(7, None, ident="a", effectivePeriod={"start": "2026-02-01", "end": "2026-03-02"})],
     "2026-03-10", 7, [("Observation/a", True, USED)]),
    ("undated", [observation(7, None, ident="a")], "2026-03-10", None,
     [("Observation/a", False, "no effective date: not used")]),
    ("no authoredOn: the most recent recorded", [observation(3, "2026-01-01", ident="a"), observation(7, "2027-01-01", ident="b")],
     None, 7, [("Observation/a", False, "an earlier Observation: not used"),
               ("Observation/b", True, "the most recent Observation recorded: used")]),
    ("none", [], "2026-03-10", None, []),
]


@pytest.mark.parametrize(("observations", "authored", "score", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_which_observation_counts(rfd: PolicyEngine, observations: list[dict[str, Any]], authored: str | None,
                                  score: int | None, expected: list[tuple[str, bool, str]]) -> None:
    assert account(rfd, bundle(*observations, authored=authored)) == (score, expected)


def test_an_unused_most_recent_observation_leaves_the_fact_unknown_and_says_so(rfd: PolicyEngine) -> None:
    result = decide_bundle(rfd, bundle(observation(7, unit="%")))
    assert "pain_score" in [m["fact"] for m in result.decision.to_dict()["missing"]]
    assert any("left unknown" in note and rfd.vocabulary.specs["pain_score"].meaning in note for note in result.fhir.notes)


def test_no_authored_on_is_said(rfd: PolicyEngine) -> None:
    notes = decide_bundle(rfd, bundle(observation(7), authored=None)).fhir.notes
    assert "ServiceRequest.authoredOn not recorded: the most recent Observation recorded is used" in notes


@pytest.mark.parametrize("status", ["preliminary", "registered", "cancelled", "entered-in-error", "unknown"])
def test_only_final_amended_or_corrected_observations_are_read(rfd: PolicyEngine, status: str) -> None:
    fhir = decide_bundle(rfd, bundle(observation(7, status=status, ident="a"))).fhir
    assert (fhir.facts.given.get("pain_score"), fhir.observations) == (None, ())
    assert fhir.ignored == (f"Observation/a: status {status}: not read",)


@pytest.mark.parametrize("status", ["amended", "corrected"])
def test_amended_and_corrected_observations_are_read(rfd: PolicyEngine, status: str) -> None:
    assert account(rfd, bundle(observation(7, status=status, ident="a")))[0] == 7


def test_an_observation_the_kb_does_not_map_is_reported(rfd: PolicyEngine) -> None:
    fhir = decide_bundle(rfd, bundle(observation(31, code="39156-5", unit="kg/m2", ident="a"))).fhir
    assert [(c.resource, c.code) for c in fhir.unmapped] == [("Observation/a", "39156-5")]
    assert fhir.observations == ()


def test_an_observation_about_another_patient_is_refused(rfd: PolicyEngine) -> None:
    other = observation(7, ident="a") | {"subject": {"reference": "Patient/q"}}
    with pytest.raises(InputError, match=r"Observation/a.subject: refers to Patient/q"):
        decide_bundle(rfd, bundle(other))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10), st.dates(dt.date(2024, 1, 1), dt.date(2026, 3, 10))),
                min_size=1, max_size=5, unique_by=lambda pair: pair[1]))
def test_the_most_recent_of_any_dated_scores_counts(scores: list[tuple[int, dt.date]]) -> None:
    engine = PolicyEngine("draft_ebi_lumbarrfd")
    observations = [observation(score, day.isoformat(), ident=f"o{i}") for i, (score, day) in enumerate(scores)]
    score, found = account(engine, bundle(*observations))
    newest = max(range(len(scores)), key=lambda i: scores[i][1])
    assert score == scores[newest][0]
    assert [resource for resource, used, _ in found if used] == [f"Observation/o{newest}"]


def test_the_text_answer_says_which_observation_counted() -> None:
    result = CliRunner().invoke(main, ["query", "--policy", "DRAFT_EBI_LumbarRFD", "--fhir",
                                       str(EXAMPLES.parent / "draft_ebi_lumbarrfd" / "pain-score-bundle.json")])
    assert result.exit_code == 0, result.output
    fhir = result.output[result.output.index("FHIR input"):]
    lines = [line for line in fhir.splitlines() if "72514-3" in line]
    assert lines == [
        ("  ? 72514-3 Pain severity - 0-10 verbal numeric rating [Score] - Reported (Observation/pain-2025-11-04, 2025-11-04): "
        "4 {score}; an earlier Observation: not used  [LOINC 72514-3 Pain severity - 0-10 verbal numeric rating [Score] - Reported]"),
        ("  + 72514-3 Pain severity - 0-10 verbal numeric rating [Score] - Reported (Observation/pain-2026-02-20, 2026-02-20): "
        "localised back pain at referral on a 0-10 visual analogue scale (or equivalent): 6; the most recent Observation on "
        "or before the order's date (2026-03-10): used  [LOINC 72514-3 Pain severity - 0-10 verbal numeric rating [Score] - Reported]"),
    ]


# --- the CDS prefetch ---------------------------------------------------------------------

SIGN = "/cds-services/draft_ebi_lumbarrfd-order-sign"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    kb_root = kb_governing_rfd(tmp_path_factory.mktemp("kb") / "kb")
    with running_server(create_app(kb_root, auth=None)) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield http


def hook_call(observations: list[dict[str, Any]] | None) -> dict[str, Any]:
    example = json.loads((EXAMPLES.parent / "draft_ebi_lumbarrfd" / "pain-score-bundle.json").read_text())
    resources = [copy.deepcopy(entry["resource"]) for entry in example["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    order = next(r for r in resources if r["resourceType"] == "ServiceRequest")
    order["code"] = {**order.get("code", {}), "coding": [RFD_TEST_CODING]}  # routed to the RFD policy
    conditions = [r for r in resources if r["resourceType"] == "Condition"]
    prefetch: dict[str, Any] = {"patient": patient, "conditions": {"resourceType": "Bundle", "type": "searchset",
                                                                    "entry": [{"resource": c} for c in conditions]}}
    if observations is not None:
        prefetch["observations"] = {"resourceType": "Bundle", "type": "searchset",
                                    "entry": [{"resource": o} for o in observations]}
    return {"hook": "order-sign", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/1", "patientId": patient["id"],
                        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]}},
            "prefetch": prefetch}


def test_the_service_declares_the_observations_prefetch(client: httpx.Client) -> None:
    services = {s["id"]: s for s in client.get("/cds-services").json()["services"]}
    assert services["draft_ebi_lumbarrfd-order-sign"]["prefetch"]["observations"] == \
        f"Observation?patient={{{{context.patientId}}}}&code={LOINC}|{PAIN}"
    assert "observations" not in services["cmicb_clin086-order-sign"]["prefetch"]


@pytest.mark.parametrize(("observations", "score"), [
    ([observation(6, "2026-02-20") | {"subject": {"reference": "Patient/pat-rfd"}}], 6),
    ([observation(6, "2026-02-20", unit="%") | {"subject": {"reference": "Patient/pat-rfd"}}], None),
    (None, None),
], ids=["prefetched score", "prefetched score in another unit", "no observations prefetch"])
def test_a_prefetched_observation_gives_its_fact(client: httpx.Client, observations: list[dict[str, Any]] | None,
                                                 score: int | None) -> None:
    answer = client.post(SIGN, json=hook_call(observations))
    assert answer.status_code == 200, answer.text
    decision = answer.json()["cards"][0]["extension"]["policykb"]["decision"]
    assert decision["fhir"]["facts"].get("pain_score") == score
    assert [o["used"] for o in decision["fhir"]["observations"]] == [score is not None for _ in observations or ()]


# --- a decimal: the body mass index of DRAFT_EBI_BreastReduction --------------------------

BMI = "39156-5"
BMI_CASES = [
    ("one decimal place", 26.9, "kg/m2", Decimal("26.9"), "the most recent Observation on or before the order's date (2026-03-10): used"),
    ("a whole number", 27, "kg/m2", Decimal("27.0"), "the most recent Observation on or before the order's date (2026-03-10): used"),
    ("more digits than the scale, never rounded", 26.95, "kg/m2", None,
     "value 26.95 is not a number from 10.0 to 90.0 kg/m2, with at most 1 digit after the point: not used"),
    ("a display unit is not the UCUM code", 26.9, "kg/m²", None, "unit kg/m², not kg/m2: not used"),
    ("out of range", 5, "kg/m2", None,
     "value 5 is not a number from 10.0 to 90.0 kg/m2, with at most 1 digit after the point: not used"),
]


@pytest.mark.parametrize(("value", "unit", "bmi", "reason"), [c[1:] for c in BMI_CASES], ids=[c[0] for c in BMI_CASES])
def test_a_bmi_observation(value: float, unit: str, bmi: Decimal | None, reason: str) -> None:
    engine = PolicyEngine("draft_ebi_breastreduction")
    fhir = decide_bundle(engine, bundle(observation(value, code=BMI, unit=unit))).fhir
    assert (fhir.facts.given.get("bmi"), [o.reason for o in fhir.observations]) == (bmi, [reason])

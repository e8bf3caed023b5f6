"""Routing by procedure code: which policies govern a code, read from the KB's governs/3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from pyclingo_bridge import routing
from pyclingo_bridge.cds_hooks.app import create_app
from pyclingo_bridge.cli import main
from pyclingo_bridge.errors import InputError, PolicyNotChosenError
from pyclingo_bridge.routing import Procedure


@pytest.fixture(scope="module")
def models() -> dict:
    return routing.models()


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        ("snomed", "433141005", ["CMICB_Clin086"]),
        ("http://snomed.info/sct", "22791004", ["CMICB_Clin086"]),
        ("opcs4", "F34.1", ["DRAFT_EBI_Tonsillectomy"]),
        ("opcs4", "F341", ["DRAFT_EBI_Tonsillectomy"]),
        ("https://fhir.nhs.uk/Id/opcs-4", "f34.7", ["DRAFT_EBI_Tonsillectomy"]),
        ("snomed", "241645008", []),  # MRI of spine, no level: not lumbar, governed by none
        ("opcs4", "F34", []),  # a category is not one of its subdivisions
        ("opcs4", "V48.5", []),  # not verified against the classification: not declared
        ("icd10", "433141005", []),  # another system's code of the same digits
        ("nosuch", "F34.1", []),
    ],
    ids=["snomed-name", "snomed-uri", "opcs4-dot", "opcs4-no-dot", "opcs4-uri-lower", "spine-no-level",
         "opcs4-category", "rfd-unverified", "other-system", "unknown-system"],
)
def test_governing(models: dict, system: str, code: str, expected: list[str]) -> None:
    found = routing.governing(models, [Procedure(system, code)])
    assert [route.reference for route in found] == expected
    assert all(route.source for route in found)


def test_every_governed_code_cites_its_source(models: dict) -> None:
    for model in models.values():
        for entry in model.codes.governed:
            assert entry.code in entry.source, entry


def test_choose_names_the_policies_when_none_governs(models: dict) -> None:
    with pytest.raises(PolicyNotChosenError) as error:
        routing.choose(models, [Procedure("snomed", "1")], "procedure")
    assert str(error.value) == f"no policy governs procedure (snomed 1); name one of: {ALL_POLICIES}"


@pytest.mark.parametrize(
    ("value", "field"),
    [({"system": "opcs4"}, "procedure"), ("F34.1", "procedure"), ({"system": "opcs4", "code": 3}, "procedure.code"),
     ({"system": " ", "code": "F34.1"}, "procedure.system")],
    ids=["no-code", "a-string", "code-not-string", "blank-system"],
)
def test_a_malformed_procedure_is_refused_by_the_vocabulary(models: dict, value: object, field: str) -> None:
    with pytest.raises(InputError) as error:
        models["cmicb_clin086"].vocabulary.validate({"procedure": value})
    assert [p.field for p in error.value.problems] == [field]


def test_a_procedure_decides_nothing(models: dict) -> None:
    vocabulary = models["cmicb_clin086"].vocabulary
    with_procedure = vocabulary.validate({"id": "a", "age": 40, "procedure": {"system": "snomed", "code": "433141005"}})
    assert with_procedure == vocabulary.validate({"id": "a", "age": 40})


# --- policykb policies --code -------------------------------------------------------------


TONSIL_SOURCE = "OPCS-4 F34.1 Bilateral dissection tonsillectomy (NHS Scarborough & Ryedale CCG tonsillectomy OPCS codes; NICE IPG178)"


@pytest.mark.parametrize(
    ("arguments", "code", "output"),
    [
        (["opcs4", "F341"], 0, f"DRAFT_EBI_Tonsillectomy  governs opcs4 F34.1: {TONSIL_SOURCE}\n"),
        (["snomed", "241645008"], 0, "no policy governs snomed 241645008\n"),
        (["xx", "1"], 2, ("Usage: policykb policies [OPTIONS]\nTry 'policykb policies --help' for help.\n\n"
                          "Error: --code: no code system 'xx' in the knowledge base; known: icd10, loinc, opcs4, snomed\n")),
    ],
    ids=["governed", "governed-by-none", "unknown-system"],
)
def test_policies_code(arguments: list[str], code: int, output: str) -> None:
    result = CliRunner().invoke(main, ["policies", "--code", *arguments], prog_name="policykb")
    assert (result.exit_code, result.output) == (code, output)


def test_policies_code_json() -> None:
    result = CliRunner().invoke(main, ["policies", "--code", "https://fhir.nhs.uk/Id/opcs-4", "F34.1", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {"policy": "DRAFT_EBI_Tonsillectomy", "system": "opcs4", "code": "F34.1", "source": TONSIL_SOURCE}
    ]


# --- policykb query: the procedure chooses the policy --------------------------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ALL_POLICIES = ", ".join(model.info.reference for model in routing.models().values())
"""Every policy of the KB by its reference, as the errors list them."""
LUMBAR_MRI = {"system": "http://snomed.info/sct", "code": "433141005"}


def _query(arguments: list[str], stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["query", *arguments], input=stdin, prog_name="policykb")
    return result.exit_code, result.stdout, result.stderr


def test_query_routes_by_the_procedure_named() -> None:
    facts = {**json.loads((EXAMPLES / "draft_ebi_tonsillectomy" / "frequency-met.json").read_text()),
             "procedure": {"system": "opcs4", "code": "F34.7"}}
    code, out, _ = _query(["-", "--format", "json"], json.dumps(facts))
    assert (code, json.loads(out)["policy"]) == (0, "DRAFT_EBI_Tonsillectomy")


def test_query_decides_alike_with_or_without_the_procedure() -> None:
    facts = json.loads((EXAMPLES / "primary-care.json").read_text())
    routed = _query(["-", "--format", "json"], json.dumps({**facts, "procedure": LUMBAR_MRI}))
    named = _query(["--policy", "CMICB_Clin086", "-", "--format", "json"], json.dumps(facts))
    assert routed == named


@pytest.mark.parametrize(
    ("arguments", "facts", "code", "error"),
    [
        ([], {"age": 40}, 2, (f"Error: give --policy, or name the procedure in the input (procedure): the knowledge base "
                              f"holds {ALL_POLICIES.count(',') + 1} policies, name one of: {ALL_POLICIES}\n")),
        ([], {"procedure": {"system": "snomed", "code": "241645008"}}, 2,
         f"Error: give --policy: no policy governs procedure (snomed 241645008); name one of: {ALL_POLICIES}\n"),
        (["--policy", "DRAFT_EBI_Tonsillectomy"], {"procedure": LUMBAR_MRI}, 1,
         "Error: invalid input: procedure: http://snomed.info/sct 433141005: not a procedure that DRAFT_EBI_Tonsillectomy governs\n"),
        ([], {"procedure": {"system": "opcs4"}}, 1,
         'Error: invalid input: procedure: expected an object {"system": "<code system, e.g. opcs4, snomed or a FHIR URI>", "code": "<code>"}\n'),
    ],
    ids=["no-procedure", "governed-by-none", "policy-does-not-govern", "malformed"],
)
def test_query_without_a_policy_it_can_choose(arguments: list[str], facts: dict, code: int, error: str) -> None:
    exit_code, out, err = _query([*arguments, "-"], json.dumps(facts))
    assert (exit_code, out) == (code, "")
    assert err.endswith(error)


def test_query_fhir_with_a_policy_that_does_not_govern_the_order_is_refused() -> None:
    bundle = json.loads((EXAMPLES / "fhir" / "sciatica-bundle.json").read_text())
    code, out, err = _query(["--fhir", "--policy", "DRAFT_EBI_Tonsillectomy", "-"], json.dumps(bundle))
    assert (code, out) == (1, "")
    assert err.endswith("Error: invalid input: ServiceRequest.code: http://snomed.info/sct 433141005: "
                        "not a procedure that DRAFT_EBI_Tonsillectomy governs\n")


def test_query_fhir_routes_by_the_service_request_code() -> None:
    bundle = json.loads((EXAMPLES / "fhir" / "sciatica-bundle.json").read_text())
    code, out, _ = _query(["--fhir", "-", "--format", "json"], json.dumps(bundle))
    assert (code, json.loads(out)["policy"]) == (0, "CMICB_Clin086")


# --- the CDS Hooks service routes each draft order by its code ----------------------------


SERVICES = [f"{policy_id}-order-sign" for policy_id in routing.models()]
OPCS4_URI = "https://fhir.nhs.uk/Id/opcs-4"


@pytest.fixture(scope="module")
def service() -> TestClient:
    return TestClient(create_app(auth=None))


def _order_sign(*codings: dict[str, str]) -> dict:
    body = json.loads((EXAMPLES / "fhir" / "cds-hooks-order-sign.json").read_text())
    template = body["context"]["draftOrders"]["entry"][0]["resource"]
    body["context"]["draftOrders"]["entry"] = [
        {"resource": {**template, "id": f"order-{index}", "category": [], "code": {"coding": [coding]}}}
        for index, coding in enumerate(codings)
    ]
    return body


def _cards(service: TestClient, body: dict) -> dict[str, list[tuple[str, str]]]:
    """Per service: (policy, order) of each card."""
    found = {}
    for name in SERVICES:
        response = service.post(f"/cds-services/{name}", json=body)
        assert response.status_code == 200, response.text
        found[name] = [(c["extension"]["policykb"]["policy"], c["extension"]["policykb"]["order"]) for c in response.json()["cards"]]
    return found


@pytest.mark.parametrize(
    ("codings", "expected"),
    [
        ([LUMBAR_MRI], {"cmicb_clin086-order-sign": [("CMICB_Clin086", "ServiceRequest/order-0")]}),
        ([{"system": OPCS4_URI, "code": "F34.1"}], {"draft_ebi_tonsillectomy-order-sign": [("DRAFT_EBI_Tonsillectomy", "ServiceRequest/order-0")]}),
        ([LUMBAR_MRI, {"system": OPCS4_URI, "code": "F347"}],
         {"cmicb_clin086-order-sign": [("CMICB_Clin086", "ServiceRequest/order-0")],
          "draft_ebi_tonsillectomy-order-sign": [("DRAFT_EBI_Tonsillectomy", "ServiceRequest/order-1")]}),
        ([{"system": "http://snomed.info/sct", "code": "241645008"}], {}),  # MRI of spine, no level
    ],
    ids=["lumbar-mri", "tonsillectomy", "both-orders", "governed-by-none"],
)
def test_each_order_gets_the_card_of_the_policies_that_govern_it(service: TestClient, codings: list, expected: dict) -> None:
    found = _cards(service, _order_sign(*codings))
    assert found == {name: expected.get(name, []) for name in SERVICES}

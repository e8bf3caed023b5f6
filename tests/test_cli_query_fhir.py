"""``policykb query --fhir``: a FHIR R4 Bundle through the same command and engine."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pyclingo_bridge.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "fhir"


def test_json_carries_the_decision_and_the_fhir_account() -> None:
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", "--fhir", "--format", "json", str(EXAMPLES / "sciatica-bundle.json")])
    assert result.exit_code == 0
    output = json.loads(result.output)
    assert (output["id"], output["status"]) == ("ServiceRequest/order-sci", "undetermined")
    assert output["fhir"]["unmapped"] == [
        {"resource": "Condition/cond-htn", "system": "http://snomed.info/sct", "code": "38341003",
         "display": "Hypertensive disorder"}
    ]


def test_text_gives_the_fhir_account_before_the_validity_footer() -> None:
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", "--fhir", str(EXAMPLES / "suspected-cauda-equina-bundle.json")])
    assert result.exit_code == 0
    assert result.output.startswith("Status: Outside this policy\n")
    assert result.output.split("\n\nValidity\n")[0].endswith(
        "FHIR input (ServiceRequest/order-ces)\n"
        "  + G83.4 Cauda equina syndrome (Condition/cond-ces): red flag: suspected cauda equina syndrome"
        "  [ICD-10 G83.4 Cauda equina syndrome]\n"
        "  + M54.5 Low back pain (Condition/cond-lbp): the condition this policy is about  [ICD-10 M54.5 Low back pain]\n"
        "  ! coded as present: red flag: suspected cauda equina syndrome; the others are unknown (no screen recorded)"
    )
    assert result.output.endswith("this answer is valid only if it matches the version above (7.1, 7.2).\n")


def test_bad_bundle_is_one_clear_error() -> None:
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", "--fhir", "-"], input='{"resourceType": "Patient"}')
    assert result.exit_code == 1
    assert result.output == "Error: invalid input: Bundle.resourceType: expected a FHIR Bundle, got 'Patient'\n"


def test_plain_facts_are_not_taken_for_a_bundle() -> None:
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", "--fhir", "-"], input='{"age": 40}')
    assert result.exit_code == 1
    assert "Error: invalid input: Bundle" in result.output

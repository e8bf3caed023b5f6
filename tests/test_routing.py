"""Routing by procedure code: which policies govern a code, read from the KB's governs/3."""

from __future__ import annotations

import json

import pytest

from pyclingo_bridge import routing
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
    assert str(error.value) == (
        "no policy governs procedure (snomed 1); name one of: CMICB_Clin086, DRAFT_EBI_LumbarRFD, DRAFT_EBI_Tonsillectomy"
    )


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

from click.testing import CliRunner  # noqa: E402

from pyclingo_bridge.cli import main  # noqa: E402

TONSIL_SOURCE = "OPCS-4 F34.1 Bilateral dissection tonsillectomy (NHS Scarborough & Ryedale CCG tonsillectomy OPCS codes; NICE IPG178)"


@pytest.mark.parametrize(
    ("arguments", "code", "output"),
    [
        (["opcs4", "F341"], 0, f"DRAFT_EBI_Tonsillectomy  governs opcs4 F34.1: {TONSIL_SOURCE}\n"),
        (["snomed", "241645008"], 0, "no policy governs snomed 241645008\n"),
        (["xx", "1"], 2, "Usage: policykb policies [OPTIONS]\nTry 'policykb policies --help' for help.\n\n"
                         "Error: --code: no code system 'xx' in the knowledge base; known: icd10, opcs4, snomed\n"),
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

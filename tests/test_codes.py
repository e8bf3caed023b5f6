"""Code mappings are knowledge-base data: read from kb/, checked against the vocabulary."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pyclingo_bridge import KnowledgeBase, KnowledgeBaseError, PolicyEngine
from pyclingo_bridge.codes import CodeMaps
from pyclingo_bridge.fhir import code_maps
from pyclingo_bridge.knowledge_base import installed_kb_root

ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"

LOOKUPS = [
    ("exact ICD-10", ICD10, "G83.4", [("red_flags", "cauda_equina")]),
    ("ICD-10 subdivision", ICD10, "M54.56", [(None, None)]),
    ("ICD-10 both a fact and the indication", ICD10, "M54.4", [("sciatica", "true"), (None, None)]),
    ("ICD-10 parent is not its child", ICD10, "M54", []),
    ("SNOMED exact", SNOMED, "279039007", [(None, None)]),
    ("no system", None, "G83.4", []),
]


@pytest.mark.parametrize(("system", "code", "meanings"), [c[1:] for c in LOOKUPS], ids=[c[0] for c in LOOKUPS])
def test_lookup(engine: PolicyEngine, system: str | None, code: str, meanings: list[tuple[str | None, str | None]]) -> None:
    found = code_maps(engine).meanings(system, code)
    assert [(m.key, m.value) for m in found] == meanings


def test_every_source_cites_its_code(engine: PolicyEngine) -> None:
    maps: CodeMaps = code_maps(engine)
    for meanings in maps._meanings.values():
        for meaning in meanings:
            assert meaning.code in meaning.source


@pytest.mark.parametrize(
    "line",
    ['code_maps_to(icd10, "X1", no_such_fact, true, "test").', 'code_maps_to(icd10, "X1", red_flags, no_such_flag, "test").',
     'code_maps_to(no_such_system, "X1", sciatica, true, "test").', "age_on_order_date(sciatica)."],
    ids=["unknown fact", "unknown value", "unknown system", "age into a non-integer fact"],
)
def test_a_mapping_outside_the_vocabulary_is_a_kb_fault(tmp_path: Path, line: str) -> None:
    root = tmp_path / "kb"
    shutil.copytree(installed_kb_root(), root)
    with (root / "policies" / "cmicb_clin086" / "codes.lp").open("a") as codes:
        codes.write("\n" + line + "\n")
    engine = PolicyEngine("CMICB_Clin086", KnowledgeBase(root))
    with pytest.raises(KnowledgeBaseError):
        code_maps(engine)


def test_the_age_fact_is_declared_in_the_kb(engine: PolicyEngine) -> None:
    assert code_maps(engine).age_fact == "age"

"""The policy model: the KB read once, and read by everyone else through it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyclingo_bridge import PolicyEngine, PolicyModel, model_for
from pyclingo_bridge.knowledge_base import KnowledgeBase, knowledge_base

from .conftest import POLICY

PACKAGE = Path(__file__).resolve().parent.parent / "pyclingo_bridge"


def test_model_holds_what_the_kb_declares(engine: PolicyEngine) -> None:
    model = engine.model
    assert isinstance(model, PolicyModel) and model is model_for(POLICY)
    assert model.info.reference == "CMICB_Clin086" and model.info.version == "1"
    assert model.vocabulary.specs["age"].type == "integer"
    assert model.urgent_clauses == frozenset({"2.1", "2.2"})
    assert model.not_read == {"sciatica": "1.2"}
    assert model.interval_starts["age"] == (0, 16)
    assert model.codes.age_fact == "age"
    assert model.invariants == {}  # checks/ are loaded by `policykb check` only


def test_one_function_resolves_the_kb_root(tmp_path: Path) -> None:
    assert knowledge_base() == KnowledgeBase.installed()
    assert knowledge_base(tmp_path) == KnowledgeBase(tmp_path)


# Only the model reads the ground program's facts, and only the solver wrapper owns clingo's
# Control: a front end that reads facts itself is a second reader of the KB.
READERS = {"model.py", "solver.py"}


@pytest.mark.parametrize(
    "module", sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")), ids=str
)
def test_no_module_but_the_model_reads_ground_facts(module: str) -> None:
    text = (PACKAGE / module).read_text()
    if Path(module).name in READERS:
        return
    assert not re.search(r"\.facts\(\"", text), f"{module} reads the ground program's facts"
    assert "engine.program" not in text, f"{module} reaches through engine.program"

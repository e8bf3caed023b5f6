"""The policy model: the KB read once, and read by everyone else through it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pyclingo_bridge import Parameter, PolicyEngine, PolicyModel, engine_for, model_for
from pyclingo_bridge.check import check_policy
from pyclingo_bridge.knowledge_base import KnowledgeBase, knowledge_base

from .conftest import POLICY

PACKAGE = Path(__file__).resolve().parent.parent / "pyclingo_bridge"


def test_model_holds_what_the_kb_declares(engine: PolicyEngine) -> None:
    model = engine.model
    assert isinstance(model, PolicyModel) and model is model_for(POLICY)
    assert model.info.reference == "CMICB_Clin086" and model.info.version == "1"
    assert model.vocabulary.specs["age"].type == "integer"
    assert list(model.wording.urgencies) == ["emergency", "urgent", "routine"]
    assert model.contradictions.fields["mcas_setting_without_mcas"] == ("mcas_in_place", "setting")
    assert model.not_read == {"sciatica": "1.2"}
    assert model.interval_starts["age"] == (0, 16, 17)
    assert model.parameters["minimum_age"] == Parameter("minimum_age", "age", 16, "1.5")
    assert model.thresholds["age"] == (16, 17)  # derived: < and >= split at 16, <= and > at 17
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


def test_sentences_quote_parameters_by_name() -> None:
    """A rule's sentence and an advice write {minimum_age}; the model quotes the parameter, so
    the number lives in one place."""
    rules = (KnowledgeBase.installed().root / "policies" / "cmicb_clin086" / "rules.lp").read_text()
    assert rules.count("minimum age of {minimum_age}") == 1 and rules.count("aged {minimum_age} or older") == 1
    assert "16" not in "".join(line for line in rules.splitlines() if not line.startswith("%"))  # a comment may cite the clause
    engine = engine_for(POLICY)
    assert engine.policy.rules["under_minimum_age"].text == "The patient is younger than the policy's minimum age of 16"
    young = engine.decide({"age": 12, "setting": "mcas"})
    assert any("aged 16 or older" in advice.text for advice in young.advice)


def test_a_sentence_quoting_no_parameter_is_a_finding(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(KnowledgeBase.installed().root, root, ignore=shutil.ignore_patterns("__pycache__"))
    rules = root / "policies" / "cmicb_clin086" / "rules.lp"
    rules.write_text(rules.read_text().replace("minimum age of {minimum_age}", "minimum age of {minimum_agee}"))
    [finding] = check_policy(KnowledgeBase(root), POLICY).findings
    assert (finding.kind, finding.message, finding.clauses) == (
        "parameter_without_fact",
        "{minimum_agee} quotes no declared parameter (did you mean minimum_age?): a sentence quotes a parameter by its name in braces",
        ("1.5",),
    )
    assert finding.location is not None and finding.location.shown == "kb/policies/cmicb_clin086/rules.lp"


@pytest.mark.parametrize("operator", ["<", "<=", ">", ">=", "=", "!="])
def test_any_comparison_with_a_parameter_decides_every_value_exactly(tmp_path: Path, operator: str) -> None:
    """Thresholds at V and V + 1: a rule may compare with a parameter by any operator, and
    the groundings that take numbers at their interval starts (the audit, brave solves)
    decide every age as the grounding with every value does."""
    root = tmp_path / "kb"
    shutil.copytree(KnowledgeBase.installed().root, root, ignore=shutil.ignore_patterns("__pycache__"))
    rules = root / "policies" / "cmicb_clin086" / "rules.lp"
    text = rules.read_text()
    old = "holds(age, Age), parameter(minimum_age, age, Minimum, _), Age < Minimum.\n\n%## 2.1"
    assert text.count(old) == 1
    rules.write_text(text.replace(old, old.replace("Age < Minimum", f"Age {operator} Minimum")))
    assert [f.kind for f in check_policy(KnowledgeBase(root), POLICY).findings if f.kind == "not_a_parameter"] == []
    engine = PolicyEngine(POLICY, KnowledgeBase(root))
    for age in range(131):
        facts = engine.vocabulary.validate({"age": age, "setting": "mcas", "red_flags": [], "likely_to_change_management": True})
        assert engine.decide_facts(facts, explain=False).status == engine.decide_facts(facts).status, age

"""Mitigations from docs/clinical-safety.md that the other test modules do not already show."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest

from pyclingo_bridge import KnowledgeBase, KnowledgeBaseError, PolicyEngine
from pyclingo_bridge.audit import AuditSettings, audit

from .conftest import patient

POLICY_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "policy-sources" / "CMICB_Clin086-low-back-pain-imaging.txt"


def test_decisions_state_the_policy_version(engine: PolicyEngine) -> None:
    decision = engine.decide(patient()).to_dict()
    assert (decision["policy"], decision["policy_version"]) == ("CMICB_Clin086", engine.policy.metadata["version"])


@pytest.mark.skipif(not POLICY_SOURCE.is_file(), reason=f"policy source not beside the repository: {POLICY_SOURCE}")
def test_kb_version_matches_the_policy_document(engine: PolicyEngine) -> None:
    text = POLICY_SOURCE.read_text()
    assert re.search(r"^Version:\s*(\S+)", text, re.MULTILINE).group(1) == engine.policy.version  # type: ignore[union-attr]
    assert re.search(r"^Review date:\s*(.+)$", text, re.MULTILINE).group(1).strip() == "March 2029"  # type: ignore[union-attr]
    assert engine.policy.metadata["review"] == "2029-03"


def test_a_conflicting_kb_refuses_to_answer(tmp_path: Path, engine: PolicyEngine) -> None:
    shutil.copytree(engine.kb.root, tmp_path / "kb")
    rules = tmp_path / "kb" / "policies" / "cmicb_clin086" / "rules.lp"
    # A careless edit: primary care "commissioned" at the same stage as 1.2's "not commissioned".
    rules.write_text(rules.read_text() + '\nconclusion(policy_statement, commissioned) :- holds(setting, primary_care).\n')
    broken = PolicyEngine("CMICB_Clin086", KnowledgeBase(tmp_path / "kb"))
    with pytest.raises(KnowledgeBaseError, match="two statuses or none"):
        broken.decide(patient(setting="primary_care"))
    with pytest.raises(KnowledgeBaseError):
        broken.decide(patient(setting=...))  # some completion is primary care
    assert broken.decide(patient()).status == "commissioned"  # completions without the fault still answer


def test_an_audit_row_the_kb_cannot_answer_is_an_error_row_and_the_run_goes_on(tmp_path: Path, engine: PolicyEngine) -> None:
    shutil.copytree(engine.kb.root, tmp_path / "kb")
    rules = tmp_path / "kb" / "policies" / "cmicb_clin086" / "rules.lp"
    rules.write_text(rules.read_text() + '\nconclusion(policy_statement, commissioned) :- holds(setting, primary_care).\n')
    faulty = json.dumps(patient(setting="primary_care"))
    sound = json.dumps(patient())
    bad = json.dumps({**patient(), "age": "old"})
    text = "".join(row + "\n" for row in (faulty, sound, bad, faulty, sound))
    out = io.StringIO()
    tally = audit(io.StringIO(text), AuditSettings("CMICB_Clin086", kb_root=tmp_path / "kb"), out.write, jobs=1)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["row"] for line in lines] == [1, 2, 3, 4, 5]
    assert ["error" in line for line in lines] == [True, False, True, True, False]
    assert "knowledge base fault" in lines[0]["error"] and "two statuses or none" in lines[3]["error"]
    assert (tally.errors, tally.statuses["commissioned"]) == (3, 2)
    assert [row.row for row in tally.follow_up["error"]] == [1, 3, 4], "error rows kept in input order"

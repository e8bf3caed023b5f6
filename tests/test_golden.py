"""Golden files: the text and the card a clinician reads, one patient per status and per
advice urgency. Regenerate after a deliberate change of wording with
``POLICYKB_REGENERATE_GOLDEN=1 python -m pytest tests/test_golden.py`` and review the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from pyclingo_bridge import PatientFacts, PolicyEngine
from pyclingo_bridge.cds_hooks.cards import card
from pyclingo_bridge.cli import main
from pyclingo_bridge.fhir import FhirDecision, FhirFacts

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
REGENERATE = os.environ.get("POLICYKB_REGENERATE_GOLDEN") == "1"

CASES = [
    # golden name, example: what it stands for
    ("commissioned", "specialist-likely-to-change.json"),  # commissioned, no advice
    ("not-commissioned-routine", "primary-care.json"),  # not commissioned, routine advice (1.2, 6.3)
    ("outside-policy-emergency", "suspected-cauda-equina.json"),  # outside, emergency advice, set aside
    ("commissioned-urgent", "suspected-cancer-2ww.json"),  # commissioned by 3.2, urgent 2-week wait
    ("not-commissioned-trial", "trial-continuation.json"),  # 6.6: the sponsor, no IFR
    ("undetermined", "consultant-mcas-unknown.json"),  # questions with their input hints
]


def _compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize(("name", "example"), CASES, ids=[c[0] for c in CASES])
def test_text_matches_its_golden_file(name: str, example: str) -> None:
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", str(ROOT / "examples" / example)])
    assert result.exit_code == 0
    _compare(f"{name}.txt", result.stdout)


@pytest.mark.parametrize(("name", "example"), CASES, ids=[c[0] for c in CASES])
def test_card_matches_its_golden_file(engine: PolicyEngine, name: str, example: str) -> None:
    facts = json.loads((ROOT / "examples" / example).read_text())
    decision = engine.decide(facts)
    made = card(FhirDecision(decision, FhirFacts("ServiceRequest/example", PatientFacts({}))), engine)
    _compare(f"{name}.card.md", f"{made['indicator']}: {made['summary']}\n\n{made['detail']}")

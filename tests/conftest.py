"""Shared fixtures: the installed CMICB_Clin086 engine and a patient builder."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from pyclingo_bridge import PolicyEngine, engine_for
from pyclingo_bridge.program_cache import CACHE_ENV
from pyclingo_bridge.table import TABLE_ENV

# The tests keep the transformed-program cache out of the user's home, in a folder of their
# own that goes when they end.
if CACHE_ENV not in os.environ:
    os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="policykb-cache-")
    atexit.register(shutil.rmtree, os.environ[CACHE_ENV], ignore_errors=True)



@pytest.fixture(autouse=True)
def _fresh_answer_tables(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no saved answer table (table.py), so that what an audit solves
    does not depend on the tests before it."""
    monkeypatch.setenv(TABLE_ENV, str(tmp_path_factory.mktemp("tables")))


# In CI (CI set, as CI services do, or `pytest --hypothesis-profile=ci`) every law runs on
# examples derived from its own source, and no example database is read or written: a run
# cannot replay a failure saved by an earlier one (.hypothesis/ is never committed either),
# and the same commit gives the same result. Locally, examples are random and failures saved.
settings.register_profile("ci", database=None, derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

POLICY = "CMICB_Clin086"

# A patient about whom everything the policy reads is known and nothing excludes them.
COMPLETE_ADULT: dict[str, Any] = {
    "age": 45,
    "setting": "mcas",
    "sciatica": False,
    "red_flags": [],
    "likely_to_change_management": True,
    "mcas_in_place": True,
    "seen_by_mcas": True,
}


@pytest.fixture(scope="session")
def engine() -> PolicyEngine:
    return engine_for(POLICY)


def patient(**changes: Any) -> dict[str, Any]:
    """A complete adult patient with ``changes``; a value of ``...`` removes the key."""
    facts = dict(COMPLETE_ADULT)
    for key, value in changes.items():
        if value is ...:
            facts.pop(key, None)
        else:
            facts[key] = value
    return facts


# An author case file with one case that passes and one that fails (for `policykb test` and
# the pytest plugin).
ONE_PASSING_ONE_FAILING = """policy: CMICB_Clin086
base_facts: {age: 45, setting: primary_care, red_flags: []}
cases:
  - name: primary care
    status: not_commissioned
    clauses: [1.2]
  - name: wrongly expected
    status: commissioned
    clauses: [1.3]
"""


RFD_TEST_CODING = {"system": "http://snomed.info/sct", "code": "9990000001", "display": "test only"}
"""A made-up procedure code that :func:`kb_governing_rfd` routes to DRAFT_EBI_LumbarRFD."""
BREAST_REDUCTION_TEST_CODING = {"system": "http://snomed.info/sct", "code": "9990000002", "display": "test only"}
"""A made-up procedure code that ``kb_governing(root, "draft_ebi_breastreduction", ...)`` routes."""


def kb_governing(root: Path, policy_folder: str, coding: dict[str, str]) -> Path:
    """A copy of the installed KB at ``root`` in which the policy of ``policy_folder`` also
    governs the SNOMED CT ``coding`` (a made-up code): the drafts' own procedure codes are not
    verified yet, so the shipped KB routes no order to them (the CDS service decides an order
    only under a policy that governs its code)."""
    from pyclingo_bridge.knowledge_base import KnowledgeBase

    shutil.copytree(KnowledgeBase.installed().root, root, ignore=shutil.ignore_patterns("__pycache__"))
    with (root / "policies" / policy_folder / "codes.lp").open("a") as codes:
        codes.write(f'\ngoverns(snomed, "{coding["code"]}", "test only: not a SNOMED CT concept").\n')
    return root


def kb_governing_rfd(root: Path) -> Path:
    """A KB copy in which DRAFT_EBI_LumbarRFD governs :data:`RFD_TEST_CODING`."""
    return kb_governing(root, "draft_ebi_lumbarrfd", RFD_TEST_CODING)

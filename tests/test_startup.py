"""A query's start-up loads what a query needs and no more (issue 15 §4): once the program
cache holds its texts, no syntax tree is walked, and neither the FHIR models, YAML, the web
stack nor the test libraries are imported."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyclingo_bridge import KnowledgeBase, PolicyEngine, engine_for
from pyclingo_bridge import engine as engine_module
from pyclingo_bridge.engine import DECISION_ATOMS
from pyclingo_bridge.program_cache import CACHE_ENV

from .strategies import consistent, patient_facts

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "specialist-likely-to-change.json"
# Runs the CLI as `policykb query` does, then lists every module the process imported.
QUERY = """
import json, sys
from pyclingo_bridge.cli import main
main(["query", "--policy", "CMICB_Clin086", sys.argv[1], "--format", "json"], prog_name="policykb", standalone_mode=False)
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
NOT_IMPORTED = (
    "clingo.ast",  # parsing: the cached texts are handed to clingo as they are
    "pyclingo_bridge.labels",
    "pyclingo_bridge.cone",
    "pyclingo_bridge.syntax",
    "fhir",
    "pydantic",
    "yaml",
    "starlette",
    "fastapi",
    "uvicorn",
    "httpx",
    "jwt",
    "hypothesis",
)


def _query(cache: Path) -> tuple[dict[str, object], set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", QUERY, str(EXAMPLE)],
        cwd=ROOT,  # the checkout's package, as the other tests import it
        env={**os.environ, CACHE_ENV: str(cache)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout), set(json.loads(done.stderr.splitlines()[-1]))


def test_a_query_that_finds_the_cache_imports_no_parser_fhir_yaml_or_web_stack(tmp_path: Path) -> None:
    first, first_modules = _query(tmp_path)  # fills the cache
    assert "clingo.ast" in first_modules  # the first start parsed the KB
    answer, modules = _query(tmp_path)
    assert answer == first and answer["status"] == "commissioned"
    assert {name for name in modules if name.split(".")[0] in NOT_IMPORTED or name in NOT_IMPORTED} == set()


POLICIES = sorted(KnowledgeBase.installed().policy_folders())


@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_defaults_weighed_on_the_trace_grounding_are_weighed_as_on_the_trace_free_one(
    policy: str, data: st.DataObject
) -> None:
    """A query weighs its closed-world defaults on the trace grounding it already holds (no
    second grounding at start); an engine with the trace-free grounding ground weighs on that
    one. Both give the same decision, which assumptions would change it included."""
    on_trace, on_trace_free = _engines(policy)
    facts = data.draw(patient_facts(on_trace.vocabulary).filter(consistent(on_trace_free)))
    with patch.object(engine_module, "WEIGHED_ON_TRACE", 10**9):  # never ground the trace-free one here
        weighed_on_trace = on_trace.decide(facts)
    assert DECISION_ATOMS not in on_trace._groundings
    assert weighed_on_trace == on_trace_free.decide(facts)


@functools.cache
def _engines(policy: str) -> tuple[PolicyEngine, PolicyEngine]:
    on_trace_free = PolicyEngine(policy, version=engine_for(policy).version)
    on_trace_free.prepare(explain=False)  # grounds the trace-free program
    return PolicyEngine(policy, version=engine_for(policy).version), on_trace_free


def test_a_console_query_ends_with_its_exit_code_and_whole_output(tmp_path: Path) -> None:
    """``policykb query`` from the console ends without the interpreter's teardown
    (``cli.run``): its output is whole and its exit code the command's, for an answer (0), bad
    input (1) and a usage error (2)."""
    example = Path(__file__).resolve().parent.parent / "examples" / "specialist-likely-to-change.json"
    run = [sys.executable, "-m", "pyclingo_bridge", "query", "--policy", "CMICB_Clin086"]
    answer = subprocess.run([*run, str(example), "--format", "json"], check=False, capture_output=True, text=True, cwd=tmp_path)
    assert answer.returncode == 0 and json.loads(answer.stdout)["status"] == "commissioned"
    bad = subprocess.run([*run, "-"], input='{"age": "x"}', check=False, capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 1 and bad.stderr.startswith("Error: invalid input: age:")
    usage = subprocess.run([*run, "--nope"], check=False, capture_output=True, text=True, cwd=tmp_path)
    assert usage.returncode == 2 and "No such option" in usage.stderr

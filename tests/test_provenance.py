"""Provenance: every answer says which KB content decided it; an audit writes a run manifest."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pyclingo_bridge._version import __version__
from pyclingo_bridge.cli import main
from pyclingo_bridge.engine import PolicyEngine
from pyclingo_bridge.knowledge_base import KnowledgeBase, installed_kb_root
from pyclingo_bridge.provenance import file_sha256, files_sha256

from .conftest import COMPLETE_ADULT, POLICY


def test_an_answer_carries_its_provenance(engine: PolicyEngine) -> None:
    provenance = engine.decide(COMPLETE_ADULT).to_dict()["provenance"]
    assert provenance == {
        "policy": "CMICB_Clin086",
        "version": "1",
        "effective_from": None,
        "effective_to": None,
        "status": "ratified",
        "kb_sha256": files_sha256(engine.files, engine.kb.root),
        "policykb_version": __version__,
    }
    assert len(provenance["kb_sha256"]) == 64


def test_the_kb_hash_depends_on_content_not_on_place(tmp_path: Path) -> None:
    copy = tmp_path / "kb"
    shutil.copytree(installed_kb_root(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    here = PolicyEngine(POLICY, KnowledgeBase(copy))
    assert here.provenance.kb_sha256 == PolicyEngine(POLICY, KnowledgeBase.installed()).provenance.kb_sha256
    rules = copy / "policies" / "cmicb_clin086" / "rules.lp"
    rules.write_text(rules.read_text() + "\n% a comment is content too\n")
    assert PolicyEngine(POLICY, KnowledgeBase(copy)).provenance.kb_sha256 != here.provenance.kb_sha256


def _audit(extract: Path, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["audit", str(extract), "--policy", POLICY, *options])
    return result.exit_code, result.stderr


@pytest.fixture()
def extract(tmp_path: Path) -> Path:
    path = tmp_path / "rows.jsonl"
    rows = [{"id": "a", **COMPLETE_ADULT}, {"id": "b", **COMPLETE_ADULT, "age": 12}, {"id": "c", "age": "x"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_audit_writes_a_manifest_beside_its_output_and_lines_carry_provenance(extract: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    code, _ = _audit(extract, "-o", str(output))
    assert code == 1  # one row could not be decided
    manifest = json.loads((tmp_path / "out.jsonl.manifest.json").read_text())
    assert manifest["input"] == {"name": str(extract), "sha256": file_sha256(extract)}
    assert manifest["rows"] == {"total": 3, "decided": 2, "errors": 1, "by_status": {"commissioned": 1, "outside_policy": 1}}
    [version] = manifest["versions"]
    assert (version["policy"], version["version"], version["policykb_version"]) == ("CMICB_Clin086", "1", __version__)
    assert manifest["started"] <= manifest["ended"]
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [line.get("provenance") for line in lines[:2]] == [version, version]


def test_an_audit_to_a_device_or_pipe_writes_no_manifest_beside_it(extract: Path, tmp_path: Path) -> None:
    """``-o /dev/null`` is no file to put ``/dev/null.manifest.json`` beside; a pipe neither."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so that opening it to write does not block
    try:
        code, _ = _audit(extract, "-o", str(fifo))
    finally:
        os.close(reader)
    assert code == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pipe", "rows.jsonl"]


def test_the_sha256_of_a_large_extract_is_hashlibs(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"{}\n" * 700_000)  # more than one block
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_runs_give_the_same_hashes(extract: Path, tmp_path: Path) -> None:
    found = []
    for run in ("one", "two"):
        manifest = tmp_path / f"{run}.json"
        _audit(extract, "-o", str(tmp_path / f"{run}.jsonl"), "--manifest", str(manifest))
        written = json.loads(manifest.read_text())
        found.append((written["input"]["sha256"], [v["kb_sha256"] for v in written["versions"]]))
        assert (tmp_path / f"{run}.jsonl").read_text() == (tmp_path / "one.jsonl").read_text()
    assert found[0] == found[1]


def test_audit_to_stdout_writes_a_manifest_only_on_request(extract: Path, tmp_path: Path) -> None:
    before = set(tmp_path.iterdir())
    _audit(extract)
    assert set(tmp_path.iterdir()) == before
    _audit(extract, "--manifest", str(tmp_path / "m.json"))
    assert json.loads((tmp_path / "m.json").read_text())["rows"]["total"] == 3


def test_a_manifest_that_cannot_be_written_stops_the_run_first(extract: Path, tmp_path: Path) -> None:
    code, err = _audit(extract, "--manifest", str(tmp_path / "missing" / "m.json"))
    assert code == 1
    assert err.startswith(f"Error: cannot write the manifest {tmp_path / 'missing' / 'm.json'}")

"""The transformed program cached on disk is the same program: same decisions, new key on change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pyclingo_bridge import KnowledgeBase, PolicyEngine, solver
from pyclingo_bridge.program_cache import CACHE_ENV, ProgramSource
from pyclingo_bridge.solver import GroundProgram

from .conftest import patient


def test_a_cached_program_decides_as_the_fresh_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: PolicyEngine
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    kb_copy = tmp_path / "kb"
    shutil.copytree(engine.kb.root, kb_copy)
    # A comment changes the key, so neither the process nor the disk has this program yet.
    rules = kb_copy / "policies" / "cmicb_clin086" / "rules.lp"
    rules.write_text(rules.read_text() + "\n% cache test\n")
    fresh = PolicyEngine("CMICB_Clin086", KnowledgeBase(kb_copy))
    source = ProgramSource(fresh.files, explain=True)
    assert (tmp_path / f"{source.key}.lp").is_file()
    assert source.statements() and source.from_cache
    solver._STATEMENTS.clear()  # force the next engine to read the disk copy
    cached = PolicyEngine("CMICB_Clin086", KnowledgeBase(kb_copy))
    for facts in [patient(), patient(setting="primary_care"), {}, patient(red_flags=["cauda_equina"])]:
        assert cached.decide(facts) == fresh.decide(facts)


def test_key_changes_with_the_knowledge_base(tmp_path: Path, engine: PolicyEngine) -> None:
    shutil.copytree(engine.kb.root, tmp_path / "kb")
    files = KnowledgeBase(tmp_path / "kb").program_files("CMICB_Clin086")
    before = ProgramSource(files, explain=True).key
    files[-1].write_text(files[-1].read_text() + "\n")
    assert ProgramSource(files, explain=True).key != before
    assert ProgramSource(files, explain=False).key != ProgramSource(files, explain=True).key


def test_unwritable_cache_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, engine: PolicyEngine) -> None:
    """A cache folder that cannot be made costs time, never an answer: the program is built
    in memory, is the program a working cache gives, and nothing is written."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    solver._STATEMENTS.clear()  # build it now, not from this process's memory
    program = GroundProgram(engine.files, explain=False)
    assert list(tmp_path.iterdir()) == [blocker] and blocker.read_text() == "not a folder"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    solver._STATEMENTS.clear()
    cached = GroundProgram(engine.files, explain=False)
    assert (tmp_path / "cache").is_dir()
    assert _atoms(program) == _atoms(cached)
    assert len(program.facts("fact", 4)) == len(engine.vocabulary.specs)


def _atoms(program: GroundProgram) -> list[tuple[str, bool, bool]]:
    """Every atom of a grounding, with whether it is a fact and whether it is an external."""
    return sorted((str(atom.symbol), atom.is_fact, atom.is_external) for atom in program._control.symbolic_atoms)


def test_a_pruned_grounding_is_read_back_from_disk_and_decides_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: PolicyEngine
) -> None:
    """Pruning walks the AST (about 0.1 s): a later process reads the pruned text instead."""
    from pyclingo_bridge.engine import DECISION_ATOMS
    from pyclingo_bridge.inputs import InputLiterals, input_keys
    from pyclingo_bridge.program_cache import PrunedSource

    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    first = InputLiterals(GroundProgram(engine.files, shown=DECISION_ATOMS, prune=True))
    pruned = PrunedSource(ProgramSource(engine.files, explain=True), DECISION_ATOMS)
    assert pruned.cached() is not None and pruned.from_cache
    again = InputLiterals(GroundProgram(engine.files, shown=DECISION_ATOMS, prune=True))
    for facts in [patient(), patient(setting="primary_care"), {}, patient(red_flags=["cauda_equina"])]:
        given = input_keys(engine.vocabulary.validate(facts), engine.vocabulary)
        assert sorted(map(str, again.program.consequences(again.assumptions(given), "cautious") or [])) == sorted(
            map(str, first.program.consequences(first.assumptions(given), "cautious") or [])
        )

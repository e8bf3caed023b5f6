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


def test_a_grounding_from_its_cached_text_is_the_grounding_from_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: PolicyEngine
) -> None:
    """The engine's trace grounding, handed to clingo as cached text, has the atoms, facts and
    externals of the grounding from the files, and the same consequences."""
    from pyclingo_bridge.engine import REPRESENTATIVE_INTEGERS, TRACE_ATOMS
    from pyclingo_bridge.inputs import InputLiterals, input_keys
    from pyclingo_bridge.program_cache import GroundingText

    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    solver._STATEMENTS.clear()
    text = GroundingText(ProgramSource(engine.files, explain=True), TRACE_ATOMS)
    assert text.text() is None
    fresh = GroundProgram(engine.files, REPRESENTATIVE_INTEGERS, shown=TRACE_ATOMS)
    assert text.text() is not None  # kept for the next process
    cached = GroundProgram(engine.files, REPRESENTATIVE_INTEGERS, shown=TRACE_ATOMS)
    assert _atoms(cached) == _atoms(fresh)
    first, again = InputLiterals(fresh, engine.interval_starts), InputLiterals(cached, engine.interval_starts)
    for facts in [patient(), patient(setting="primary_care"), {}, patient(red_flags=["cauda_equina"])]:
        given = input_keys(engine.vocabulary.validate(facts), engine.vocabulary)
        assert again.program.consequences(again.assumptions(given), "cautious") == first.program.consequences(
            first.assumptions(given), "cautious"
        )


def test_a_cached_text_that_does_not_ground_is_ground_from_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: PolicyEngine
) -> None:
    """A damaged cache file costs time, never an answer: the files are ground instead."""
    from pyclingo_bridge.engine import REPRESENTATIVE_INTEGERS, TRACE_ATOMS
    from pyclingo_bridge.program_cache import GroundingText

    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    expected = _atoms(GroundProgram(engine.files, REPRESENTATIVE_INTEGERS, shown=TRACE_ATOMS))
    text = GroundingText(ProgramSource(engine.files, explain=True), TRACE_ATOMS)
    (tmp_path / f"{text.key}.lp").write_text("status(X) :- not .")  # does not parse
    assert _atoms(GroundProgram(engine.files, REPRESENTATIVE_INTEGERS, shown=TRACE_ATOMS)) == expected


def test_the_kb_readings_are_kept_and_a_changed_file_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The facts read without grounding (a version's metadata, the modules a policy uses) are
    kept beside the program cache, keyed by the files' contents: any change of a file, even
    one keeping its size and time, is read anew."""
    import json
    import os

    from pyclingo_bridge import knowledge_base
    from pyclingo_bridge.knowledge_base import facts_in, installed_kb_root
    from pyclingo_bridge.program_cache import reading_key

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    shutil.copytree(installed_kb_root(), tmp_path / "kb")
    files = tuple(sorted((tmp_path / "kb" / "policies" / "cmicb_clin086").glob("*.lp")))
    metadata = next(path for path in files if 'metadata(version, "1")' in path.read_text())
    key = reading_key("facts metadata", files, Path(knowledge_base.__file__))
    read = [list(map(str, arguments)) for arguments in facts_in(files, "metadata")]
    assert ["version", '"1"'] in read
    kept = tmp_path / "cache" / f"{key}.json"
    assert json.loads(kept.read_text()) == read
    # A later read takes the kept copy (here one planted to tell it from the files)...
    kept.write_text(json.dumps([*read, ["planted", '"x"']]))
    assert [list(map(str, arguments)) for arguments in facts_in(files, "metadata")] == [*read, ["planted", '"x"']]
    # ...until a file changes, even keeping its size and modification time.
    text, stat = metadata.read_text(), metadata.stat()
    metadata.write_text(text.replace('metadata(version, "1")', 'metadata(version, "7")'))
    os.utime(metadata, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert metadata.stat().st_size == stat.st_size
    changed = [list(map(str, arguments)) for arguments in facts_in(files, "metadata")]
    assert ["version", '"7"'] in changed and ["version", '"1"'] not in changed and ["planted", '"x"'] not in changed


def test_a_foreign_kb_reading_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept reading that is not the JSON it should be is read from the files again."""
    from pyclingo_bridge import knowledge_base
    from pyclingo_bridge.knowledge_base import facts_in, installed_kb_root
    from pyclingo_bridge.program_cache import reading_key

    files = tuple(sorted((installed_kb_root() / "policies" / "cmicb_clin086").glob("*.lp")))
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "fresh"))
    expected = [list(map(str, arguments)) for arguments in facts_in(files, "metadata")]
    key = reading_key("facts metadata", files, Path(knowledge_base.__file__))
    for foreign in ["not json", '{"a": 1}', "[[1, 2]]", '[["status(", "x"]]']:
        (tmp_path / "foreign").mkdir(exist_ok=True)
        (tmp_path / "foreign" / f"{key}.json").write_text(foreign)
        monkeypatch.setenv(CACHE_ENV, str(tmp_path / "foreign"))
        assert [list(map(str, arguments)) for arguments in facts_in(files, "metadata")] == expected, foreign


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_a_kb_file_that_cannot_be_read_is_one_error_naming_it(tmp_path: Path, output_format: str) -> None:
    """Reading the KB's files for the cache keys (a folder named like a program here) is one
    message naming the file, exit 1, never a traceback."""
    import json

    from click.testing import CliRunner

    from pyclingo_bridge.cli import main
    from pyclingo_bridge.knowledge_base import installed_kb_root

    shutil.copytree(installed_kb_root(), tmp_path / "kb")
    odd = tmp_path / "kb" / "policies" / "cmicb_clin086" / "extra.lp"
    odd.mkdir()
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(patient()))
    result = CliRunner().invoke(
        main, ["query", "--policy", "CMICB_Clin086", "--kb", str(tmp_path / "kb"), str(facts), "--format", output_format]
    )
    message = f"cannot read {odd}: Is a directory"
    assert result.exit_code == 1
    if output_format == "json":  # on standard output, where the reader of the answer looks
        assert json.loads(result.stdout) == {"error": message, "fields": []}
    else:
        assert (result.stdout, result.stderr) == ("", f"Error: {message}\n")

"""The answer table: bounded by memory, saved per KB for the next run, a bad file ignored."""

from __future__ import annotations

import io
import json
from collections.abc import Hashable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge import table
from pyclingo_bridge.audit import AuditSettings, audit

from .conftest import COMPLETE_ADULT

POLICY = "CMICB_Clin086"
ROWS = [COMPLETE_ADULT, {**COMPLETE_ADULT, "setting": "primary_care"}, {"age": 30}, {"age": 12, "setting": "mcas"}]
TEXT = "".join(json.dumps({"id": f"r{n}", **row}) + "\n" for n, row in enumerate(ROWS))


def _audit() -> tuple[str, int]:
    out = io.StringIO()
    tally = audit(io.StringIO(TEXT), AuditSettings(POLICY, saved_table=True), out.write, jobs=1)
    return out.getvalue(), tally.solved


def _saved(folder: Path) -> list[Path]:
    return sorted(folder.glob("table-audit-*.json"))


def test_the_next_run_starts_warm_with_the_same_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(table.TABLE_ENV, str(tmp_path))
    first, solved = _audit()
    assert solved == 4 and len(_saved(tmp_path)) == 1
    again, solved_again = _audit()
    assert (again, solved_again) == (first, 0)


ANSWER = '["answer", "b", "commissioned", [], [], false]'


@pytest.mark.parametrize(
    "content",
    ["", "{not json", "[]", '{"format": 2, "key": "someone else", "outcomes": [], "keys": [], "outcome_of": []}',
     '{"format": 2, "key": "KEY", "outcomes": [' + ANSWER + '], "keys": [1], "outcome_of": [7]}',
     '{"format": 2, "key": "KEY", "outcomes": [' + ANSWER + '], "keys": [1], "outcome_of": [-1]}',
     '{"format": 2, "key": "KEY", "outcomes": [' + ANSWER + '], "keys": [{"a": 1}], "outcome_of": [0]}',
     '{"format": 2, "key": "KEY", "outcomes": [' + ANSWER + '], "keys": [1, 2], "outcome_of": [0]}',
     '{"format": 2, "key": "KEY", "outcomes": [' + ANSWER + '], "keys": [1], "outcome_of": [true]}',
     '{"format": 2, "key": "KEY", "outcomes": [["answer", "b", "commissioned", [], 3]], "keys": [1], "outcome_of": [0]}',
     '{"format": 2, "key": "KEY", "outcomes": [["refused", [["age", 3]]]], "keys": [1], "outcome_of": [0]}',
     '{"format": 2, "key": "KEY", "outcomes": [["refused", []]], "keys": [1], "outcome_of": [0]}',
     '{"format": 1, "key": "KEY", "answers": [], "rows": []}'],
    ids=["empty", "corrupt", "not an object", "foreign", "no such answer", "negative index", "bad key", "keys without outcome",
         "index not a number", "bad answer", "bad refusal", "refusal without a problem", "older format"],
)
def test_a_corrupt_or_foreign_file_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str) -> None:
    monkeypatch.setenv(table.TABLE_ENV, str(tmp_path))
    expected, _ = _audit()
    (path,) = _saved(tmp_path)
    key = json.loads(path.read_text())["key"]
    path.write_text(content.replace("KEY", key))
    assert _audit() == (expected, 4)


def test_the_table_is_bounded_by_bytes_and_drops_the_oldest() -> None:
    answers: table.AnswerTable[str] = table.AnswerTable(10, budget=160)
    for number in range(50):
        answers.put(number, "x" * 10)
    # 16 entries at most: at the 17th the oldest three go (the one over, and an eighth of
    # the limit), leaving 14; so the 50th put (49) leaves 36 to 49.
    assert len(answers) == 14 and answers.held == 140
    assert answers.get(49) == "x" * 10 and answers.get(36) == "x" * 10
    assert 35 not in answers and answers.get(0) is None
    answers.put(50, "y")
    assert len(answers) == 15 and 36 in answers and answers.get(50) == "y"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=200), st.integers(1, 24), st.booleans())
def test_the_table_is_a_queue_within_its_limit(keys: list[int], limit: int, at_once: bool) -> None:
    """Whatever is put, one key at a time or a saved table at once, the table holds what a
    plain queue of entries would: a new key joins at the back, a key held keeps its place
    (its first answer, or a saved table's last), and past the limit the oldest leave from
    the front down to seven eighths of it. Never more than the limit, the newest always kept."""
    answers: table.AnswerTable[int] = table.AnswerTable(1, budget=limit)
    queue: list[tuple[int, int]] = []

    def over() -> None:
        if len(queue) > limit:
            del queue[: len(queue) - limit + limit // 8]

    if at_once:
        answers.put_all(keys, range(len(keys)))
        last = {key: number for number, key in enumerate(keys)}
        queue = [(key, last[key]) for key in dict.fromkeys(keys)]
        over()
    else:
        for number, key in enumerate(keys):
            answers.put(key, number)
            if key not in dict(queue):
                queue.append((key, number))
                over()
    assert len(answers) == len(queue) <= limit
    assert all(answers.get(key) == number for key, number in queue)
    assert not keys or keys[-1] in answers or at_once


def test_refused_classes_are_saved_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Facts the KB refuses as contradictory are refused by the next run without a solve,
    with the same error line."""
    monkeypatch.setenv(table.TABLE_ENV, str(tmp_path))
    contradictory = {**COMPLETE_ADULT, "mcas_in_place": False, "seen_by_mcas": True}
    text = json.dumps({"id": "c1", **contradictory}) + "\n"

    def run() -> tuple[str, int]:
        out = io.StringIO()
        tally = audit(io.StringIO(text), AuditSettings(POLICY, saved_table=True), out.write, jobs=1)
        return out.getvalue(), tally.solved

    first, solved = run()
    assert '"error"' in first and solved == 1
    assert run() == (first, 0)


def test_a_table_saved_for_a_newer_kb_replaces_the_older_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each KB or package saves its tables under its own key; the older key's file of the same
    policy version would never be read again, so saving removes it (other kinds stay)."""
    monkeypatch.setenv(table.TABLE_ENV, str(tmp_path))
    kind = table.table_kind("audit", POLICY, "1")
    other = table.table_kind("audit", "DRAFT_EBI_Tonsillectomy", "1")
    table.save("a" * 64, kind, [], [], [])
    table.save("c" * 64, other, [], [], [])
    assert table.table_path("a" * 64, kind).exists()
    table.save("b" * 64, kind, [], [], [])
    assert not table.table_path("a" * 64, kind).exists()
    assert table.table_path("b" * 64, kind).exists() and table.table_path("c" * 64, other).exists()


def test_a_class_code_beyond_64_bits_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large vocabulary's class codes outgrow 64 bits, which orjson does not read: such a
    table is read by the standard decoder, with every key as it was saved."""
    monkeypatch.setenv(table.TABLE_ENV, str(tmp_path))
    kind = table.table_kind("audit", POLICY, "1")
    keys: list[Hashable] = [2**70 + 1, 3]
    table.save("b" * 64, kind, [["answer"]], keys, [0, 0])
    assert table.load("b" * 64, kind) == ([["answer"]], keys, [0, 0])

"""``policykb ask``: the interview, through a pseudo-terminal (the real console script's I/O) and CliRunner."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pyclingo_bridge.cli import main
from pyclingo_bridge.engine import engine_for
from pyclingo_bridge.interview import AnswerError, Interview, read_answer
from pyclingo_bridge.render import render_text

ROOT = Path(__file__).resolve().parent.parent
ENGINE = engine_for("cmicb_clin086")
SPECS = ENGINE.vocabulary.specs
PROMPT = "blank if unknown): "
QUESTIONS = {spec.question: key for key, spec in SPECS.items() if spec.question}
TIMEOUT = 20.0


class Terminal:
    """``policykb ask`` on a pseudo-terminal: read until some text appears, type a line."""

    def __init__(self, *args: str) -> None:
        master, slave = pty.openpty()
        self.process = subprocess.Popen([sys.executable, "-m", "pyclingo_bridge", "ask", "--policy", "cmicb_clin086", *args],
                                        stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, close_fds=True)
        os.close(slave)
        self.fd = master
        self.text = ""

    def read_until(self, *marks: str) -> str:
        """Output up to the first of ``marks`` (or the end), within TIMEOUT."""
        deadline = time.monotonic() + TIMEOUT
        while not any(mark in self.text for mark in marks):
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, f"timed out waiting for {marks}; got {self.text!r}"
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:  # the other end closed: the process ended
                chunk = b""
            if not chunk:
                break
            self.text += chunk.decode().replace("\r\n", "\n")
        found = min((self.text.index(m) + len(m) for m in marks if m in self.text), default=len(self.text))
        shown, self.text = self.text[:found], self.text[found:]
        return shown

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\n")

    def finish(self) -> tuple[int, str]:
        rest = self.read_until("\0never\0")
        code = self.process.wait(timeout=TIMEOUT)
        os.close(self.fd)
        return code, rest


def answer_text(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return str(value).replace("_", " ")


TRUTH = {"age": 40, "setting": "secondary_care", "sciatica": True, "red_flags": [],
         "likely_to_change_management": True, "mcas_in_place": True, "seen_by_mcas": True}


def test_the_interview_asks_what_can_change_the_outcome_then_decides() -> None:
    terminal = Terminal()
    asked: list[str] = []
    while True:
        shown = terminal.read_until(PROMPT, "Status: ")
        if "Status: " in shown:
            break
        [key] = [key for question, key in QUESTIONS.items() if question in shown]
        assert key not in asked
        facts = {k: TRUTH[k] for k in asked}
        assert key in {m.fact for m in ENGINE.decide(facts).missing}, f"{key} asked but cannot change the outcome"
        asked.append(key)
        terminal.type(answer_text(key, TRUTH[key]))
    code, rest = terminal.finish()
    expected = render_text(ENGINE.decide({k: TRUTH[k] for k in asked}), ENGINE.policy.title)
    assert code == 0
    assert "Status: " + rest == expected[expected.index("Status: "):]
    assert ENGINE.decide(TRUTH).status == ENGINE.decide({k: TRUTH[k] for k in asked}).status
    assert "sciatica" not in asked  # it decides nothing (1.2, 1.3: with or without sciatica)


def test_facts_given_that_decide_show_the_decision_at_once(tmp_path: Path) -> None:
    facts = {"age": 12}
    (tmp_path / "facts.json").write_text(json.dumps(facts))
    terminal = Terminal(str(tmp_path / "facts.json"))
    code, rest = terminal.finish()
    assert (code, rest) == (0, "\n" + render_text(ENGINE.decide(facts), ENGINE.policy.title))


def test_a_bad_answer_is_asked_again_saying_what_is_allowed() -> None:
    terminal = Terminal()
    terminal.read_until(PROMPT)
    terminal.type("forty")
    again = terminal.read_until(PROMPT)
    assert again.startswith("forty\nError: 'forty': expected an integer from 0 to 130")
    assert again.endswith("Answer (an integer from 0 to 130; blank if unknown): ")
    terminal.type("12")
    code, rest = terminal.finish()
    assert code == 0 and "Status: " in rest


def test_end_of_input_aborts_cleanly() -> None:
    terminal = Terminal()
    terminal.read_until(PROMPT)
    os.write(terminal.fd, b"\x04")  # Ctrl-D
    code, rest = terminal.finish()
    assert code == 1 and rest.strip() == "Aborted!"


def test_unknown_answers_end_undetermined_with_what_is_missing() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["ask", "--policy", "cmicb_clin086"], input="\n" * 20)
    assert result.exit_code == 0
    expected = render_text(ENGINE.decide({}), ENGINE.policy.title)
    assert result.output.endswith("\n" + expected)
    # Each question that could matter asked once, none again after "unknown".
    asked = [key for question, key in QUESTIONS.items() if question in result.output.split("Status: ")[0]]
    assert sorted(asked) == sorted(m.fact for m in ENGINE.decide({}).missing)


def test_bad_facts_in_the_file_are_one_error(tmp_path: Path) -> None:
    (tmp_path / "facts.json").write_text('{"age": "forty"}')
    result = CliRunner().invoke(main, ["ask", "--policy", "cmicb_clin086", str(tmp_path / "facts.json")])
    assert result.exit_code == 1
    assert result.output == ("Error: invalid input: age: 'forty' is not allowed; expected an integer from 0 to 130 "
                             "(or null / leave it out when unknown)\n")


@pytest.mark.parametrize(("key", "text", "value"), [
    ("age", " 40 ", 40), ("sciatica", "Yes", True), ("sciatica", "n", False),
    ("setting", "2", "mcas"), ("setting", "Secondary care", "secondary_care"),
    ("red_flags", "1, cauda equina", frozenset({"suspected_infection", "cauda_equina"})),
    ("red_flags", "none", frozenset()),
], ids=["integer", "yes", "no", "choice-by-number", "choice-by-name", "list", "list-none"])
def test_answers_are_read_by_type(key: str, text: str, value: Any) -> None:
    assert read_answer(ENGINE, key, text) == value


@pytest.mark.parametrize(("key", "text", "message"), [
    ("age", "131", "131 is not allowed; expected an integer from 0 to 130"),
    ("sciatica", "maybe", "'maybe': expected yes or no"),
    ("setting", "4", "'4': expected a number from 1 to 3 or one of primary_care, mcas, secondary_care"),
], ids=["out-of-range", "not-yes-or-no", "no-such-choice"])
def test_a_bad_answer_says_what_is_allowed(key: str, text: str, message: str) -> None:
    with pytest.raises(AnswerError, match="^" + message.replace("(", r"\(")):
        read_answer(ENGINE, key, text)


def test_an_unknown_answer_is_not_asked_again() -> None:
    interview = Interview.starting_from(ENGINE, {})
    first = interview.next_question(interview.decision())
    assert first is not None
    interview.answer(first.key, None)
    second = interview.next_question(interview.decision())
    assert second is not None and second.key != first.key

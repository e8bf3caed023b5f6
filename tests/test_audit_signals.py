"""An interrupted or cut-off audit: real process, real signals (issue 10 §2).

Each run reads an endless extract from a pipe (a thread keeps feeding it), so the run is
always mid-way when the signal comes: it can end only because of the signal. Every run
is its own process group, as a shell job is; Ctrl-C is SIGINT to that group.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from pyclingo_bridge.audit.run import CHUNK_SIZE

ROOT = Path(__file__).resolve().parent.parent
STOP_WITHIN = 2.0  # seconds, from the signal to the exit of the last process
JOBS = [1, 2, 4, 8]


def _rows() -> bytes:
    """Varied rows, some of them bad."""
    rng = random.Random(10)
    settings = ["mcas", "primary_care", "secondary_care", "nowhere"]
    rows = (
        {"id": f"p{n}", "age": rng.randint(10, 120), "setting": rng.choice(settings), "sciatica": rng.random() < 0.5}
        for n in range(3000)
    )
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


ROWS = _rows()


def _group(pgid: int) -> list[int]:
    """The processes still in the process group ``pgid`` (zombies included), from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                members.append(int(entry))
    return members


class Run:
    """``policykb audit - --jobs N`` in a process group of its own, fed without end."""

    def __init__(self, jobs: int, stdout: int | IO[Any]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pyclingo_bridge", "audit", "--policy", "CMICB_Clin086", "-", "--jobs", str(jobs)],
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            start_new_session=True,
        )
        self.pgid = self.process.pid
        threading.Thread(target=self._feed, daemon=True).start()

    def _feed(self) -> None:
        assert self.process.stdin is not None
        try:
            while True:
                self.process.stdin.write(ROWS)
        except (OSError, ValueError):  # the audit has gone
            pass

    def wait(self, timeout: float) -> tuple[int | None, float, list[int]]:
        """Exit code (None: still running), seconds waited, and the group's processes left."""
        started = time.monotonic()
        try:
            code: int | None = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        return code, time.monotonic() - started, _group(self.pgid)

    def stderr(self) -> str:
        self.kill()  # nothing may hold the pipe open any more (an orphan would, for ever)
        assert self.process.stderr is not None
        return self.process.stderr.read().decode()

    def kill(self) -> None:
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


def _lines_written(path: Path) -> int:
    with path.open("rb") as output:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: output.read(1 << 20), b""))


def _wait_mid_run(run: Run, output: Path, jobs: int) -> None:
    """Until two chunks are written (so that workers decide, when there are any)."""
    deadline = time.monotonic() + 60
    while _lines_written(output) < 2 * CHUNK_SIZE:
        assert run.process.poll() is None, run.stderr()
        assert time.monotonic() < deadline, "the audit wrote nothing in 60 s"
        time.sleep(0.05)
    if jobs > 1:
        assert len(_group(run.pgid)) == jobs + 1  # the parent and its workers are running


STOPS = [
    pytest.param(signal.SIGINT, True, 130, id="ctrl-c-to-the-group"),
    pytest.param(signal.SIGTERM, False, 143, id="sigterm-to-the-parent"),
]


@pytest.mark.parametrize("jobs", JOBS, ids=[f"jobs{n}" for n in JOBS])
@pytest.mark.parametrize(("signum", "to_group", "exit_code"), STOPS)
def test_a_signal_stops_the_run_at_once_with_a_valid_prefix(
    tmp_path: Path, jobs: int, signum: signal.Signals, to_group: bool, exit_code: int
) -> None:
    output = tmp_path / "out.jsonl"
    with output.open("wb") as stdout:
        run = Run(jobs, stdout)
    try:
        _wait_mid_run(run, output, jobs)
        (os.killpg if to_group else os.kill)(run.pgid, signum)
        code, seconds, left = run.wait(STOP_WITHIN + 8)
    finally:
        stderr = run.stderr()
    assert code == exit_code, stderr
    assert seconds < STOP_WITHIN
    assert left == []  # no worker outlives the run
    text = output.read_text(encoding="utf-8")
    assert text.endswith("\n")
    rows = [json.loads(line)["row"] for line in text.split("\n")[:-1]]
    assert rows == list(range(1, len(rows) + 1))  # whole lines, in input order, none missing
    assert len(rows) % CHUNK_SIZE == 0 and len(rows) >= 2 * CHUNK_SIZE
    assert stderr == (
        f"interrupted ({signum.name}): {len(rows):,} rows written to standard output, whole lines in input"
        " order; the rest of the extract was not decided\n"
    )


@pytest.mark.parametrize("jobs", [1, 4], ids=["jobs1", "jobs4"])
def test_a_closed_stdout_ends_the_run_at_once_and_quietly(jobs: int) -> None:
    run = Run(jobs, subprocess.PIPE)
    try:
        assert run.process.stdout is not None
        first = json.loads(run.process.stdout.readline())  # as `| head -1` reads
        run.process.stdout.close()
        code, seconds, left = run.wait(STOP_WITHIN + 8)
    finally:
        stderr = run.stderr()
    assert first["row"] == 1
    assert (code, stderr) == (141, "")
    assert seconds < STOP_WITHIN
    assert left == []


def test_workers_end_with_a_parent_killed_outright(tmp_path: Path) -> None:
    """SIGKILL (or the out-of-memory killer) leaves the parent no clean-up: the kernel ends the workers."""
    output = tmp_path / "out.jsonl"
    with output.open("wb") as stdout:
        run = Run(4, stdout)
    try:
        _wait_mid_run(run, output, 4)
        os.kill(run.pgid, signal.SIGKILL)
        code, _, _ = run.wait(STOP_WITHIN + 8)
        deadline = time.monotonic() + STOP_WITHIN
        while _group(run.pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = _group(run.pgid)
    finally:
        run.stderr()
    assert code == -signal.SIGKILL
    assert left == []

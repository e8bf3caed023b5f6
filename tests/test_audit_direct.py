"""Workers that read and write the extract themselves (``audit``'s ``direct_input`` and
``direct_output``, which ``policykb audit`` gives for a file read and a file or pipe
written): the same rows, numbered the same, and the same output, byte for byte, as the
parent reading the text stream and writing every line.

Real processes and real file descriptors, since that is where the workers read and write.
"""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge import InputError, PolicyEngine
from pyclingo_bridge.audit import AuditSettings, audit, reader
from pyclingo_bridge.audit.reader import open_source

ROOT = Path(__file__).resolve().parent.parent
POLICY = "CMICB_Clin086"
PIECES = [b"a", b"{}", b" ", b"\n", b"\r\n", b"\r", b"\xef\xbb\xbf", b"\xff", b"\xff\xfe", b"\x00", "\u00e9".encode(), "\u2028".encode()]
"""Bytes whose lines are hard to cut: every line end universal newlines know, byte-order
marks (UTF-8: only the first is dropped; UTF-16: the extract is refused), NULs (UTF-16
without a mark), bytes that are not UTF-8, and text that is."""


def _rows(stream: io.TextIOBase | io.TextIOWrapper, engine: PolicyEngine, size: int, spans: bool) -> list[tuple[int, object]] | str:
    """The numbered rows, or the error that refuses the whole extract (read while ``stream`` is open)."""
    try:
        chunks = list(open_source(stream, "jsonl", engine.vocabulary, size, spans=spans).chunks)  # type: ignore[arg-type]
    except InputError as error:
        return str(error)
    assert all(type(chunk) is (reader.Span if spans else reader.Lines) for chunk in chunks)
    return [row for chunk in chunks for row in chunk]


@settings(max_examples=300, deadline=None)
@given(
    body=st.lists(st.sampled_from(PIECES), max_size=60).map(b"".join),
    size=st.sampled_from([1, 2, 3, 7, 2000]),
    read=st.sampled_from([3, 4, 5, 8, 64, 1 << 20]),
)
def test_spans_read_the_rows_the_text_stream_reads(
    engine: PolicyEngine, tmp_path_factory: pytest.TempPathFactory, body: bytes, size: int, read: int
) -> None:
    path = tmp_path_factory.mktemp("spans") / "extract.jsonl"
    path.write_bytes(body)
    with path.open(encoding="utf-8-sig", errors="surrogateescape") as stream:  # as the CLI opens it
        expected = _rows(stream, engine, size, spans=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader, "SPAN_READ", read)
        with path.open(encoding="utf-8-sig", errors="surrogateescape") as stream:
            assert _rows(stream, engine, size, spans=True) == expected


def test_a_stream_that_is_no_regular_file_is_read_as_text(engine: PolicyEngine) -> None:
    source = open_source(io.StringIO('{"age": 40}\n'), "jsonl", engine.vocabulary, 10, spans=True)
    assert [type(chunk) for chunk in source.chunks] == [reader.Lines]


def _extract(rows: int) -> bytes:
    """An extract of several chunks with every kind of line: CRLF and LF ends, blank lines,
    a byte-order mark, bytes that are not UTF-8, malformed rows, and varied facts."""
    lines = []
    for n in range(rows):
        row = {"id": f"p{n}", "age": n % 90, "setting": ["primary_care", "mcas", "secondary_care"][n % 3]}
        if n % 4:
            row["red_flags"] = [] if n % 8 else ["cauda_equina"]
        text = json.dumps(row).encode()
        if n % 97 == 5:
            text = b'{"id": "bad\xff", "age": 40}'
        if n % 89 == 7:
            text = b'{"age": '
        lines.append(text + (b"\r\n" if n % 2 else b"\n") + (b"\n" if n % 50 == 3 else b""))
    return b"\xef\xbb\xbf" + b"".join(lines)


def _policykb(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "pyclingo_bridge", *args], capture_output=True, cwd=ROOT, timeout=120, check=False
    )


def test_workers_reading_and_writing_the_files_give_the_parents_output(tmp_path: Path) -> None:
    extract = tmp_path / "extract.jsonl"
    extract.write_bytes(_extract(7000))  # four chunks: the workers decide
    out = io.StringIO()
    text = extract.read_bytes().decode("utf-8-sig", "surrogateescape")
    audit(io.StringIO(text, newline=None), AuditSettings(POLICY), out.write, jobs=1)
    expected = out.getvalue().encode("utf-8")
    written = tmp_path / "out.jsonl"
    done = _policykb(["audit", "--policy", POLICY, str(extract), "-o", str(written), "--jobs", "2"])
    assert done.returncode == 1 and b"Traceback" not in done.stderr  # the bad rows
    assert written.read_bytes() == expected
    piped = _policykb(["audit", "--policy", POLICY, str(extract), "--jobs", "2"])
    assert piped.stdout == expected


def test_a_worker_that_cannot_write_ends_the_run_with_one_message(tmp_path: Path) -> None:
    extract = tmp_path / "extract.jsonl"
    extract.write_bytes(_extract(7000))
    done = _policykb(["audit", "--policy", POLICY, str(extract), "-o", "/dev/full", "--jobs", "2"])
    assert (done.returncode, done.stdout, done.stderr) == (1, b"", b"Error: cannot write /dev/full: No space left on device\n")


def test_workers_whose_reader_went_away_end_the_run_quietly(tmp_path: Path) -> None:
    extract = tmp_path / "extract.jsonl"
    extract.write_bytes(_extract(7000))
    process = subprocess.Popen(
        [sys.executable, "-m", "pyclingo_bridge", "audit", "--policy", POLICY, str(extract), "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # the run is under way
    process.stdout.close()
    _, stderr = process.communicate(timeout=60)
    assert first.startswith(b'{"row": 1,')
    assert (process.returncode, stderr) == (141, b"")


def test_a_long_line_and_lines_ending_in_a_lone_cr_are_cut_whole(engine: PolicyEngine, tmp_path: Path) -> None:
    path = tmp_path / "extract.jsonl"
    long_row = json.dumps({"id": "x" * 3000, "age": 40}).encode()
    path.write_bytes(b"\r".join(itertools.repeat(b'{"age": 40}', 50)) + b"\r" + long_row + b"\n" + b'{"age": 41}')
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader, "SPAN_READ", 64)
        with path.open(encoding="utf-8-sig", errors="surrogateescape") as stream:
            rows = _rows(stream, engine, 4, spans=True)
    assert [number for number, _ in rows] == list(range(1, 53))
    assert rows[50] == (51, long_row.decode() + "\n") and rows[51] == (52, '{"age": 41}')

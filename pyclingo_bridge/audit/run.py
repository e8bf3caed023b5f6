"""Running an audit: chunks in, output lines out, in input order, on one or more cores.

The parent process reads the extract in chunks and writes the answers; workers parse and
decide whole chunks. For ``policykb audit`` reading a JSONL file, the parent only cuts it
into spans of lines that the workers read themselves, and the workers write their chunks'
lines to the output in turn, so that no row crosses a pipe either way. Deciding a new input is what costs, so the answers each worker decides
are passed on to the others, which then replay them as if they had decided them. At most a
few chunks are in flight at any time, so memory does not grow with the number of rows. A short extract (one chunk) is decided in the parent: starting workers
would cost more than it saves.

An interrupted run (:func:`stop_on_signals`: SIGINT, SIGTERM) or a failed write stops at
once: the workers are ended, none outlives the parent, and what was written is whole chunks,
so whole lines in input order (:class:`AuditInterrupted` says how many rows).
"""

from __future__ import annotations

import ctypes
import dataclasses
import gc
import itertools
import multiprocessing
import os
import queue
import signal
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, Protocol, Self, TextIO

from ..engine import engine_for
from .batch import CACHE_BUDGET, Auditor, ChunkResult
from .reader import Chunk, InputFormat, RowParser, open_source
from .summary import FOLLOW_UP_LIMIT, Tally

CHUNK_SIZE = 2_000
"""Rows per chunk: large enough to amortize hand-over between processes, small enough to stream."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals that end a run, with a valid prefix of its output."""
STOP_GRACE = 1.0
"""Seconds an ended worker has to exit before it is killed."""


class AuditInterrupted(BaseException):
    """A stop signal ended the run. A BaseException, like KeyboardInterrupt, so that no
    ``except Exception`` on the way turns it into an error row."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.rows = 0
        """Rows whose output lines were all handed to ``write`` before the stop."""

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # the shell's code for a process ended by this signal

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`AuditInterrupted` while the block runs (once:
    a second signal during the clean-up is ignored, so the clean-up finishes)."""
    stopped = False

    def handler(signum: int, frame: object) -> None:
        nonlocal stopped
        if _held:
            # Taken by another thread (a queue's feeder) while this one holds the signals:
            # Python still runs the handler here, so it is put off until the block ends.
            _deferred.append(signum)
            return
        if not stopped:
            stopped = True
            raise AuditInterrupted(signum)

    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@dataclass(frozen=True)
class AuditSettings:
    """What a worker needs to build its own Auditor (picklable)."""

    policy_id: str
    kb_root: Path | None = None
    explain: bool = False
    input_format: InputFormat = "jsonl"
    header: tuple[str, ...] | None = None
    cache_budget: int = CACHE_BUDGET
    saved_table: bool = False
    """Start from the answers earlier runs saved for this KB, and save them for the next
    (``policykb audit`` does; off by default so that a library caller's solves are its own)."""
    follow_up_limit: int = FOLLOW_UP_LIMIT
    version: str | None = None
    """The policy version every row is decided under (default: the one in force on ``as_of``)."""
    as_of: date | None = None
    """The date whose version in force decides when no version is named (default: today)."""

    def auditor(self) -> Auditor:
        engine = engine_for(self.policy_id, self.kb_root, self.version, as_of=self.as_of)
        parser = RowParser(engine.vocabulary, self.input_format, self.header)
        return Auditor(engine, parser, self.explain, self.cache_budget, self.follow_up_limit)


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class DirectOutput(Protocol):
    """An output that worker processes may write to themselves (``audit``'s ``direct_output``)."""

    def fileno(self) -> int:
        """The file descriptor the output's UTF-8 bytes go to; nothing may be buffered
        in front of it while the audit runs."""

    def failed(self, error: OSError) -> NoReturn:
        """End the run for a write to it that failed."""


class OutputFailed(Exception):
    """A worker could not write its chunk to the direct output (picklable: handed to the parent)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error


def audit(
    stream: TextIO,
    settings: AuditSettings,
    write: Callable[[str], object],
    jobs: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], object] | None = None,
    direct_output: DirectOutput | None = None,
    direct_input: bool = False,
) -> Tally:
    """Audit the extract in ``stream``: ``write`` receives the JSONL output in input order.

    Where workers are forked, they may also do this process's reading and writing (about
    400 bytes a row in, 480 out, each across a pipe, on the cores the workers need):
    - ``direct_output``: the output ``write`` writes to; the workers write their chunks to
      it themselves, in input order.
    - ``direct_input``: ``stream`` is a file opened as the CLI opens it (UTF-8, universal
      newlines) that nothing has read yet; when it is a regular file of JSONL, this process
      only cuts it into spans of lines, which the workers read.

    Returns the tally of the whole run. A CSV header naming an unknown column raises
    HeaderError before any row is read; every other bad row becomes an error line.
    """
    engine = engine_for(settings.policy_id, settings.kb_root, settings.version, as_of=settings.as_of)
    forked = "fork" in multiprocessing.get_all_start_methods()
    source = open_source(stream, settings.input_format, engine.vocabulary, chunk_size, spans=direct_input and forked)
    settings = dataclasses.replace(settings, input_format=source.format, header=source.header)
    total = Tally(limit=settings.follow_up_limit)
    written = _Written()
    try:
        with closing(decide_chunks(source.chunks, settings, jobs or default_jobs(), total.room_left, direct_output, written)) as results:
            for result in results:
                # A chunk is written whole or not at all: a stop signal waits for the write.
                with _signals_held():
                    if not result.written:
                        write(result.text)
                        written.rows += result.tally.rows
                    total.merge(result.tally)
                if progress is not None:
                    progress(result.tally.rows)
    except AuditInterrupted as stop:
        stop.rows = written.rows
        raise
    except OutputFailed as failure:
        assert direct_output is not None
        direct_output.failed(failure.error)
    return total


@dataclass
class _Written:
    """Rows whose output lines were all written, by this process or by the workers."""

    rows: int = 0


_held: list[bool] = []
"""Non-empty while a block holds the stop signals (``_signals_held``)."""
_deferred: list[int] = []
"""Stop signals that arrived through another thread while they were held."""


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back the stop signals while the block runs; they are delivered when it ends.
    The mask holds them for this thread only; one the kernel hands to another thread is put
    off by the handler and sent again here."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    _held.append(True)
    try:
        yield
    finally:
        _held.pop()
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        if _deferred and not _held:
            signum = _deferred[0]
            _deferred.clear()
            os.kill(os.getpid(), signum)


def decide_chunks(
    chunks: Iterator[Chunk],
    settings: AuditSettings,
    jobs: int,
    room: Callable[[], Mapping[str, int]] = dict,
    direct: DirectOutput | None = None,
    written: _Written | None = None,
) -> Generator[ChunkResult, None, None]:
    """Each chunk's result, in order: in this process, or on ``jobs`` workers when there is
    more than one chunk to share. ``room`` tells, as each chunk is handed out, how many
    follow-up rows of each kind are still wanted: no more are built than can be kept.
    With ``direct`` (on forked workers only), the workers write their chunks' lines there
    themselves, and count the rows in ``written``: their results come without text."""
    # Ground here even when workers decide: forked workers inherit the grounded programs.
    auditor = settings.auditor()
    if settings.saved_table:
        auditor.load_table()  # the answers of earlier runs: forked workers inherit them too
    first = list(itertools.islice(chunks, 2))
    chunks = itertools.chain(first, chunks)
    if jobs <= 1 or len(first) < 2:
        with _fewer_collections():
            for chunk in chunks:
                yield auditor.decide_chunk(chunk, room())
        if settings.saved_table:
            auditor.save_table()
        return
    if not auditor.loaded:
        # A run without a saved table solves from the start: ground once, for every worker.
        # A warm run seldom solves, and a worker that must grounds on first use.
        auditor.engine.prepare(settings.explain)
    with _Workers(auditor, settings, jobs, direct) as workers:
        try:
            for result in workers.decide(chunks, room):
                auditor.learn(result.learned)  # kept here to be saved for the next run
                yield result
        except BaseException:  # a stop, a failure, a closed generator: the workers end now
            if written is not None and workers.turn is not None:
                workers.end()  # every worker gone: what they wrote is final
                written.rows = workers.rows_written
            raise
        if written is not None and workers.turn is not None:
            written.rows = workers.rows_written  # every result is in: every chunk was written
    if settings.saved_table:
        auditor.save_table()


class _Workers:
    """Worker processes, one inbox each. Each chunk goes whole to the worker with the fewest
    chunks in hand. As soon as a worker has decided a chunk, it posts the answers it learned
    to the others, which read their post before each chunk: an input is decided twice only
    when two workers meet it at about the same time. Results come back in any order and are
    handed on in input order."""

    def __init__(self, auditor: Auditor, settings: AuditSettings, jobs: int, direct: DirectOutput | None = None) -> None:
        global _inherited
        # fork hands the workers this process's grounded programs and answers; elsewhere
        # each worker grounds its own.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        context: Any = multiprocessing.get_context(method)
        self.jobs = jobs
        self.window = 3 * jobs  # chunks in flight: every worker has the next one queued; bounds memory
        self.inboxes = [context.Queue() for _ in range(jobs)]
        self.results = context.Queue()
        self.in_hand = [0] * jobs
        post = [context.Queue() for _ in range(jobs)]
        # Workers that write the output themselves take turns: chunk n is written once
        # ``turn`` is n; rows_written counts the rows of the chunks written so far.
        self.turn: _Turn | None = None
        if direct is not None and method == "fork":
            self.turn = _Turn(direct.fileno(), context.Condition(), context.Value("q", 0, lock=False), context.Value("q", 0, lock=False))
        _inherited = auditor
        self.processes: list[Any] = []
        gc.freeze()  # the collector of a forked worker then leaves the inherited objects (and pages) alone
        try:
            # A stop signal waits until every worker has started: each starts with the
            # signals held and sets its own handling (_serve) before it takes them.
            with _signals_held():
                for number, inbox in enumerate(self.inboxes):
                    process = context.Process(
                        target=_serve, args=(settings, number, inbox, self.results, post, self.turn), daemon=True
                    )
                    process.start()
                    self.processes.append(process)
        except BaseException:
            self.end()
            raise
        finally:
            gc.unfreeze()
            _inherited = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is not None:  # interrupted, a failed write, a closed generator: stop now
            self.end()
            return
        for inbox in self.inboxes:
            inbox.put(None)
        for process in self.processes:
            process.join(timeout=5)
        self.end()

    @property
    def rows_written(self) -> int:
        """Rows the workers wrote to the direct output (whole chunks, in input order), read
        once they are all gone or idle: a worker ended while it held the turn's lock would
        keep it held."""
        assert self.turn is not None
        return int(self.turn.rows.value)

    def end(self) -> None:
        """End every worker still running, and wait for it: no process outlives the run."""
        for inbox in self.inboxes:
            # What is still queued for a worker is dropped: the parent's exit must not wait
            # to deliver it (multiprocessing's queue finaliser would, forever).
            inbox.cancel_join_thread()
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for process in self.processes:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()

    def decide(self, chunks: Iterator[Chunk], room: Callable[[], Mapping[str, int]]) -> Iterator[ChunkResult]:
        done: dict[int, ChunkResult] = {}
        sent = merged = 0
        for chunk in chunks:
            if sent - merged >= self.window:
                yield self._result(merged, done)
                merged += 1
            self._send(sent, chunk, room())
            sent += 1
        for number in range(merged, sent):
            yield self._result(number, done)

    def _result(self, number: int, done: dict[int, ChunkResult]) -> ChunkResult:
        """The result of chunk ``number``, receiving the others' meanwhile."""
        while number not in done:
            self._receive(done)
        return done.pop(number)

    def _send(self, number: int, chunk: Chunk, room: Mapping[str, int]) -> None:
        worker = min(range(self.jobs), key=self.in_hand.__getitem__)
        self.inboxes[worker].put((number, chunk, room))
        self.in_hand[worker] += 1

    def _receive(self, done: dict[int, ChunkResult]) -> None:
        while True:
            try:
                number, worker, result = self.results.get(timeout=1)
                break
            except queue.Empty:
                if not all(process.is_alive() for process in self.processes):
                    raise RuntimeError("an audit worker process died") from None
        if isinstance(result, BaseException):
            raise result
        self.in_hand[worker] -= 1
        done[number] = result


_inherited: Auditor | None = None


@dataclass(frozen=True)
class _Turn:
    """The direct output the workers write to in turn, and whose turn it is (under ``condition``)."""

    fd: int
    condition: Any
    chunk: Any
    """The number of the next chunk to be written."""
    rows: Any
    """Rows written so far."""

    def write(self, number: int, text: str, rows: int) -> None:
        """Write chunk ``number`` once every chunk before it is written; a stop signal waits
        until the chunk is whole (``_end_worker``)."""
        data = memoryview(text.encode("utf-8"))
        with self.condition:
            while self.chunk.value != number:
                self.condition.wait()
            _worker_writing.append(True)
            try:
                while data:
                    data = data[os.write(self.fd, data) :]
                self.chunk.value += 1
                self.rows.value += rows
                self.condition.notify_all()
            except OSError as error:
                raise OutputFailed(error) from None  # no later chunk is written: the parent ends the run
            finally:
                _worker_writing.pop()
                if _worker_ended:
                    os._exit(128 + _worker_ended[0])


_worker_writing: list[bool] = []
"""Non-empty while a worker writes a chunk to the direct output."""
_worker_ended: list[int] = []
"""The stop signal a worker received while it was writing."""


def _end_worker(signum: int, frame: object) -> None:
    """A worker's SIGTERM: end now, or once the chunk being written is whole."""
    if _worker_writing:
        _worker_ended.append(signum)
        return
    os._exit(128 + signum)


def _serve(
    settings: AuditSettings,
    worker: int,
    inbox: multiprocessing.Queue,  # type: ignore[type-arg]
    results: multiprocessing.Queue,  # type: ignore[type-arg]
    post: list[multiprocessing.Queue],  # type: ignore[type-arg]
    turn: _Turn | None = None,
) -> None:
    """A worker: decide each chunk it is sent until told to stop (None); before each chunk,
    learn what the other workers decided, after it, tell them, and write it in its turn
    (``turn``) or hand its text to the parent."""
    # Stopping is the parent's job: Ctrl-C reaches the whole process group, and a worker
    # that acted on it could die holding a queue's lock. SIGTERM (the parent's) ends it at
    # once, unless it is writing a chunk to the direct output (``_Turn``): then once that
    # chunk is whole. A handler, not the default action: the kernel may hand the signal to
    # any thread (a queue's feeder), which no signal mask of this one would hold back.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end_worker)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    _end_with_parent()
    auditor = _inherited or settings.auditor()  # spawned, not forked: nothing inherited
    gc.set_threshold(*COLLECT_AFTER)  # for the rest of this process's life: see _fewer_collections
    for box in [*post, results]:
        # At the end nobody may read these any more: exit without waiting for delivery.
        box.cancel_join_thread()
    while (task := inbox.get()) is not None:
        number, chunk, room = task
        try:
            _read_post(auditor, post[worker])
            result = auditor.decide_chunk(chunk, room)
            if result.learned:
                for other, box in enumerate(post):
                    if other != worker:
                        box.put(result.learned)
            if turn is not None:
                turn.write(number, result.text, result.tally.rows)
                result = dataclasses.replace(result, heads=[], tails=[], which=[], written=True)
            # The parent keeps the answers only to save them for the next run.
            results.put((number, worker, result if settings.saved_table else dataclasses.replace(result, learned=[])))
        except BaseException as error:  # noqa: BLE001 - handed to the parent, which raises it
            results.put((number, worker, error))


COLLECT_AFTER = (50_000, 20, 100)
"""The cyclic collector's thresholds while chunks are decided. A chunk allocates about ten
thousand containers that live until it is written; at the default (700) the collector ran a
pass every few dozen rows over them, a tenth of a warm row's time. Cycles are still
collected (a failed row's error holds its traceback), a few ten thousand allocations later."""


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the block with ``COLLECT_AFTER``, then the thresholds as they were."""
    before = gc.get_threshold()
    gc.set_threshold(*COLLECT_AFTER)
    try:
        yield
    finally:
        gc.set_threshold(*before)


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _end_with_parent() -> None:
    """Have the kernel send this worker SIGTERM when its parent dies, even of a SIGKILL (or the
    out-of-memory killer), which no clean-up in the parent can catch (Linux; elsewhere a no-op)."""
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux
        return
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # it died before the request was made
        os._exit(1)


def _read_post(auditor: Auditor, box: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Learn every answer waiting in ``box`` (what has not arrived yet waits for the next chunk)."""
    while True:
        try:
            auditor.learn(box.get_nowait())
        except queue.Empty:
            return

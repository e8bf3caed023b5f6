"""Running an audit: chunks in, output lines out, in input order, on one or more cores.

The parent process reads the extract in chunks and writes the answers; workers parse and
decide whole chunks. Deciding a new input is what costs, so the answers each worker decides
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
from typing import Any, Self, TextIO

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


def audit(
    stream: TextIO,
    settings: AuditSettings,
    write: Callable[[str], object],
    jobs: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], object] | None = None,
) -> Tally:
    """Audit the extract in ``stream``: ``write`` receives the JSONL output in input order.

    Returns the tally of the whole run. A CSV header naming an unknown column raises
    HeaderError before any row is read; every other bad row becomes an error line.
    """
    engine = engine_for(settings.policy_id, settings.kb_root, settings.version, as_of=settings.as_of)
    source = open_source(stream, settings.input_format, engine.vocabulary, chunk_size)
    settings = dataclasses.replace(settings, input_format=source.format, header=source.header)
    total = Tally(limit=settings.follow_up_limit)
    try:
        with closing(decide_chunks(source.chunks, settings, jobs or default_jobs(), total.room_left)) as results:
            for result in results:
                # A chunk is written whole or not at all: a stop signal waits for the write.
                with _signals_held():
                    write(result.text)
                    total.merge(result.tally)
                if progress is not None:
                    progress(result.tally.rows)
    except AuditInterrupted as stop:
        stop.rows = total.rows
        raise
    return total


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
    chunks: Iterator[Chunk], settings: AuditSettings, jobs: int, room: Callable[[], Mapping[str, int]] = dict
) -> Generator[ChunkResult, None, None]:
    """Each chunk's result, in order: in this process, or on ``jobs`` workers when there is
    more than one chunk to share. ``room`` tells, as each chunk is handed out, how many
    follow-up rows of each kind are still wanted: no more are built than can be kept."""
    # Ground here even when workers decide: forked workers inherit the grounded programs.
    auditor = settings.auditor()
    if settings.saved_table:
        auditor.load_table()  # the answers of earlier runs: forked workers inherit them too
    first = list(itertools.islice(chunks, 2))
    chunks = itertools.chain(first, chunks)
    if jobs <= 1 or len(first) < 2:
        for chunk in chunks:
            yield auditor.decide_chunk(chunk, room())
        if settings.saved_table:
            auditor.save_table()
        return
    auditor.engine.prepare(settings.explain)
    with _Workers(auditor, settings, jobs) as workers:
        for result in workers.decide(chunks, room):
            auditor.learn(result.learned)  # kept here to be saved for the next run
            yield result
    if settings.saved_table:
        auditor.save_table()


class _Workers:
    """Worker processes, one inbox each. Each chunk goes whole to the worker with the fewest
    chunks in hand. As soon as a worker has decided a chunk, it posts the answers it learned
    to the others, which read their post before each chunk: an input is decided twice only
    when two workers meet it at about the same time. Results come back in any order and are
    handed on in input order."""

    def __init__(self, auditor: Auditor, settings: AuditSettings, jobs: int) -> None:
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
        _inherited = auditor
        self.processes: list[Any] = []
        gc.freeze()  # the collector of a forked worker then leaves the inherited objects (and pages) alone
        try:
            # A stop signal waits until every worker has started: each starts with the
            # signals held and sets its own handling (_serve) before it takes them.
            with _signals_held():
                for number, inbox in enumerate(self.inboxes):
                    process = context.Process(
                        target=_serve, args=(settings, number, inbox, self.results, post), daemon=True
                    )
                    process.start()
                    self.processes.append(process)
        except BaseException:
            self._end()
            raise
        finally:
            gc.unfreeze()
            _inherited = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is not None:  # interrupted, a failed write, a closed generator: stop now
            self._end()
            return
        for inbox in self.inboxes:
            inbox.put(None)
        for process in self.processes:
            process.join(timeout=5)
        self._end()

    def _end(self) -> None:
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


def _serve(
    settings: AuditSettings,
    worker: int,
    inbox: multiprocessing.Queue,  # type: ignore[type-arg]
    results: multiprocessing.Queue,  # type: ignore[type-arg]
    post: list[multiprocessing.Queue],  # type: ignore[type-arg]
) -> None:
    """A worker: decide each chunk it is sent until told to stop (None); before each chunk,
    learn what the other workers decided, after it, tell them."""
    # Stopping is the parent's job: Ctrl-C reaches the whole process group, and a worker
    # that acted on it could die holding a queue's lock. SIGTERM (the parent's) ends it at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    _end_with_parent()
    auditor = _inherited or settings.auditor()  # spawned, not forked: nothing inherited
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
            # The parent keeps the answers only to save them for the next run.
            results.put((number, worker, result if settings.saved_table else dataclasses.replace(result, learned=[])))
        except BaseException as error:  # noqa: BLE001 - handed to the parent, which raises it
            results.put((number, worker, error))


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

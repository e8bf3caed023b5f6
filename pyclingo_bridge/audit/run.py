"""Running an audit: chunks in, output lines out, in input order, on one or more cores.

The parent process reads the extract in chunks and writes the answers; workers parse and
decide. Each chunk is split between the workers by a cheap look at each row's text, so that
the rows with the same input meet in the same worker and its cache (deciding a new input is
what costs). At most a few chunks are in flight at any time, so memory does not grow with
the number of rows. A short extract (one chunk) is decided in the parent: starting workers
would cost more than it saves.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import multiprocessing
import os
import queue
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TextIO

from ..engine import engine_for
from ..vocabulary import ID_FIELD
from .batch import CACHE_SIZE, Auditor, ChunkResult
from .reader import Chunk, InputFormat, RawRow, RowParser, open_source
from .summary import FOLLOW_UP_LIMIT, Tally

CHUNK_SIZE = 2_000
"""Rows per chunk: large enough to amortize hand-over between processes, small enough to stream."""


@dataclass(frozen=True)
class AuditSettings:
    """What a worker needs to build its own Auditor (picklable)."""

    policy_id: str
    kb_root: Path | None = None
    explain: bool = False
    input_format: InputFormat = "jsonl"
    header: tuple[str, ...] | None = None
    cache_size: int = CACHE_SIZE
    follow_up_limit: int = FOLLOW_UP_LIMIT

    def auditor(self) -> Auditor:
        engine = engine_for(self.policy_id, self.kb_root)
        parser = RowParser(engine.vocabulary, self.input_format, self.header)
        return Auditor(engine, parser, self.explain, self.cache_size, self.follow_up_limit)


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
    engine = engine_for(settings.policy_id, settings.kb_root)
    source = open_source(stream, settings.input_format, engine.vocabulary, chunk_size)
    settings = dataclasses.replace(settings, input_format=source.format, header=source.header)
    total = Tally(limit=settings.follow_up_limit)
    for result in decide_chunks(source.chunks, settings, jobs or default_jobs()):
        write(result.text)
        total.merge(result.tally)
        if progress is not None:
            progress(result.tally.rows)
    return total


def decide_chunks(chunks: Iterator[Chunk], settings: AuditSettings, jobs: int) -> Iterator[ChunkResult]:
    """Each chunk's result, in order: in this process, or on ``jobs`` workers when there is
    more than one chunk to share."""
    # Ground here even when workers decide: forked workers inherit the grounded programs.
    auditor = settings.auditor()
    first = list(itertools.islice(chunks, 2))
    chunks = itertools.chain(first, chunks)
    if jobs <= 1 or len(first) < 2:
        for chunk in chunks:
            yield auditor.decide_chunk(chunk)
        return
    with _Workers(auditor, settings, jobs) as workers:
        yield from workers.decide(chunks)


# Rows are routed to workers by their text without id, digits and spaces: rows that are the
# same input mostly look the same, so each distinct input is decided by one worker, not by
# all. Routing only spreads work: a row routed "wrongly" costs a second decision of its
# input, never a different answer. (A regular expression here cost more than deciding.)
_NOISE = str.maketrans("", "", "0123456789 \t\r\n")


def route(raw: RawRow, shards: int, skip: int | None = None) -> int:
    """The worker (0..shards-1) a raw row goes to; ``skip`` is the CSV id column."""
    if isinstance(raw, str):
        text = raw
        start = text.find('"id"')
        if start >= 0:  # drop the id member's value, "..." after the colon
            opening = text.find('"', text.find(":", start) + 1)
            closing = text.find('"', opening + 1) if opening >= 0 else -1
            if closing >= 0:
                text = text[:start] + text[closing + 1 :]
    else:
        text = "\x1f".join(cell for index, cell in enumerate(raw) if index != skip)
    return hash(text.translate(_NOISE)) % shards


class _Workers:
    """Worker processes, one queue each, fed parts of each chunk by route; results in order."""

    def __init__(self, auditor: Auditor, settings: AuditSettings, jobs: int) -> None:
        global _inherited
        # fork hands the workers this process's grounded programs and answers; elsewhere
        # each worker grounds its own.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        context: Any = multiprocessing.get_context(method)
        self.jobs = jobs
        self.window = 2  # chunks in flight beyond the one being merged: bounds memory
        self.skip = settings.header.index(ID_FIELD) if settings.header and ID_FIELD in settings.header else None
        self.inboxes = [context.Queue() for _ in range(jobs)]
        self.results = context.Queue()
        _inherited = auditor
        gc.freeze()  # the collector of a forked worker then leaves the inherited objects (and pages) alone
        try:
            self.processes = [
                context.Process(target=_serve, args=(settings, inbox, self.results), daemon=True)
                for inbox in self.inboxes
            ]
            for process in self.processes:
                process.start()
        finally:
            gc.unfreeze()
            _inherited = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        for inbox in self.inboxes:
            inbox.put(None)
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()

    def decide(self, chunks: Iterator[Chunk]) -> Iterator[ChunkResult]:
        routes: deque[list[int]] = deque()
        done: dict[int, dict[int, ChunkResult]] = {}
        sent = merged = 0
        for chunk in chunks:
            routes.append(self._send(sent, chunk))
            sent += 1
            while sent - merged > self.window:
                yield self._merge(merged, routes.popleft(), done)
                merged += 1
        while merged < sent:
            yield self._merge(merged, routes.popleft(), done)
            merged += 1

    def _send(self, number: int, chunk: Chunk) -> list[int]:
        parts: list[Chunk] = [[] for _ in range(self.jobs)]
        routes = [route(raw, self.jobs, self.skip) for _, raw in chunk]
        for target, row in zip(routes, chunk):
            parts[target].append(row)
        for target, part in enumerate(parts):
            self.inboxes[target].put((number, target, part))
        return routes

    def _merge(self, number: int, routes: list[int], done: dict[int, dict[int, ChunkResult]]) -> ChunkResult:
        while len(done.get(number, ())) < self.jobs:
            self._receive(done)
        parts = done.pop(number)
        lines = [iter(parts[target].lines) for target in range(self.jobs)]
        tally = Tally(limit=parts[0].tally.limit)
        tally.merge_interleaved([parts[target].tally for target in range(self.jobs)])
        return ChunkResult([next(lines[target]) for target in routes], tally)

    def _receive(self, done: dict[int, dict[int, ChunkResult]]) -> None:
        while True:
            try:
                number, target, result = self.results.get(timeout=1)
                break
            except queue.Empty:
                if not all(process.is_alive() for process in self.processes):
                    raise RuntimeError("an audit worker process died") from None
        if isinstance(result, BaseException):
            raise result
        done.setdefault(number, {})[target] = result


_inherited: Auditor | None = None


def _serve(settings: AuditSettings, inbox: multiprocessing.Queue, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """A worker: decide each part it is sent until told to stop (None)."""
    auditor = _inherited or settings.auditor()  # spawned, not forked: nothing inherited
    while (task := inbox.get()) is not None:
        number, target, part = task
        try:
            results.put((number, target, auditor.decide_chunk(part)))
        except BaseException as error:  # noqa: BLE001 - handed to the parent, which raises it
            results.put((number, target, error))

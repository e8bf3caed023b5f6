"""Running an audit: chunks in, output lines out, in input order, on one or more cores.

The parent process reads the extract in chunks and writes the answers; workers parse and
decide. At most a few chunks are in flight at any time, so memory does not grow with the
number of rows. A short extract (one chunk) is decided in the parent: starting workers
would cost more than it saves.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import TextIO

from ..engine import engine_for
from .batch import CACHE_SIZE, Auditor, ChunkResult
from .reader import Chunk, InputFormat, RowParser, open_source
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
    settings = AuditSettings(
        settings.policy_id,
        settings.kb_root,
        settings.explain,
        source.format,
        source.header,
        settings.cache_size,
        settings.follow_up_limit,
    )
    total = Tally(limit=settings.follow_up_limit)
    for result in decide_chunks(source.chunks, settings, jobs or default_jobs()):
        write(result.text)
        total.merge(result.tally)
        if progress is not None:
            progress(result.tally.rows)
    return total


def decide_chunks(chunks: Iterator[Chunk], settings: AuditSettings, jobs: int) -> Iterator[ChunkResult]:
    """Each chunk's result, in order: in this process, or on ``jobs`` workers when there is
    more than one chunk to share.

    The first chunk is always decided here: most distinct inputs of an extract show up
    early, and forked workers start with the answers this process already has.
    """
    auditor = settings.auditor()
    first = next(chunks, None)
    if first is None:
        return
    yield auditor.decide_chunk(first)
    more = list(itertools.islice(chunks, 1))
    if not more:
        return
    chunks = itertools.chain(more, chunks)
    if jobs <= 1:
        for chunk in chunks:
            yield auditor.decide_chunk(chunk)
        return
    yield from _on_workers(chunks, auditor, settings, jobs)


def _on_workers(chunks: Iterator[Chunk], auditor: Auditor, settings: AuditSettings, jobs: int) -> Iterator[ChunkResult]:
    global _worker
    # fork hands the workers this process's grounded programs and answers; elsewhere each
    # worker grounds its own.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    window = 2 * jobs  # chunks in flight: keeps every worker busy, bounds memory
    _worker = auditor
    try:
        with context.Pool(jobs, initializer=_start_worker, initargs=(settings,)) as pool:
            pending: deque[AsyncResult[ChunkResult]] = deque()
            for chunk in chunks:
                pending.append(pool.apply_async(_decide_in_worker, (chunk,)))
                if len(pending) >= window:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()
    finally:
        _worker = None


_worker: Auditor | None = None


def _start_worker(settings: AuditSettings) -> None:
    global _worker
    if _worker is None:  # spawned, not forked: nothing inherited
        _worker = settings.auditor()


def _decide_in_worker(chunk: Chunk) -> ChunkResult:
    assert _worker is not None, "worker not started"
    return _worker.decide_chunk(chunk)

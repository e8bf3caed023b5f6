"""Batch audit of routine activity data: every row of an extract decided as ``query`` decides it.

``reader`` cuts JSONL or CSV into chunks and parses rows, ``batch`` decides a chunk,
``run`` streams chunks through one or more processes in order, ``summary`` counts,
``report`` writes the HTML report.
"""

from __future__ import annotations

from .batch import Auditor, ChunkResult, answer_fields
from .reader import INPUT_FORMATS, HeaderError, InputFormat, RowParser, format_of
from .run import AuditInterrupted, AuditSettings, audit, default_jobs, stop_on_signals
from .summary import FollowUp, Tally, summary_text

__all__ = [
    "INPUT_FORMATS",
    "AuditInterrupted",
    "AuditSettings",
    "Auditor",
    "ChunkResult",
    "FollowUp",
    "HeaderError",
    "InputFormat",
    "RowParser",
    "Tally",
    "answer_fields",
    "audit",
    "default_jobs",
    "format_of",
    "stop_on_signals",
    "summary_text",
]

"""Counting an audit as it goes: rows by status and by clause, errors, and rows to follow up.

A :class:`Tally` is kept per chunk (in whichever process decided it) and merged in input
order, so the counts never depend on how the work was split. The follow-up lists (the
``not_commissioned`` and ``undetermined`` rows, and the error rows) keep only their first
``limit`` rows: the report says how many more there were, and memory stays flat.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..decision import STATUSES, clause_order

FOLLOW_UP_STATUSES = ("not_commissioned", "undetermined")
FOLLOW_UP_LIMIT = 1000
"""Rows kept per follow-up table; the rest are counted (and are in the JSONL output)."""


@dataclass(frozen=True)
class FollowUp:
    """A row to follow up: a not_commissioned or undetermined decision, or an error."""

    row: int
    id: str | int
    status: str
    clauses: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class Tally:
    """Counts of one chunk or of a whole audit."""

    limit: int = FOLLOW_UP_LIMIT
    rows: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    clauses: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    follow_up: dict[str, list[FollowUp]] = field(default_factory=dict)
    solved: int = 0
    """Inputs the engine decided; every other row replayed the answer of an equal input."""
    by_pattern: int = 0
    """Input classes a settled pattern answered without a solve (``settled.py``)."""
    room: Mapping[str, int] = field(default_factory=dict)
    """Follow-up rows of each kind still wanted (fewer than ``limit`` when the chunk comes
    after rows that were kept already); ``limit`` for a kind not named."""

    def add_decision(self, row: int, record_id: str | int, status: str, clauses: tuple[str, ...], missing: tuple[str, ...]) -> None:
        """Count one decided row (and keep it, when it is one to follow up)."""
        self.add_decisions(status, clauses, 1)
        if status in FOLLOW_UP_STATUSES and self.wants(status):
            self.follow(row, record_id, status, clauses, missing)

    def add_decisions(self, status: str, clauses: tuple[str, ...], count: int) -> None:
        """Count ``count`` rows with the same decision (their follow-up rows are kept by ``follow``)."""
        self.rows += count
        self.statuses[status] += count
        for clause in clauses:
            self.clauses[clause] += count

    def wants(self, kind: str) -> bool:
        """Whether the follow-up list of ``kind`` still has room."""
        return len(self.follow_up.get(kind, ())) < self.room.get(kind, self.limit)

    def room_left(self) -> dict[str, int]:
        """The follow-up rows of each kind a later chunk may still add (its ``room``)."""
        return {kind: self.limit - len(self.follow_up.get(kind, ())) for kind in (*FOLLOW_UP_STATUSES, "error")}

    def follow(self, row: int, record_id: str | int, status: str, clauses: tuple[str, ...], missing: tuple[str, ...]) -> None:
        """Keep a decided row to follow up (counted by ``add_decisions``)."""
        self._keep(status, FollowUp(row, record_id, status, clauses, missing))

    def add_error(self, row: int, record_id: str | int, message: str | Callable[[], str]) -> None:
        """Count an error row; ``message`` (or what it gives, only when the row is kept) says what is wrong."""
        self.rows += 1
        self.errors += 1
        if self.wants("error"):
            self._keep("error", FollowUp(row, record_id, "error", error=message if isinstance(message, str) else message()))

    def _keep(self, kind: str, follow_up: FollowUp) -> None:
        if self.wants(kind):
            self.follow_up.setdefault(kind, []).append(follow_up)

    def merge(self, later: Tally) -> None:
        """Add the tally of the rows that come after these ones."""
        self.rows += later.rows
        self.solved += later.solved
        self.by_pattern += later.by_pattern
        self.statuses.update(later.statuses)
        self.clauses.update(later.clauses)
        self.errors += later.errors
        for kind, rows in later.follow_up.items():
            kept = self.follow_up.setdefault(kind, [])
            kept.extend(rows[: max(0, self.limit - len(kept))])

    def count(self, kind: str) -> int:
        """Rows of a status, or errors."""
        return self.errors if kind == "error" else self.statuses[kind]

    def status_counts(self) -> list[tuple[str, int]]:
        """Every status in the engine's order (zeros included), then errors."""
        return [(status, self.statuses[status]) for status in STATUSES] + [("error", self.errors)]

    def clause_counts(self) -> list[tuple[str, int]]:
        """Rows decided by each clause, in clause order."""
        return sorted(self.clauses.items(), key=lambda item: clause_order(item[0]))


def summary_text(tally: Tally, policy: str, version: str, seconds: float) -> str:
    """The summary printed on stderr at the end of an audit."""
    rate = f", {tally.rows / seconds:,.0f} rows/s" if seconds > 0 else ""
    rows = f"{tally.rows:,} row" + ("" if tally.rows == 1 else "s")
    lines = [f"audited {rows} under {policy} version {version} in {seconds:.2f} s{rate}"]
    if tally.solved:
        lines.append(f"engine solves: {tally.solved:,} (rows of one input class share one)")
    if tally.by_pattern:
        lines.append(f"settled patterns: {tally.by_pattern:,} input classes answered without a solve")
    decided = tally.rows - tally.errors
    if decided:
        share = 100 * (decided - min(tally.solved, decided)) / decided
        lines.append(f"answer table: {share:.1f} % of decided rows answered without a solve")
    lines.append("by status:")
    lines += [f"  {name:<17} {count:>10,}" for name, count in tally.status_counts()]
    lines.append("by clause (rows whose status the clause decided):")
    lines += [f"  {clause:<17} {count:>10,}" for clause, count in tally.clause_counts()] or ["  (none)"]
    return "\n".join(lines) + "\n"

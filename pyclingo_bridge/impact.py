"""``policykb diff --on EXTRACT``: how many rows of real activity two versions decide differently.

Every row is decided under each version by the audit itself (``audit.run.audit``, the same
reader, engine and cache as ``policykb audit``), then the two outputs are paired by row: a
transition is a pair of statuses that differ, with its count and the first ids.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from .audit import AuditSettings
from .audit import audit as run_audit
from .audit.report import _STYLE, STATUS_COLOURS, bar_chart
from .engine import PolicyEngine
from .errors import PolicyKBError

ROWS_LISTED = 1000
"""Ids kept per transition (every row is counted)."""
ERROR = "error"


class ExtractError(PolicyKBError):
    """The extract cannot be read."""


@dataclass
class Transition:
    before: str
    after: str
    count: int = 0
    rows: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.before, "to": self.after, "count": self.count, "rows": self.rows}


@dataclass(frozen=True)
class Impact:
    policy: str
    before: dict[str, Any]
    after: dict[str, Any]
    extract: str
    rows: int
    unchanged: int
    errors: int
    transitions: tuple[Transition, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "from": self.before,
            "to": self.after,
            "extract": self.extract,
            "rows": self.rows,
            "unchanged": self.unchanged,
            "errors": self.errors,
            "transitions": [t.to_dict() for t in self.transitions],
        }


def impact(path: Path, before: PolicyEngine, after: PolicyEngine, input_format: str, jobs: int | None = None) -> Impact:
    """Decide every row of the extract at ``path`` under both engines' versions and count
    the rows by change of status."""
    sides = [_decided(path, engine, input_format, jobs) for engine in (before, after)]
    transitions: dict[tuple[str, str], Transition] = {}
    unchanged = errors = 0
    for (row_id, first), (_, second) in zip(sides[0], sides[1]):
        if ERROR in (first, second):
            errors += 1
        elif first == second:
            unchanged += 1
        else:
            transition = transitions.setdefault((first, second), Transition(first, second))
            transition.count += 1
            if len(transition.rows) < ROWS_LISTED:
                transition.rows.append(row_id)
    ordered = sorted(transitions.values(), key=lambda t: (-t.count, t.before, t.after))
    return Impact(
        before.policy.reference,
        {**before.provenance.to_dict()},
        {**after.provenance.to_dict()},
        str(path),
        len(sides[0]),
        unchanged,
        errors,
        tuple(ordered),
    )


def _decided(path: Path, engine: PolicyEngine, input_format: str, jobs: int | None) -> list[tuple[Any, str]]:
    """Each row's id and status (``error`` for a row that could not be decided), in order."""
    settings = AuditSettings(engine.model.id, engine.kb.root, False, input_format, version=engine.version.number)  # type: ignore[arg-type]
    found: list[tuple[Any, str]] = []
    pending = [""]

    def write(text: str) -> None:
        lines = (pending[0] + text).split("\n")
        pending[0] = lines.pop()
        for line in lines:
            if line:
                answer = json.loads(line)
                found.append((answer.get("id"), answer.get("status", ERROR) if "error" not in answer else ERROR))

    try:
        with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="" if input_format == "csv" else None) as stream:
            run_audit(stream, settings, write, jobs=jobs)
    except OSError as error:
        raise ExtractError(f"cannot read the extract {path}: {error.strerror or error}") from None
    write("\n")
    return found


def render_impact_text(result: Impact) -> str:
    changed = sum(t.count for t in result.transitions)
    lines = [
        f"{result.policy}: version {result.before['version']} -> version {result.after['version']} on {result.extract}",
        f"{result.rows:,} rows: {changed:,} change status, {result.unchanged:,} unchanged, {result.errors:,} could not be decided",
    ]
    if not result.transitions:
        lines.append("no decision changes")
    for transition in result.transitions:
        shown = ", ".join(str(row) for row in transition.rows[:10])
        more = " ..." if transition.count > 10 else ""
        lines.append(f"  {transition.before} -> {transition.after}: {transition.count:,} rows ({shown}{more})")
    return "\n".join(lines) + "\n"


def render_impact_html(result: Impact, generated: datetime.datetime | None = None) -> str:
    """The transitions as one self-contained HTML page (inline SVG, no script, no network);
    every id from the extract is escaped."""
    when = (generated or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    counts = [(f"{t.before} → {t.after}", t.count) for t in result.transitions]
    colours = {f"{t.before} → {t.after}": STATUS_COLOURS.get(t.after, "#1565c0") for t in result.transitions}
    rows = "".join(
        f"<tr><td>{escape(t.before)}</td><td>{escape(t.after)}</td><td class=\"n\">{t.count:,}</td>"
        f"<td>{escape(', '.join(str(row) for row in t.rows[:50]))}{' …' if t.count > 50 else ''}</td></tr>"
        for t in result.transitions
    )
    before, after = result.before, result.after
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Impact: {escape(result.policy)} version {escape(before['version'])} to {escape(after['version'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Impact of {escape(result.policy)} version {escape(after['version'])} on {result.rows:,} rows</h1>",
        (
            f'<p class="meta">From version {escape(before["version"])} (KB sha256 {escape(before["kb_sha256"][:12])}) '
            f'to version {escape(after["version"])} (KB sha256 {escape(after["kb_sha256"][:12])}); '
            f"extract {escape(result.extract)}. Report generated {when}.</p>"
        ),
        (
            f"<p>{sum(t.count for t in result.transitions):,} rows change status, {result.unchanged:,} are unchanged, "
            f"{result.errors:,} could not be decided.</p>"
        ),
        '<h2 id="transitions">Rows by change of status</h2>',
        bar_chart(counts, "Rows by change of status", lambda name: colours[name]) if counts else "<p>No decision changes.</p>",
        ("<table><tr><th>From</th><th>To</th><th>Rows</th><th>First ids</th></tr>" + rows + "</table>") if rows else "",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


__all__ = ["Impact", "Transition", "impact", "render_impact_html", "render_impact_text"]

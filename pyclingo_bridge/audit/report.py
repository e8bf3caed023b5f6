"""The audit report: one self-contained HTML file (no script, no network) with SVG charts.

Everything shown comes from the tally and the knowledge base's own metadata; every string
from the extract (ids, messages) is escaped, so a row cannot inject markup.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from html import escape
from pathlib import Path

from ..metadata import PolicyInfo
from .summary import FollowUp, Tally

STATUS_COLOURS = {
    "commissioned": "#2e7d32",
    "not_commissioned": "#c62828",
    "outside_policy": "#6a6a6a",
    "undetermined": "#ef6c00",
    "error": "#5d4037",
}
CLAUSE_COLOUR = "#1565c0"

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}
.meta{color:#555}table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-style:italic}svg text{font-family:inherit}
"""


def write_report(path: Path, tally: Tally, policy: PolicyInfo) -> None:
    """Write the HTML report of an audit to ``path``."""
    path.write_text(render_report(tally, policy), encoding="utf-8")


def render_report(tally: Tally, policy: PolicyInfo, generated: datetime.datetime | None = None) -> str:
    """The report as one HTML document."""
    when = (generated or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    clause_texts = {clause.number: clause.text for clause in policy.clauses}
    statuses = tally.status_counts()
    clauses = tally.clause_counts()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Audit: {escape(policy.reference)} {escape(policy.title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Audit of {tally.rows:,} rows under {escape(policy.reference)} <i>{escape(policy.title)}</i></h1>",
        f'<p class="meta">Policy {escape(policy.reference)} version {escape(policy.version)}'
        + (f", {escape(policy.metadata['commissioner'])}" if "commissioner" in policy.metadata else "")
        + f". Report generated {when}.</p>",
        '<h2 id="by-status">Rows by status</h2>',
        bar_chart(statuses, "Rows by status", lambda name: STATUS_COLOURS.get(name, CLAUSE_COLOUR)),
        _count_table(["Status", "Rows", "Share"], [(name, count) for name, count in statuses], tally.rows),
        '<h2 id="by-clause">Rows by deciding clause</h2>',
        (
            '<p class="note">A row counts once under each clause that decided its status; '
            "undetermined rows and errors have no deciding clause.</p>"
        ),
        bar_chart(clauses, "Rows by deciding clause", lambda name: CLAUSE_COLOUR) if clauses else "<p>No row was decided.</p>",
        _clause_table(clauses, clause_texts, tally.rows),
        _follow_up_section(tally, "not_commissioned", "Not commissioned rows", "Clauses"),
        _follow_up_section(tally, "undetermined", "Undetermined rows", "Missing facts"),
        _follow_up_section(tally, "error", "Rows that could not be decided", "Error"),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def bar_chart(counts: Sequence[tuple[str, int]], title: str, colour: object) -> str:
    """A horizontal bar chart as inline SVG, one bar per (label, count)."""
    label_width, bar_width, row_height = 170, 460, 26
    height = row_height * len(counts) + 10
    largest = max((count for _, count in counts), default=0) or 1
    bars = []
    for index, (label, count) in enumerate(counts):
        y = 5 + index * row_height
        width = round(bar_width * count / largest, 1)
        fill = colour(label)  # type: ignore[operator]
        bars.append(
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" font-size="13">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{width}" height="{row_height - 8}" fill="{fill}">'
            f"<title>{escape(label)}: {count:,}</title></rect>"
            f'<text x="{label_width + width + 6}" y="{y + 17}" font-size="13">{count:,}</text>'
        )
    total_width = label_width + bar_width + 90
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'width="{total_width}" height="{height}" viewBox="0 0 {total_width} {height}">'
        f"<title>{escape(title)}</title>{''.join(bars)}</svg>"
    )


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "-"


def _count_table(headings: Sequence[str], counts: Sequence[tuple[str, int]], total: int) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    rows = "".join(
        f'<tr><td>{escape(name)}</td><td class="n">{count:,}</td><td class="n">{_share(count, total)}</td></tr>'
        for name, count in counts
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _clause_table(clauses: Sequence[tuple[str, int]], texts: dict[str, str], total: int) -> str:
    if not clauses:
        return ""
    rows = "".join(
        f'<tr><td>{escape(clause)}</td><td class="n">{count:,}</td><td class="n">{_share(count, total)}</td>'
        f"<td>{escape(texts.get(clause, ''))}</td></tr>"
        for clause, count in clauses
    )
    return (
        "<table><thead><tr><th>Clause</th><th>Rows</th><th>Share</th><th>Text</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _follow_up_section(tally: Tally, kind: str, title: str, detail: str) -> str:
    total = tally.count(kind)
    kept: list[FollowUp] = tally.follow_up.get(kind, [])
    anchor = kind.replace("_", "-")
    parts = [f'<h2 id="{anchor}">{escape(title)} ({total:,})</h2>']
    if not total:
        parts.append("<p>None.</p>")
        return "\n".join(parts)
    if len(kept) < total:
        parts.append(
            f'<p class="note">Showing the first {len(kept):,} of {total:,} rows, in input order; '
            "every row is in the JSONL output.</p>"
        )
    body = []
    for row in kept:
        if kind == "error":
            cell = escape(row.error or "")
        elif kind == "undetermined":
            cell = escape(", ".join(row.missing))
        else:
            cell = escape(", ".join(row.clauses))
        body.append(f'<tr><td class="n">{row.row}</td><td>{escape(str(row.id))}</td><td>{cell}</td></tr>')
    parts.append(
        f"<table><thead><tr><th>Row</th><th>Id</th><th>{escape(detail)}</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )
    return "\n".join(parts)

"""The HTML audit report: content, escaping, bounded tables, and that a browser renders it."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

import pytest

from pyclingo_bridge import PolicyEngine
from pyclingo_bridge.audit import Tally
from pyclingo_bridge.audit.report import render_report

WHEN = datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.UTC)


def _tally(limit: int = 1000) -> Tally:
    tally = Tally(limit=limit)
    tally.add_decision(1, "a", "commissioned", ("1.3",), ())
    tally.add_decision(2, "<script>alert(1)</script>", "not_commissioned", ("1.2",), ())
    tally.add_decision(3, 3, "undetermined", (), ("setting", "red_flags"))
    tally.add_decision(4, "d", "not_commissioned", ("1.4", "6.5"), ())
    tally.add_error(5, 5, "row 5: age: 'forty' is not allowed")
    return tally


def test_report_holds_policy_counts_chart_and_follow_up_rows(engine: PolicyEngine) -> None:
    html = render_report(_tally(), engine.policy, WHEN)
    assert html.startswith("<!DOCTYPE html>")
    assert "Policy CMICB_Clin086 version 1, NHS Cheshire &amp; Merseyside ICB. Report generated 2026-01-02 03:04 UTC." in html
    assert html.count("<svg") == 2
    assert '<title>not_commissioned: 2</title>' in html
    assert "<tr><td>1.2</td><td class=\"n\">1</td><td class=\"n\">20.0%</td><td>Imaging for low back pain" in html
    assert "Not commissioned rows (2)" in html and "Undetermined rows (1)" in html
    assert '<tr><td class="n">4</td><td>d</td><td>1.4, 6.5</td></tr>' in html
    assert '<tr><td class="n">3</td><td>3</td><td>setting, red_flags</td></tr>' in html
    assert "Rows that could not be decided (1)" in html


def test_report_escapes_what_comes_from_the_extract(engine: PolicyEngine) -> None:
    html = render_report(_tally(), engine.policy, WHEN)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "'forty'" not in html and "&#x27;forty&#x27;" in html


def test_report_needs_no_network(engine: PolicyEngine) -> None:
    html = render_report(_tally(), engine.policy, WHEN)
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html and "<script" not in html and "<link" not in html


def test_follow_up_tables_are_bounded_and_say_so(engine: PolicyEngine) -> None:
    tally = Tally(limit=2)
    for row in range(1, 6):
        tally.add_decision(row, row, "not_commissioned", ("1.2",), ())
    html = render_report(tally, engine.policy, WHEN)
    assert "Showing the first 2 of 5 rows, in input order; every row is in the JSONL output." in html
    assert html.count("<td>1.2</td></tr>") == 2


def test_merge_keeps_the_first_rows_and_all_counts() -> None:
    first, later = Tally(limit=3), Tally(limit=3)
    for row in (1, 2):
        first.add_decision(row, row, "undetermined", (), ("age",))
    for row in (3, 4):
        later.add_decision(row, row, "undetermined", (), ("age",))
    first.merge(later)
    assert first.count("undetermined") == 4
    assert [f.row for f in first.follow_up["undetermined"]] == [1, 2, 3]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="no headless browser: install the Debian package chromium (.ci/run does)")
def test_report_renders_in_headless_chromium(engine: PolicyEngine, tmp_path: Path) -> None:
    report = tmp_path / "audit.html"
    report.write_text(render_report(_tally(), engine.policy, WHEN), encoding="utf-8")
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    browser = str(_chromium())
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    # The browser parsed the document: the charts and tables are in its DOM.
    assert dom.count("<svg") == 2 and "<rect" in dom
    assert "Not commissioned rows (2)" in dom
    screenshot = tmp_path / "audit.png"
    subprocess.run(
        [browser, *flags, "--window-size=1000,1400", f"--screenshot={screenshot}", report.as_uri()],
        capture_output=True, timeout=120, check=True,
    )
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 10_000  # a page with content, not a blank image

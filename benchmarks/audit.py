"""Benchmark `policykb audit` against one query per row, on synthetic extracts.

Usage (from the repository root, in the venv):

    python benchmarks/audit.py                       # 100,000 rows
    python benchmarks/audit.py --rows 100000 1000000 # peak memory at both sizes too
    python benchmarks/audit.py --routed              # rows routed by a procedure column instead of --policy

For each size it writes a synthetic JSONL extract (benchmarks/synthetic.py, with a few
malformed rows), runs `policykb audit FILE -o /dev/null` as a child process and reports
wall time, rows/s and the peak resident memory of the process tree (parent + workers,
sampled every 20 ms). The per-row path — `PolicyEngine.decide` once per row, the library
call behind `policykb query`, in one warm process — is timed on a sample of rows before
each audit run and extrapolated from the median (it would take minutes on the whole
extract); the sample, the spread and the factor are printed. For scale, two per-row paths the issue names are timed on a few rows: a fresh
clingo Control per row (ground, then decide) and a `policykb query` process per row (what a
shell loop over the rows would do). Figures depend on how varied the rows are, so the number
of distinct inputs (and of engine solves) is printed too.

This VM's speed drifts by tens of percent from minute to minute, so each size is audited
``--repeat`` times and every run is printed with the median. The audit runs as it does after
``pip install``: with bytecode compiled, after one warm-up run that also caches the pruned
groundings a fresh checkout builds on first use.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synthetic import RARE, UNKNOWN, jsonl_lines, synthetic_rows
from pyclingo_bridge import PolicyEngine, engine_for
from pyclingo_bridge.audit import AuditSettings
from pyclingo_bridge.vocabulary import Vocabulary

POLICY = "CMICB_Clin086"
INSTALLED_ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
"""The audit's environment: bytecode cached, as ``pip install`` compiles it (a development
shell that forbids writing it would add compiling every module to each start-up)."""


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its descendants (Linux /proc), in kB."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, AttributeError, PermissionError):
            continue
    return total


ROUTED_CODE = ("procedure_code", "snomed", "433141005")
"""--routed: the column, system and code (an MRI of the lumbar and sacral spine) every row names."""


def routed_line(line: str) -> str:
    """A JSONL line of the extract with its procedure code first (a malformed line as it was)."""
    member = f'"{ROUTED_CODE[0]}": "{ROUTED_CODE[2]}"'
    if line.strip() == "{}":
        return "{" + member + "}\n"
    return "{" + member + ", " + line[1:] if line.startswith("{") else line


def run_audit(path: Path, jobs: int | None, routed: bool = False) -> tuple[float, float, int, list[str]]:
    """Wall seconds, CPU seconds (process tree), peak tree RSS (kB) and the summary of one audit run."""
    how = ["--procedure-column", ROUTED_CODE[0], "--procedure-system", ROUTED_CODE[1]] if routed else ["--policy", POLICY]
    command = [sys.executable, "-m", "pyclingo_bridge", "audit", *how, str(path), "-o", os.devnull]
    if jobs:
        command += ["--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=INSTALLED_ENVIRONMENT)
    peak = 0
    while child.poll() is None:
        peak = max(peak, _tree_rss_kb(child.pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stderr = child.stderr.read() if child.stderr else ""
    return seconds, cpu, peak, stderr.splitlines()[:2] or ["(no summary)"]


def query_processes(vocabulary: Vocabulary, sample: int) -> float:
    """Rows/s of one `policykb query` process per row (start-up, grounding, one decision)."""
    rows = list(synthetic_rows(vocabulary, sample))
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        for number, row in enumerate(rows):
            path = Path(folder) / f"row{number}.json"
            path.write_text(json.dumps(row))
            subprocess.run([sys.executable, "-m", "pyclingo_bridge", "query", "--policy", POLICY, str(path)], capture_output=True, check=False)
        return len(rows) / (time.perf_counter() - started)


def per_row(rows: int, sample: int, unknown: float, rare: float) -> float:
    """Rows/s of one `decide` per row, timed on the first ``sample`` rows."""
    engine = engine_for(POLICY)
    facts = list(synthetic_rows(engine.vocabulary, min(rows, sample), unknown=unknown, rare=rare))
    started = time.perf_counter()
    for row in facts:
        engine.decide(row)
    return len(facts) / (time.perf_counter() - started)


def control_per_row(sample: int, unknown: float, rare: float) -> float:
    """Rows/s of a fresh engine (one clingo Control, grounded) per row, then one decision."""
    engine = engine_for(POLICY)
    facts = list(synthetic_rows(engine.vocabulary, sample, unknown=unknown, rare=rare))
    started = time.perf_counter()
    for row in facts:
        PolicyEngine(POLICY, engine.kb).decide(row)
    return len(facts) / (time.perf_counter() - started)


def distinct_inputs(rows: int, unknown: float, rare: float) -> int:
    """Distinct inputs as the audit's cache tells them apart."""
    auditor = AuditSettings(POLICY).auditor()
    vocabulary = auditor.engine.vocabulary
    return len({auditor._key(vocabulary.validate(row)) for row in synthetic_rows(vocabulary, rows, unknown=unknown, rare=rare)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeat", type=int, default=3, help="audit runs per size (all printed, and their median)")
    parser.add_argument("--sample", type=int, default=2_000, help="rows timed for the per-row path")
    parser.add_argument("--unknown", type=float, default=UNKNOWN)
    parser.add_argument("--rare", type=float, default=RARE)
    parser.add_argument("--malformed", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--query-sample", type=int, default=10, help="rows timed as one `policykb query` process each")
    parser.add_argument("--control-sample", type=int, default=50, help="rows timed as one fresh Control each")
    parser.add_argument("--routed", action="store_true", help="each row names its procedure; audit --procedure-column")
    arguments = parser.parse_args()
    vocabulary = engine_for(POLICY).vocabulary
    print(f"policy {POLICY}; synthetic rows: unknown={arguments.unknown} rare={arguments.rare}; cores {os.cpu_count()}")
    # The per-row path is timed again before each audit run (the drift between minutes
    # would otherwise decide the ratio); the ratio is of the two medians.
    baselines = [per_row(arguments.rows[0], arguments.sample, arguments.unknown, arguments.rare)]
    print(f"per-row path (engine.decide per row, one warm engine, sample of {arguments.sample:,} rows): {baselines[0]:,.0f} rows/s")
    controls = control_per_row(arguments.control_sample, arguments.unknown, arguments.rare)
    print(f"one fresh clingo Control per row (ground, decide; sample of {arguments.control_sample} rows): {controls:,.1f} rows/s")
    processes = query_processes(vocabulary, arguments.query_sample)
    print(f"one `policykb query` process per row (sample of {arguments.query_sample} rows): {processes:,.1f} rows/s")
    with tempfile.TemporaryDirectory() as folder:
        for rows in arguments.rows:
            path = Path(folder) / f"extract-{rows}.jsonl"
            with path.open("w") as out:
                lines = jsonl_lines(vocabulary, rows, unknown=arguments.unknown, rare=arguments.rare, malformed=arguments.malformed)
                out.writelines(map(routed_line, lines) if arguments.routed else lines)
            print(f"\n{rows:,} rows ({path.stat().st_size / 1e6:.0f} MB JSONL)")
            if rows <= 200_000:
                print(f"  distinct inputs: {distinct_inputs(rows, arguments.unknown, arguments.rare):,}")
            warm_up = Path(folder) / "warm-up.jsonl"
            with path.open() as lines:
                warm_up.write_text("".join(itertools.islice(lines, 5_000)))
            run_audit(warm_up, arguments.jobs, arguments.routed)
            walls = []
            for _ in range(arguments.repeat):
                baselines.append(per_row(arguments.rows[0], arguments.sample, arguments.unknown, arguments.rare))
                seconds, cpu, peak, summary = run_audit(path, arguments.jobs, arguments.routed)
                walls.append(seconds)
                decided = summary[0].rsplit(" in ", 1)[-1]  # "2.01 s, 49,751 rows/s"
                solves = summary[1].split(" (")[0] if len(summary) > 1 else ""
                print(
                    f"  audit run: decided in {decided}; {solves}; wall with start-up {seconds:.2f} s"
                    f" = {rows / seconds:,.0f} rows/s; CPU of the process tree {cpu:.2f} s; peak memory {peak / 1024:.0f} MB"
                )
            median = statistics.median(walls)
            print(f"  median wall time with start-up: {median:.2f} s = {rows / median:,.0f} rows/s")
            baseline = statistics.median(baselines)
            spread = f"{min(baselines):,.0f}-{max(baselines):,.0f}"
            print(f"  per-row path (warm engine), median of {len(baselines)} timings ({spread} rows/s): {baseline:,.0f} rows/s")
            print(f"  per-row path would take {rows / baseline:,.0f} s; audit is {rows / median / baseline:,.0f}x faster")
            print(f"  a fresh Control per row would take {rows / controls / 3600:,.1f} h; audit is {rows / median / controls:,.0f}x faster")
            print(f"  a query process per row would take {rows / processes / 3600:,.1f} h; audit is {rows / median / processes:,.0f}x faster")


if __name__ == "__main__":
    main()

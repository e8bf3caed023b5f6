"""Benchmark `policykb audit` against one query per row, on synthetic extracts.

Usage (from the repository root, in the venv):

    python benchmarks/audit.py                       # every policy, routine and diverse, 100,000 rows
    python benchmarks/audit.py --rows 100000 1000000 # peak memory at both sizes too
    python benchmarks/audit.py --policy CMICB_Clin086 --extract diverse --repeat 5

Each audit runs twice per repeat: with no saved answer table ("cold": every input class met
is decided), then again with the table the first run saved ("warm", the next run of the
same KB). For CMICB_Clin086 the plain-Python script of its statuses
(benchmarks/plain_clin086.py, in a pool of as many processes as the audit's workers) runs
on the same extract in the same repeat, and the ratio of the medians is printed.
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
import decimal
import itertools
import json
import os
import re
import resource
import shutil
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
from pyclingo_bridge.errors import InputError
from pyclingo_bridge.knowledge_base import knowledge_base
from pyclingo_bridge.table import TABLE_ENV
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


def run_child(command: list[str], environment: dict[str, str] | None = None) -> tuple[float, float, int, list[str]]:
    """Wall seconds, CPU seconds (process tree), peak tree RSS (kB) and the first lines of
    stderr of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=environment or INSTALLED_ENVIRONMENT)
    peak = 0
    while child.poll() is None:
        peak = max(peak, _tree_rss_kb(child.pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stderr = child.stderr.read() if child.stderr else ""
    return seconds, cpu, peak, stderr.splitlines()[:3] or ["(no summary)"]


def run_audit(
    path: Path, jobs: int | None, policy: str = POLICY, tables: Path | None = None, routed: bool = False
) -> tuple[float, float, int, list[str]]:
    """One `policykb audit` run; ``tables``: the folder of saved answer tables it reads and writes."""
    how = ["--procedure-column", ROUTED_CODE[0], "--procedure-system", ROUTED_CODE[1]] if routed else ["--policy", policy]
    command = [sys.executable, "-m", "pyclingo_bridge", "audit", *how, str(path), "-o", os.devnull]
    if jobs:
        command += ["--jobs", str(jobs)]
    environment = dict(INSTALLED_ENVIRONMENT)
    if tables is not None:
        environment[TABLE_ENV] = str(tables)
    return run_child(command, environment)


def run_script(path: Path, jobs: int | None) -> tuple[float, float, int, list[str]]:
    """One run of the plain-Python script of Clin086's statuses, in a pool of as many processes."""
    return run_child([sys.executable, str(Path(__file__).parent / "plain_clin086.py"), str(path), "--jobs", str(jobs or os.cpu_count() or 2)])


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


def distinct_inputs(path: Path, policy: str, exact: bool = False) -> int:
    """Distinct valid inputs of an extract: by input class (the audit's key), or ``exact``."""
    auditor = AuditSettings(policy, explain=exact).auditor()
    vocabulary = auditor.engine.vocabulary
    keys = set()
    with path.open() as lines:
        for line in lines:
            try:
                keys.add(auditor._key(vocabulary.validate(json.loads(line, parse_float=decimal.Decimal))))
            except (ValueError, InputError):
                continue
    return len(keys)


def compare(arguments: argparse.Namespace, folder: Path) -> None:
    """Audit each policy's routine and diverse extracts, beside the plain script (Clin086)."""
    for rows in arguments.rows:
        for policy in arguments.policy:
            vocabulary = engine_for(policy).vocabulary
            for extract in arguments.extract:
                path = folder / f"{policy}-{extract}-{rows}.jsonl"
                with path.open("w") as out:
                    lines = jsonl_lines(vocabulary, rows, unknown=arguments.unknown, rare=arguments.rare,
                                        malformed=arguments.malformed, diverse=extract == "diverse")
                    out.writelines(map(routed_line, lines) if arguments.routed else lines)
                print(f"\n{policy}, {extract} extract, {rows:,} rows ({path.stat().st_size / 1e6:.0f} MB JSONL)")
                if rows <= 200_000:
                    print(f"  distinct inputs: {distinct_inputs(path, policy, exact=True):,}; input classes: {distinct_inputs(path, policy):,}")
                warm_up = folder / "warm-up.jsonl"
                with path.open() as lines:
                    warm_up.write_text("".join(itertools.islice(lines, 5_000)))
                run_audit(warm_up, arguments.jobs, policy, folder / "warm-up-tables", arguments.routed)
                cold, warm, script = [], [], []
                for _ in range(arguments.repeat):
                    if policy.lower() == POLICY.lower():
                        seconds, cpu, peak, _ = run_script(path, arguments.jobs)
                        script.append(seconds)
                        print(f"  plain script: {seconds:.2f} s = {rows / seconds:,.0f} rows/s; CPU {cpu:.2f} s; peak memory {peak / 1024:.0f} MB")
                    tables = folder / "tables"
                    shutil.rmtree(tables, ignore_errors=True)
                    for kind, runs in (("cold", cold), ("warm", warm)):
                        seconds, cpu, peak, summary = run_audit(path, arguments.jobs, policy, tables, arguments.routed)
                        runs.append(seconds)
                        details = "; ".join(line.split(" (")[0] for line in summary[1:] if not line.startswith("by "))
                        print(f"  audit, {kind} table: {seconds:.2f} s with start-up = {rows / seconds:,.0f} rows/s; {details};"
                              f" CPU {cpu:.2f} s; peak memory {peak / 1024:.0f} MB")
                for kind, runs in (("cold", cold), ("warm", warm)):
                    median = statistics.median(runs)
                    ratio = f"; {statistics.median(script) / median:.2f}x the plain script" if script else ""
                    print(f"  median, {kind} table: {median:.2f} s = {rows / median:,.0f} rows/s{ratio}")
                if script:
                    print(f"  median, plain script: {statistics.median(script):.2f} s = {rows / statistics.median(script):,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000])
    parser.add_argument("--policy", nargs="+", default=sorted(knowledge_base().policy_folders()), help="default: every policy")
    parser.add_argument("--extract", nargs="+", choices=("routine", "diverse"), default=["routine", "diverse"])
    parser.add_argument("--repeat", type=int, default=3, help="audit runs per size (all printed, and their median)")
    parser.add_argument("--baselines", action="store_true", help="also time the per-row paths (engine.decide, a Control, a query process)")
    parser.add_argument("--sample", type=int, default=2_000, help="rows timed for the per-row path")
    parser.add_argument("--unknown", type=float, default=UNKNOWN)
    parser.add_argument("--rare", type=float, default=RARE)
    parser.add_argument("--malformed", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--query-sample", type=int, default=10, help="rows timed as one `policykb query` process each")
    parser.add_argument("--control-sample", type=int, default=50, help="rows timed as one fresh Control each")
    parser.add_argument("--routed", action="store_true", help="each row names its procedure; audit --procedure-column (use with --policy CMICB_Clin086)")
    arguments = parser.parse_args()
    arguments.policy = [knowledge_base().policy_folder(p).name for p in arguments.policy]
    load = os.getloadavg()
    print(f"policies {', '.join(arguments.policy)}; routine rows: unknown={arguments.unknown} rare={arguments.rare}; "
          f"cores {os.cpu_count()}; load average {load[0]:.1f} {load[1]:.1f}")
    if arguments.baselines:
        baseline = per_row(arguments.rows[0], arguments.sample, arguments.unknown, arguments.rare)
        print(f"per-row path (engine.decide per row, one warm engine, sample of {arguments.sample:,} rows): {baseline:,.0f} rows/s")
        controls = control_per_row(arguments.control_sample, arguments.unknown, arguments.rare)
        print(f"one fresh clingo Control per row (ground, decide; sample of {arguments.control_sample} rows): {controls:,.1f} rows/s")
        processes = query_processes(engine_for(POLICY).vocabulary, arguments.query_sample)
        print(f"one `policykb query` process per row (sample of {arguments.query_sample} rows): {processes:,.1f} rows/s")
    with tempfile.TemporaryDirectory() as folder:
        compare(arguments, Path(folder))
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.1f} {load[1]:.1f}")


if __name__ == "__main__":
    main()

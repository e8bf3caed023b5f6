"""CLI start-up against the floor of any clingo-and-click program, measured in the same run.

Run: python benchmarks/startup.py [--runs 15]

Issue 15 §4: `policykb query` within 1.5x (goal 1.2x) of `python -c "import clingo, click"`.
The two commands alternate, so background load hits both alike; each runs from the system's
temporary folder, so the installed package is measured (as a user runs it, from bytecode).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "specialist-likely-to-change.json"
COMMANDS = {
    "import clingo, click": [sys.executable, "-c", "import clingo, click"],
    "policykb query": [sys.executable, "-m", "pyclingo_bridge", "query", "--policy", "CMICB_Clin086", str(EXAMPLE), "--format", "json"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=tempfile.gettempdir())
            walls[name].append((time.perf_counter() - start) * 1000)
    medians = {name: statistics.median(times) for name, times in walls.items()}
    for name, median in medians.items():
        print(f"{name:>22}: wall median {median:.0f} ms, max {max(walls[name]):.0f} ms ({args.runs} runs)")
    print(f"ratio of medians {medians['policykb query'] / medians['import clingo, click']:.2f}x")


if __name__ == "__main__":
    main()

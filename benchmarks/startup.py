"""CLI start-up against the floor of any clingo-and-click program, measured in the same run.

Run: python benchmarks/startup.py [--runs 15] [--compare OTHER_PYTHON ...]

Issue 15 §4: `policykb query` within 1.5x (goal 1.2x) of `python -c "import clingo, click"`.
The commands alternate, so background load hits all alike; each runs from the system's
temporary folder, so the installed package is measured (as a user runs it, from bytecode).
``--compare`` adds the same query by another interpreter (say, a virtual environment holding
an earlier version of the package), measured in the same run. The program cache is filled
by a first, untimed run of each query.
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
FLOOR = "import clingo, click"
COMMANDS = {
    FLOOR: [sys.executable, "-c", "import clingo, click"],
    "policykb query": [sys.executable, "-m", "pyclingo_bridge", "query", "--policy", "CMICB_Clin086", str(EXAMPLE), "--format", "json"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--compare", action="append", default=[], metavar="PYTHON",
                        help="another interpreter whose policykb query is measured too")
    args = parser.parse_args()
    commands = dict(COMMANDS)
    for python in args.compare:
        commands[f"policykb query ({python})"] = [python, *COMMANDS["policykb query"][1:]]
    for name, command in commands.items():
        if name != FLOOR:
            subprocess.run(command, check=True, capture_output=True, cwd=tempfile.gettempdir())  # the cache, filled
    walls: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=tempfile.gettempdir())
            walls[name].append((time.perf_counter() - start) * 1000)
    medians = {name: statistics.median(times) for name, times in walls.items()}
    width = max(map(len, commands))
    for name, median in medians.items():
        ratio = f", {median / medians[FLOOR]:.2f}x the floor" if name != FLOOR else ""
        print(f"{name:>{width}}: wall median {median:.0f} ms, min {min(walls[name]):.0f}, "
              f"max {max(walls[name]):.0f} ms ({args.runs} runs){ratio}")
    print(f"ratio of medians {medians['policykb query'] / medians[FLOOR]:.2f}x")


if __name__ == "__main__":
    main()

"""How long `policykb diff` takes: the whole diff of each shipped policy with a revision of it.

Run: python benchmarks/diff_time.py [--repeat N]
Prints the best and median in-process time of diff_engines (parse both versions, ground them
together twice, enumerate the classes, one optimal example and the values of each class) for
CMICB_Clin086 against the draft of examples/drafts/, for each policy against itself (no
change), and the wall time of `policykb diff ... --against-kb` as a fresh process.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pyclingo_bridge.diff import diff_engines
from pyclingo_bridge.engine import PolicyEngine, engine_for
from pyclingo_bridge.knowledge_base import KnowledgeBase

DRAFT = Path(__file__).resolve().parent.parent / "examples" / "drafts" / "cmicb_clin086_v2"


def timed(before: PolicyEngine, after: PolicyEngine, repeat: int) -> tuple[list[float], int]:
    times, changes = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        changes = len(diff_engines(before, after).changes)
        times.append(time.perf_counter() - start)
    return times, changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    repeat = parser.parse_args().repeat
    pairs = [("CMICB_Clin086 -> examples/drafts draft", engine_for("CMICB_Clin086"), engine_for("CMICB_Clin086", DRAFT))]
    for policy_id in KnowledgeBase.installed().policy_folders():
        engine = engine_for(policy_id)
        pairs.append((f"{engine.policy.reference} -> itself", engine, engine))
    for name, before, after in pairs:
        times, changes = timed(before, after, repeat)
        print(f"diff {name}: best {min(times):.3f} s, median {statistics.median(times):.3f} s over {repeat} runs ({changes} classes)")
    walls = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pyclingo_bridge", "diff", "CMICB_Clin086", "--against-kb", str(DRAFT)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        walls.append(time.perf_counter() - start)
    print(f"policykb diff --against-kb as a process: best {min(walls):.3f} s, median {statistics.median(walls):.3f} s")


if __name__ == "__main__":
    main()

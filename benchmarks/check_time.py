"""How long `policykb check` takes: the whole check of each policy, in-process and as a command.

Run: python benchmarks/check_time.py [--repeat N]
Prints, per policy, the best and median in-process time of check_policy (parse, lint, ground,
verify), and the wall time of `policykb check --all` as a fresh process (Python start-up and
imports included), which is what an author waits for.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

from pyclingo_bridge.check import check_policy
from pyclingo_bridge.knowledge_base import KnowledgeBase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    repeat = parser.parse_args().repeat
    kb = KnowledgeBase.installed()
    for policy_id in kb.policy_folders():
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            report = check_policy(kb, policy_id)
            times.append(time.perf_counter() - start)
        print(
            f"check_policy {report.policy}: best {min(times):.3f} s, median {statistics.median(times):.3f} s "
            f"over {repeat} runs ({len(report.findings)} findings)"
        )
    command = shutil.which("policykb") or sys.argv[0]
    walls = []
    for _ in range(max(1, repeat // 2)):
        start = time.perf_counter()
        subprocess.run([command, "check", "--all"], check=False, capture_output=True)
        walls.append(time.perf_counter() - start)
    print(f"policykb check --all (fresh process): best {min(walls):.3f} s, median {statistics.median(walls):.3f} s")


if __name__ == "__main__":
    main()

"""How long `policykb check` takes: the whole check of each policy, in-process and as a command.

The fresh-process figures are per policy (``check --policy``, every version of it) and for
``check --all``.

Run: python benchmarks/check_time.py [--repeat N]
Prints, per policy, the best and median in-process time of check_policy (parse, lint, ground,
verify), the same for a copy of CMICB_Clin086 with a conflicting rule added (the check then
also optimises a counterexample), and the wall time of `policykb check --all` as a fresh
process (Python start-up and imports included), which is what an author waits for.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyclingo_bridge.check import check_policy
from pyclingo_bridge.engine import engine_for
from pyclingo_bridge.knowledge_base import KnowledgeBase

CONFLICT = (
    'rule(sciatica_imaged, "1.2", "Sciatica is imaged").\n'
    "conclusion(policy_statement, commissioned) :- label(sciatica_imaged), holds(sciatica, true).\n"
)


def timed(kb: KnowledgeBase, policy_id: str, repeat: int) -> tuple[list[float], int, str]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        report = check_policy(kb, policy_id)
        times.append(time.perf_counter() - start)
    return times, len(report.findings), report.policy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    repeat = parser.parse_args().repeat
    kb = KnowledgeBase.installed()
    for policy_id in kb.policy_folders():
        times, findings, name = timed(kb, policy_id, repeat)
        print(
            f"check_policy {name}: best {min(times):.3f} s, median {statistics.median(times):.3f} s "
            f"over {repeat} runs ({findings} findings)"
        )
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "kb"
        shutil.copytree(kb.root, root)
        (root / "policies/cmicb_clin086/conflict.lp").write_text(CONFLICT)
        times, findings, name = timed(KnowledgeBase(root), "CMICB_Clin086", repeat)
        print(
            f"check_policy {name} with a conflicting rule: best {min(times):.3f} s, "
            f"median {statistics.median(times):.3f} s over {repeat} runs ({findings} findings)"
        )
    # The CLI of the Python running this script (``policykb`` need not be on PATH): each policy
    # alone (every version of it), as an author checks the one being edited, then all of them.
    references = [engine_for(policy_id).policy.reference for policy_id in kb.policy_folders()]
    for arguments in [["--policy", reference] for reference in references] + [["--all"]]:
        command = [sys.executable, "-m", "pyclingo_bridge", "check", *arguments]
        walls = []
        for _ in range(max(1, repeat // 2)):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            walls.append(time.perf_counter() - start)
        print(f"policykb check {' '.join(arguments)} (fresh process): best {min(walls):.3f} s, median {statistics.median(walls):.3f} s")


if __name__ == "__main__":
    main()

"""In-process query latency of every policy with the explanation, against the same decision without it, and CLI wall time.

Run: python benchmarks/query_latency.py [--queries 1000] [--seed 7]

The inputs are drawn at random from the policy's own vocabulary, each fact left unknown with
probability 0.25, so both the one-solve (determined) and two-solve (undetermined) paths count.
The baseline is the engine's own decision without explanation (``decide_facts(...,
explain=False)``: what an audit row's new input and an answer without explanation compute,
the Decision included). Each timed input is new to both paths: inputs are checked for
contradictions on a separate engine and the warm-up uses other inputs, so that no per-input
memory (the closed-world weighing, the explanation's parts) answers a timed query from a
previous pass. A second pass over the same inputs is printed apart ("repeated").
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pyclingo_bridge import KnowledgeBase, PolicyEngine, Vocabulary, engine_for
from pyclingo_bridge.errors import InputError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "specialist-likely-to-change.json"


def random_facts(vocabulary: Vocabulary, rng: random.Random, unknown: float = 0.25) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for key, spec in vocabulary.specs.items():
        if rng.random() < unknown:
            continue
        if spec.type == "integer":
            assert spec.low is not None and spec.high is not None
            facts[key] = rng.randint(spec.low, min(spec.high, 100))
        elif spec.type == "decimal":
            assert spec.low is not None and spec.high is not None and spec.scale is not None
            facts[key] = rng.randint(spec.low, spec.high) / 10**spec.scale
        elif spec.type == "boolean":
            facts[key] = rng.random() < (0.5 if spec.world == "open" else 0.1)
        elif spec.type == "enum":
            facts[key] = rng.choice(spec.values)
        else:
            facts[key] = [] if rng.random() < 0.8 else rng.sample(spec.values, 1)
    return facts


def consistent(engine: PolicyEngine, facts: dict[str, Any]) -> bool:
    """Facts the KB does not refuse as contradictory (those are input errors, not queries)."""
    try:
        engine.decide_facts(engine.vocabulary.validate(facts), explain=False)
    except InputError:
        return False
    return True


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def time_interleaved(first: Any, second: Any, inputs: list[Any]) -> tuple[list[float], list[float]]:
    """Time both functions on each input in turn, so that background load hits both alike; the
    order alternates, since the second of two runs of one input finds the processor's caches warm."""
    times: tuple[list[float], list[float]] = ([], [])
    pairs = ((first, times[0]), (second, times[1]))
    for index, item in enumerate(inputs):
        for function, out in pairs if index % 2 == 0 else pairs[::-1]:
            start = time.perf_counter()
            function(item)
            out.append((time.perf_counter() - start) * 1000)
    return times


def plain_decider(engine: PolicyEngine) -> Any:
    """The same decision without the explanation, through the engine's own code.

    An earlier baseline solved a program grounded without the labels transformer at every
    integer value and built no Decision: once the engine's trace took integers at their
    representatives, that baseline did more solving than a decision without explanation
    does (2-7x the engine's own plain path on three policies) and less assembling. If the
    engine's plain path ever answers from a table of classes instead of solving, this must
    keep timing the solve (``decide_many(..., explain=False)`` without the table).
    """

    def decide(facts: dict[str, Any]) -> Any:
        return engine.decide_facts(engine.vocabulary.validate(facts), explain=False)

    return decide


def measure_policy(engine: PolicyEngine, queries: int, seed: int) -> None:
    """Median and p95 of an explained query against the same decision without it, for one policy."""
    rng = random.Random(seed)
    # A separate engine refuses contradictory inputs, so that the timed engine has not seen
    # them; the warm-up's inputs are others too.
    checker = PolicyEngine(engine.kb.policy_folder(engine.policy.id).name, engine.kb, engine.version)
    inputs = [facts for facts in (random_facts(engine.vocabulary, rng) for _ in range(queries)) if consistent(checker, facts)]
    warm = [facts for facts in (random_facts(engine.vocabulary, rng) for _ in range(50)) if consistent(checker, facts)]
    plain = plain_decider(engine)
    for facts in warm:  # each path's per-process state (grounded programs, read atoms)
        engine.decide(facts)
        plain(facts)

    traced, baseline = time_interleaved(engine.decide, plain, inputs)
    undetermined = [checker.decide(facts).status == "undetermined" for facts in inputs]
    print(f"{engine.policy.reference}: queries: {len(inputs)} ({sum(undetermined)} undetermined)")
    for name, picked in (("all", [True] * len(inputs)), ("determined", [not u for u in undetermined]),
                         ("undetermined", undetermined)):
        ours = [t for t, keep in zip(traced, picked) if keep]
        theirs = [t for t, keep in zip(baseline, picked) if keep]
        if not ours:
            continue
        print(f"{name:>12}: with explanation median {statistics.median(ours):.3f} ms, p95 {percentile(ours, 0.95):.3f} ms"
              f" | without median {statistics.median(theirs):.3f} ms, p95 {percentile(theirs, 0.95):.3f} ms"
              f" | ratio of medians {statistics.median(ours) / statistics.median(theirs):.2f}x")
    # The same inputs again: what a service answering a repeated input pays (the engine's
    # per-input memories answer part of the explained query). Not the measure of the goal.
    traced, baseline = time_interleaved(engine.decide, plain, inputs)
    print(f"{'repeated':>12}: with explanation median {statistics.median(traced):.3f} ms"
          f" | without median {statistics.median(baseline):.3f} ms"
          f" | ratio of medians {statistics.median(traced) / statistics.median(baseline):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cli-runs", type=int, default=20)
    args = parser.parse_args()

    for policy_id in KnowledgeBase.installed().policy_folders():
        measure_policy(engine_for(policy_id), args.queries, args.seed)

    walls, cpus = [], []
    for _ in range(args.cli_runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pyclingo_bridge", "query", "--policy", "CMICB_Clin086", str(EXAMPLE), "--format", "json"],
            check=True,
            capture_output=True,
            cwd=tempfile.gettempdir(),  # not the checkout: run the installed package, as a user does
        )
        walls.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)
    # CPU time is printed beside wall time: on a loaded machine it is the steadier figure.
    print(f"CLI (python -m pyclingo_bridge query, {args.cli_runs} runs): wall median {statistics.median(walls):.0f} ms,"
          f" max {max(walls):.0f} ms; CPU median {statistics.median(cpus):.0f} ms")


if __name__ == "__main__":
    main()

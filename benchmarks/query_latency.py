"""In-process query latency with the explanation, against a plain solve without it, and CLI wall time.

Run: python benchmarks/query_latency.py [--queries 1000] [--seed 7]

The inputs are drawn at random from the policy's own vocabulary, each fact left unknown with
probability 0.25, so both the one-solve (determined) and two-solve (undetermined) paths count.
The plain baseline solves the same program, grounded without the labels transformer, in the
same way (cautious, then brave when no status is certain) and reads only the statuses.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import clingo

from pyclingo_bridge import PolicyEngine, Vocabulary, engine_for
from pyclingo_bridge.engine import _input_keys, _InputLiterals
from pyclingo_bridge.solver import GroundProgram

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "specialist-likely-to-change.json"


def random_facts(vocabulary: Vocabulary, rng: random.Random, unknown: float = 0.25) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for key, spec in vocabulary.specs.items():
        if rng.random() < unknown:
            continue
        if spec.type == "integer":
            assert spec.low is not None and spec.high is not None
            facts[key] = rng.randint(spec.low, min(spec.high, 100))
        elif spec.type == "boolean":
            facts[key] = rng.random() < (0.5 if spec.world == "open" else 0.1)
        elif spec.type == "enum":
            facts[key] = rng.choice(spec.values)
        else:
            facts[key] = [] if rng.random() < 0.8 else rng.sample(spec.values, 1)
    return facts


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def time_each(function: Any, inputs: list[Any]) -> list[float]:
    times = []
    for item in inputs:
        start = time.perf_counter()
        function(item)
        times.append((time.perf_counter() - start) * 1000)
    return times


def plain_decider(engine: PolicyEngine) -> Any:
    """The same decision flow on the program without explanation rules: statuses only."""
    files = engine.kb.program_files(engine.policy.id)
    plain = _InputLiterals(GroundProgram(files, explain=False, shown={"status/1", "consistent/0"}))

    def decide(facts: dict[str, Any]) -> list[clingo.Symbol]:
        given = _input_keys(engine.vocabulary.validate(facts))
        symbols = plain.program.consequences(plain.assumptions(given), "cautious") or []
        if sum(1 for s in symbols if s.name == "status") != 1:
            symbols = plain.program.consequences(plain.assumptions(given), "brave") or []
        return symbols

    return decide


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cli-runs", type=int, default=20)
    args = parser.parse_args()

    engine = engine_for("CMICB_Clin086")
    rng = random.Random(args.seed)
    inputs = [random_facts(engine.vocabulary, rng) for _ in range(args.queries)]
    plain = plain_decider(engine)
    for facts in inputs[:50]:  # warm both paths' caches
        engine.decide(facts)
        plain(facts)

    traced = time_each(engine.decide, inputs)
    baseline = time_each(plain, inputs)
    undetermined = sum(engine.decide(facts).status == "undetermined" for facts in inputs)
    print(f"queries: {len(inputs)} ({undetermined} undetermined)")
    print(f"with explanation: median {statistics.median(traced):.3f} ms, p95 {percentile(traced, 0.95):.3f} ms")
    print(f"plain solve:      median {statistics.median(baseline):.3f} ms, p95 {percentile(baseline, 0.95):.3f} ms")
    print(f"ratio of medians: {statistics.median(traced) / statistics.median(baseline):.2f}x")

    walls = []
    for _ in range(args.cli_runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pyclingo_bridge", "query", str(EXAMPLE), "--format", "json"],
            check=True,
            capture_output=True,
        )
        walls.append((time.perf_counter() - start) * 1000)
    print(f"CLI wall time (python -m pyclingo_bridge query, {args.cli_runs} runs): "
          f"median {statistics.median(walls):.0f} ms, max {max(walls):.0f} ms")


if __name__ == "__main__":
    main()

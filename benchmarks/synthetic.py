"""Synthetic activity extracts drawn from a policy's vocabulary (no field name written here).

Each open-world fact is left out (unknown) with probability ``unknown``; closed-world facts
are mostly absent, as in a record where nothing was noted. Lists are mostly empty with
now and then one or two members, as red flags or core criteria are in routine data.
Integers are drawn uniformly over their declared range. Deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

from pyclingo_bridge.vocabulary import FactSpec, Vocabulary


def draw_value(spec: FactSpec, rng: random.Random, unknown: float) -> object:
    """A value of ``spec``, or ``...`` for absent."""
    if spec.world == "open" and rng.random() < unknown:
        return ...
    if spec.world == "closed" and rng.random() < 0.9:
        return ...
    if spec.type == "boolean":
        return rng.random() < 0.5
    if spec.type == "integer":
        assert spec.low is not None and spec.high is not None
        return rng.randint(spec.low, spec.high)
    if spec.type == "enum":
        return rng.choice(spec.values)
    members = rng.choices((0, 1, 2), weights=(85, 10, 5))[0]
    return rng.sample(spec.values, members)


def synthetic_rows(vocabulary: Vocabulary, count: int, seed: int = 4, unknown: float = 0.1) -> Iterator[dict[str, object]]:
    """``count`` rows of facts with ids ``r1``, ``r2``..."""
    rng = random.Random(seed)
    for number in range(1, count + 1):
        row: dict[str, object] = {"id": f"r{number}"}
        for key, spec in vocabulary.specs.items():
            value = draw_value(spec, rng, unknown)
            if value is not ...:
                row[key] = value
        yield row


def jsonl_lines(vocabulary: Vocabulary, count: int, seed: int = 4, unknown: float = 0.1, malformed: int = 0) -> Iterator[str]:
    """The rows as JSONL lines; ``malformed`` of them, spread evenly, are broken on purpose."""
    every = count // malformed if malformed else 0
    for number, row in enumerate(synthetic_rows(vocabulary, count, seed, unknown), start=1):
        if every and number % every == 0:
            kind = (number // every) % 3
            if kind == 0:
                yield '{"id": "broken", "age": \n'
            elif kind == 1:
                yield json.dumps({**row, "age": "forty"}) + "\n"
            else:
                yield json.dumps({**row, "colour": "blue"}) + "\n"
        else:
            yield json.dumps(row) + "\n"

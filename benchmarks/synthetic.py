"""Synthetic activity extracts drawn from a policy's vocabulary (no field name written here).

Shaped like routine data: each open-world fact is left out (unknown) now and then;
closed-world facts are mostly absent, as in a record where nothing was noted; lists are
mostly empty with now and then one or two members (red flags, core criteria are rare).
Integers are drawn uniformly over their declared range, enums and booleans uniformly.
Deterministic for a given seed. ``unknown`` and ``rare`` set how varied the rows are.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

from pyclingo_bridge.vocabulary import FactSpec, Vocabulary

UNKNOWN = 0.05
"""Share of rows in which an open-world fact is not recorded."""
RARE = 0.03
"""Share of rows with a closed-world flag set, or with a member in an open list."""


def draw_value(spec: FactSpec, rng: random.Random, unknown: float, rare: float) -> object:
    """A value of ``spec``, or ``...`` for absent.

    Open facts are absent (unknown) with probability ``unknown``; closed facts are present
    with probability ``rare`` (a flag or an exception noted in a record). A given open list
    is empty most of the time, else one or two members, each with probability ``rare``-ish.
    """
    if spec.world == "open" and rng.random() < unknown:
        return ...
    if spec.world == "closed" and rng.random() >= rare:
        return ...
    if spec.type == "boolean":
        return rng.random() < 0.5
    if spec.type == "integer":
        assert spec.low is not None and spec.high is not None
        return rng.randint(spec.low, spec.high)
    if spec.type == "decimal":
        assert spec.low is not None and spec.high is not None and spec.scale is not None
        return rng.randint(spec.low, spec.high) / 10**spec.scale  # JSON text as written: 28.4
    if spec.type == "enum":
        return rng.choice(spec.values)
    if spec.world == "closed":
        return rng.sample(spec.values, 1)
    members = rng.choices((0, 1, 2), weights=(1 - rare, 0.8 * rare, 0.2 * rare))[0]
    return rng.sample(spec.values, min(members, len(spec.values)))  # a list of one value takes at most it


DIVERSE_AGE_SPAN = 110
"""The diverse extract draws integers over at most this span from the low bound (ages 0-110)."""


def diverse_value(spec: FactSpec, rng: random.Random) -> object:
    """A value of the diverse extract, or ``...`` for absent: integers and decimals uniform
    over their range (at most 110 wide), booleans true, false or absent alike, enums
    uniform or absent, lists a uniform random subset of their members or absent."""
    if rng.random() < 1 / 3 and spec.type in ("boolean", "enum", "list"):
        return ...
    if spec.type == "boolean":
        return rng.random() < 0.5
    if spec.low is not None and spec.high is not None:
        if spec.type == "decimal":
            scale = 10 ** (spec.scale or 0)
            value = rng.randint(spec.low, min(spec.high, spec.low + DIVERSE_AGE_SPAN * scale))
            return value / scale
        return rng.randint(spec.low, min(spec.high, spec.low + DIVERSE_AGE_SPAN))
    if spec.type == "enum":
        return rng.choice(spec.values)
    return [member for member in spec.values if rng.random() < 0.5]


def diverse_rows(vocabulary: Vocabulary, count: int, seed: int = 4) -> Iterator[dict[str, object]]:
    """``count`` rows in which almost every row is a distinct input (issue 15)."""
    rng = random.Random(seed)
    for number in range(1, count + 1):
        row: dict[str, object] = {"id": f"r{number}"}
        for key, spec in vocabulary.specs.items():
            value = diverse_value(spec, rng)
            if value is not ...:
                row[key] = value
        yield row


def synthetic_rows(
    vocabulary: Vocabulary, count: int, seed: int = 4, unknown: float = UNKNOWN, rare: float = RARE
) -> Iterator[dict[str, object]]:
    """``count`` rows of facts with ids ``r1``, ``r2``..."""
    rng = random.Random(seed)
    for number in range(1, count + 1):
        row: dict[str, object] = {"id": f"r{number}"}
        for key, spec in vocabulary.specs.items():
            value = draw_value(spec, rng, unknown, rare)
            if value is not ...:
                row[key] = value
        yield row


def jsonl_lines(
    vocabulary: Vocabulary,
    count: int,
    seed: int = 4,
    unknown: float = UNKNOWN,
    rare: float = RARE,
    malformed: int = 0,
    diverse: bool = False,
) -> Iterator[str]:
    """The rows as JSONL lines (routine, or ``diverse``); ``malformed`` of them, spread
    evenly, are broken on purpose."""
    every = count // malformed if malformed else 0
    rows = diverse_rows(vocabulary, count, seed) if diverse else synthetic_rows(vocabulary, count, seed, unknown, rare)
    for number, row in enumerate(rows, start=1):
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

"""A table of answers keyed by input class: bounded by memory, kept on disk.

The audit decides each class of inputs (``classes.py``) once and keeps its answer here. The
table is bounded by an estimate of the bytes it holds, not by a number of entries, so that
an extract with many classes does not churn while the memory stays flat. It is saved per
knowledge base and package (a hash of the KB files and of the package's own modules) next
to the program cache, so that the next run of the same policy starts warm. The file is only
an optimisation: written to a temporary file and renamed into place, and a file that cannot
be read, was written for another KB or by another version, or holds anything but the
expected JSON is ignored (JSON, never pickle: a foreign file must not run code).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Generic, TypeVar

import orjson

from .program_cache import cache_dir

V = TypeVar("V")

DEFAULT_BUDGET = 64 * 1024 * 1024
"""Bytes of answers a process keeps (about 300,000 classes of audit answers)."""
FORMAT = 2
"""2: rows keyed by class code (class_codes.py) in flat lists, and refused classes kept."""
PACKAGE = Path(__file__).parent


class AnswerTable(Generic[V]):
    """A table of answers by class key, bounded by ``budget`` bytes at ``entry_bytes`` an
    entry (what an entry costs beside the answer, which classes share): the oldest first out,
    an eighth of the table at a time. Not the least recently used: marking each hit cost a
    warm row a few per cent, and the default budget holds about 335,000 classes, twice the
    165,000 that a million diverse rows of Clin086 meet (``benchmarks/audit.py``). A plain
    dictionary, in the order keys came: filled from a saved table three times as fast as an
    ``OrderedDict`` (10 against 33 ms for 51,000 classes), and emptied of its oldest keys a
    batch at a time, which keeps each drop cheap."""

    def __init__(self, entry_bytes: int, budget: int = DEFAULT_BUDGET) -> None:
        self.entry_bytes = entry_bytes
        self.budget = budget
        self.limit = max(1, budget // entry_bytes)
        """Entries the budget holds."""
        self._answers: dict[Hashable, V] = {}
        self.get: Callable[[Hashable], V | None] = self._answers.get
        """The answer of a key, or None: the dictionary's own lookup, at C speed (an audit
        looks up every row)."""

    def __len__(self) -> int:
        return len(self._answers)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._answers

    @property
    def held(self) -> int:
        """Bytes held, as estimated."""
        return len(self._answers) * self.entry_bytes

    def put(self, key: Hashable, answer: V) -> None:
        answers = self._answers
        if key in answers:
            return
        answers[key] = answer
        if len(answers) > self.limit:
            self._drop_oldest()

    def put_all(self, keys: Iterable[Hashable], answers: Iterable[V]) -> None:
        """Put many answers (a saved table: the later of a key given twice wins, in the place
        of the first), the oldest first out when the budget is spent."""
        self._answers.update(zip(keys, answers))
        if len(self._answers) > self.limit:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        """Down to seven eighths of the limit, the oldest keys first. One at a time, each drop
        would scan the slots its predecessors emptied at the front of the dictionary."""
        answers = self._answers
        excess = len(answers) - self.limit + self.limit // 8
        for key in list(itertools.islice(answers, excess)):
            del answers[key]

    def items(self) -> Iterator[tuple[Hashable, V]]:
        return iter(self._answers.items())


@functools.cache
def _package_digest() -> bytes:
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.digest()


def table_key(files: Sequence[Path], policy: str) -> str:
    """What a saved table depends on: the policy, its KB files and every module of the package
    (the answers are assembled by it)."""
    digest = hashlib.sha256(f"{FORMAT}\0{policy}\0".encode() + _package_digest())
    for path in files:
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


TABLE_ENV = "POLICYKB_TABLE_DIR"
"""Where saved tables go, when not beside the program cache (tests: one folder per test)."""


def table_kind(what: str, policy: str, version: str) -> str:
    """The kind of a saved file: what it holds, for one version of one policy (a newer KB or
    package saves the same kind under another key, and replaces it)."""
    return f"{what}-{policy}-{version}"


def table_path(key: str, kind: str) -> Path:
    folder = os.environ.get(TABLE_ENV)
    return (Path(folder) if folder else cache_dir()) / f"table-{kind}-{key[:32]}.json"


def load(key: str, kind: str) -> tuple[list[object], list[Hashable], list[int]]:
    """The saved table ``key``: its distinct outcomes (JSON values, as saved), and its rows as
    parallel lists of class keys and outcome indices; nothing at all when the file is
    missing, unreadable, foreign or malformed."""
    try:
        data = _read_json(table_path(key, kind).read_bytes())
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
            return [], [], []
        outcomes, keys, indices = data["outcomes"], data["keys"], data["outcome_of"]
        if not (type(outcomes) is list and type(keys) is list and type(indices) is list and len(keys) == len(indices)):
            return [], [], []
        # Checked a list at a time (a table holds tens of thousands of rows).
        if indices and not (set(map(type, indices)) == {int} and 0 <= min(indices) and max(indices) < len(outcomes)):
            return [], [], []
        kinds = set(map(type, keys))
        if not kinds <= {int, list}:
            return [], [], []
        # Class codes are ints, kept as they are; other keys are arrays, back to tuples.
        return outcomes, keys if list not in kinds else [k if type(k) is int else _tuples(k) for k in keys], indices
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return [], [], []


def _read_json(text: bytes) -> object:
    """JSON by orjson, three times as fast on a table of tens of thousands of rows; by the
    standard decoder when orjson cannot read it exactly (an integer beyond 64 bits, a class
    code of a large vocabulary, which orjson refuses or reads as a float)."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    if isinstance(data, dict) and isinstance(data.get("keys"), list) and float in set(map(type, data["keys"])):
        return json.loads(text)
    return data


def save(key: str, kind: str, outcomes: list[object], keys: list[Hashable], indices: list[int]) -> None:
    """Save the table (``save_json``). ``outcomes``: the distinct outcomes, JSON values; row
    ``n`` is class ``keys[n]``, whose outcome is ``outcomes[indices[n]]``."""
    save_json(table_path(key, kind), {"format": FORMAT, "key": key, "outcomes": outcomes, "keys": keys, "outcome_of": indices}, kind)


def save_json(path: Path, data: object, kind: str | None = None) -> None:
    """Save ``data`` as JSON atomically (a temporary file renamed into place); failures are
    ignored: what is saved here only spares work. With ``kind``, the files of that kind saved
    for other keys (an earlier KB or package) are removed: they would never be read again."""
    import tempfile  # only when saving: a warm audit saves nothing, and starts without it

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data, ensure_ascii=False)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        for stale in path.parent.glob(f"table-{kind}-*.json") if kind else ():
            if stale != path:
                stale.unlink(missing_ok=True)
    except (OSError, TypeError, ValueError):
        pass


def _tuples(value: object) -> Hashable:
    """JSON arrays back to the tuples a class key is made of."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    raise TypeError("not a class key")

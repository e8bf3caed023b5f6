"""Deciding the rows of a chunk: validate each row, decide each distinct input once, replay.

Every row is validated by :meth:`Vocabulary.validate` and decided by
:meth:`PolicyEngine.decide_facts` — the code of ``policykb query`` — so its status, clauses,
missing facts and explanation are those ``query`` gives for the same facts
(``tests/test_audit_identity.py`` checks it).

What makes an audit fast is that routine data repeats itself: rows whose validated facts are
the same have the same decision, apart from their ``id``. So each distinct input is decided
once and its answer, already serialized, is replayed for every later row with that input
(a bounded LRU cache, so memory stays flat however long the extract). Without
``--explain``, integers are compared by the interval they fall in between the knowledge
base's own ``threshold/2`` split points, the same classes the KB uses for unknown integers
(``representative/2`` in ``kb/core/inputs.lp``): the rules test integers only against those
thresholds. Likewise the value of a fact the KB declares no rule reads (``fact_not_read/2``)
does not matter, only whether it is given (an unknown fact is listed and may be asked for).
With ``--explain`` the explanation quotes values themselves, so values are exact.

A new input is decided by the engine itself (``PolicyEngine.decide_facts``); without
``--explain`` its solves show no trace atoms, which makes them cheaper and changes nothing else.
"""

from __future__ import annotations

import bisect
import json
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from ..decision import Decision
from ..engine import PolicyEngine
from ..errors import InputError, KnowledgeBaseError
from ..vocabulary import ID_FIELD, PatientFacts
from .reader import Chunk, RawRow, RowParser
from .summary import FOLLOW_UP_LIMIT, Tally

CACHE_SIZE = 8192
"""Distinct inputs remembered per process (a few kilobytes each at most)."""

_ABSENT = object()
_GIVEN = ("given",)


@dataclass(frozen=True)
class Answer:
    """A decided input: the JSON members every row with this input prints, and what the tally needs."""

    body: str
    status: str
    clauses: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class ChunkResult:
    """The output lines of a chunk (JSONL, in input order) and its tally."""

    lines: list[str]
    tally: Tally

    @property
    def text(self) -> str:
        return "".join(self.lines)


def answer_fields(decision: Decision, explain: bool) -> dict[str, object]:
    """The members of a decision an audit row prints, as ``policykb query --format json`` prints them."""
    data = decision.to_dict()
    fields = {key: data[key] for key in ("status", "clauses", "missing")}
    if explain:
        fields["explanation"] = data["explanation"]
    return fields


class Auditor:
    """Decides chunks of raw rows under one engine, remembering decided inputs."""

    def __init__(
        self,
        engine: PolicyEngine,
        parser: RowParser,
        explain: bool = False,
        cache_size: int = CACHE_SIZE,
        follow_up_limit: int = FOLLOW_UP_LIMIT,
    ) -> None:
        self.engine = engine
        self.parser = parser
        self.explain = explain
        self.cache_size = cache_size
        self.follow_up_limit = follow_up_limit
        self.decided = 0
        """Inputs actually solved (cache misses), for the benchmark."""
        self._positions = {name: index for index, name in enumerate(engine.vocabulary.specs)}
        self._absent = (_ABSENT,) * len(self._positions)
        self._splits = {} if explain else _integer_splits(engine)
        self._not_read = frozenset() if explain else _not_read(engine)
        self._cache: OrderedDict[Hashable, Answer] = OrderedDict()

    def decide_chunk(self, chunk: Chunk) -> ChunkResult:
        """Decide every row of ``chunk``; a bad row becomes an error line, never an exception."""
        tally = Tally(limit=self.follow_up_limit)
        lines = [self._row(number, raw, tally) for number, raw in chunk]
        return ChunkResult(lines, tally)

    def _row(self, number: int, raw: RawRow, tally: Tally) -> str:
        parsed: object = None
        try:
            parsed = self.parser.parse(raw)
            facts, key = self._validated(parsed)
            answer = self._answer(facts, key)
        except (InputError, KnowledgeBaseError) as error:
            record_id = _id_of(parsed, number)
            message = _error_message(number, error)
            tally.add_error(number, record_id, message)
            fields = list(error.fields) if isinstance(error, InputError) else []
            return json.dumps({"row": number, "id": record_id, "error": message, "fields": fields}, ensure_ascii=False) + "\n"
        record_id = facts.record_id if facts.record_id is not None else number
        tally.add_decision(number, record_id, answer.status, answer.clauses, answer.missing)
        return f'{{"row": {number}, "id": {json.dumps(record_id, ensure_ascii=False)}, {answer.body}}}\n'

    def _validated(self, parsed: object) -> tuple[PatientFacts, Hashable]:
        """``Vocabulary.validate(parsed)`` and the answer key of its facts. (Remembering
        validation by a row's typed members was measured slower than validating again.)"""
        facts = self.engine.vocabulary.validate(parsed)
        return facts, self._key(facts)

    def _answer(self, facts: PatientFacts, key: Hashable) -> Answer:
        cache = self._cache
        answer = cache.get(key)
        if answer is not None:
            cache.move_to_end(key)
            return answer
        decision = self._decide(facts)
        body = json.dumps(answer_fields(decision, self.explain), ensure_ascii=False)[1:-1]
        answer = Answer(body, decision.status, decision.clauses, tuple(m.fact for m in decision.missing))
        cache[key] = answer
        if len(cache) > self.cache_size:
            cache.popitem(last=False)
        return answer

    def _decide(self, facts: PatientFacts) -> Decision:
        self.decided += 1
        return self.engine.decide_facts(facts, explain=self.explain)

    def _key(self, facts: PatientFacts) -> Hashable:
        # Position by vocabulary order, so that the same facts give the same key whatever
        # order the row listed them in.
        key: list[object] = list(self._absent)
        positions = self._positions
        for name, value in facts.given.items():
            if name in self._splits:
                key[positions[name]] = ("interval", bisect.bisect_right(self._splits[name], value))
            elif name in self._not_read:
                key[positions[name]] = _GIVEN
            else:
                key[positions[name]] = value
        return tuple(key)


def _integer_splits(engine: PolicyEngine) -> dict[str, Sequence[int]]:
    """Each integer fact's threshold values, sorted: the points where a rule's test can change."""
    splits: dict[str, set[int]] = {key: set() for key, spec in engine.vocabulary.specs.items() if spec.type == "integer"}
    for atom in engine.program.facts("threshold", 2):
        key, value = atom.arguments
        if key.name in splits:
            splits[key.name].add(value.number)
    return {key: sorted(values) for key, values in splits.items()}


def _not_read(engine: PolicyEngine) -> frozenset[str]:
    """Facts that, by the KB's ``fact_not_read/2``, no rule reads: only whether they are given matters."""
    return frozenset(str(atom.arguments[0]) for atom in engine.program.facts("fact_not_read", 2))


def _id_of(parsed: object, number: int) -> str | int:
    if isinstance(parsed, dict):
        record_id = parsed.get(ID_FIELD)
        if isinstance(record_id, str):
            return record_id
    return number


def _error_message(number: int, error: InputError | KnowledgeBaseError) -> str:
    if isinstance(error, InputError):
        return f"row {number}: " + "; ".join(str(problem) for problem in error.problems)
    return f"row {number}: knowledge base fault: {error}"

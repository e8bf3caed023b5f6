"""Deciding the rows of a chunk: validate each row, decide each distinct input once, replay.

Every row is checked by the vocabulary's own converters (:meth:`Vocabulary.validate`, or for a
plain row :meth:`ClassCodes.of_row`, which runs the same converters and leaves anything else
to validation) and decided by :meth:`PolicyEngine.decide_many` — the code of ``policykb
query``, for a batch — so its status, clauses, missing facts and explanation are those
``query`` gives for the same facts (``tests/test_audit_identity.py`` and
``tests/test_table_identity.py`` check it). The one exception is a row whose text is an
earlier row's under another id (``RowParser.split_id``): the same text is the same facts,
already validated and decided, so it gets that row's answer without being parsed again.

What makes an audit fast is that the rules tell few inputs apart. Without ``--explain``, rows
of one input class (``classes.py``: integers by their interval between thresholds, values
and list members no rule tells apart, a closed-world default given explicitly as absent)
have the same answer apart from their ``id``, so each class is decided once and its answer,
already serialized, is replayed for every later row of the class. The answers are held by
class code (``class_codes.py``) in a table bounded by memory (``table.py``), which
``policykb audit`` saves for the next run, refused classes included. With ``--explain`` the
explanation quotes values themselves, so values are exact.

A chunk's new inputs are decided together by the engine (``PolicyEngine.decide_many``,
which is ``decide_facts`` for each); without
``--explain`` its solves show no trace atoms, which makes them cheaper and changes nothing else.
Answers decided by another worker arrive through :meth:`Auditor.learn`.
"""

from __future__ import annotations

import itertools
import json
import json.encoder
import operator
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import table
from ..class_codes import ClassCodes
from ..classes import AUDIT_ATOMS, classes_for
from ..decision import Decision
from ..engine import PolicyEngine
from ..errors import FieldProblem, InputError, KnowledgeBaseError
from ..settled import Pattern, SettledPatterns
from ..vocabulary import ID_FIELD, PatientFacts, is_text
from .reader import Chunk, RawRow, RowParser
from .summary import FOLLOW_UP_LIMIT, FOLLOW_UP_STATUSES, Tally

INTERNED_LIMIT = 65536
"""Distinct answer texts shared among classes (a few per status in practice)."""
ENTRY_BYTES = 200
"""What one class of the table costs beside the answer it shares with other classes
(measured with an int key and a reference to an interned answer; the answers' texts are
held once each, ``INTERNED_LIMIT``)."""
CACHE_BUDGET = table.DEFAULT_BUDGET
"""Bytes of decided answers remembered per process, at ``ENTRY_BYTES`` an entry (bounded by
memory, not by a count: a varied extract's classes all fit, so none is decided twice)."""
TEXT_CACHE_SIZE = 16384
"""Row texts (without their id) per generation of the table that remembers them: a process
holds at most two generations, a few hundred bytes a text."""
TEXT_TRIAL = 2048
"""Rows a process looks up by text before it judges whether that pays: when fewer than one
in ``TEXT_PAYS`` was found, it stops (a varied extract repeats no row's text, and cutting
and remembering each text costs about what parsing the row does). A routine extract has
found hundreds by then; 8,192 had each worker of a varied 100,000 rows try a sixth of its
rows in vain."""
TEXT_PAYS = 16

_json_string = json.encoder.encode_basestring
"""A str as a JSON string with ensure_ascii=False (json.dumps without its per-call set-up)."""

_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}
"""What ``str.splitlines`` and other line-splitting readers cut a line at, besides what
json.dumps escapes already (\\n, \\r and the other C0 controls): JSON lets a string hold
them raw, so a record holding one would be cut in two."""


def _one_line(json_text: str) -> str:
    """JSON text (ensure_ascii=False) with U+0085, U+2028 and U+2029 escaped; they can only
    be inside strings, where the escape means the same. ASCII text is returned as it is."""
    return json_text if json_text.isascii() else json_text.translate(_LINE_BREAKS)


@dataclass(frozen=True)
class Answer:
    """A decided input: the JSON members every row with this input prints, and what the tally needs."""

    body: str
    status: str
    clauses: tuple[str, ...]
    missing: tuple[str, ...]
    follow_up: bool
    """A status whose rows the report lists."""


Learned = tuple[Hashable, "Answer | tuple[FieldProblem, ...]"]
"""A class first decided by a worker: its answer, or the problems of its refusal (an
InputError does not survive pickling whole); or a settled pattern (``settled.py``) and its answer."""


@dataclass(frozen=True)
class ChunkResult:
    """The output of a chunk (JSONL, in input order), its tally, and the inputs first
    decided for it (shared with the other workers, so that they need not decide them again).

    The output travels as each row's head (``{"row": N, "id": ...,``; an error row's whole
    line) and the index of its tail among the chunk's distinct ``tails`` (an answer's
    members; 0, empty, for an error row), and is joined where it is written (``text``): an
    answer line is about 480 bytes, most of them its answer's, and a worker's whole lines
    crossed the pipe to the parent at ten times the size of the rows."""

    heads: list[str]
    tails: list[str]
    which: list[int]
    tally: Tally
    learned: list[Learned]
    written: bool = False
    """Written to the output by the worker that decided it (no text left here)."""

    @property
    def text(self) -> str:
        pieces: list[str] = [""] * (2 * len(self.heads))
        pieces[::2] = self.heads
        pieces[1::2] = map(self.tails.__getitem__, self.which)
        return "".join(pieces)


def answer_fields(decision: Decision, explain: bool) -> dict[str, object]:
    """The members of a decision an audit row prints, as ``policykb query --format json`` prints them."""
    data = decision.to_dict()
    fields = {key: data[key] for key in ("status", "clauses", "missing", "provenance")}
    if explain:
        fields["explanation"] = data["explanation"]
    return fields


_ReadRow = tuple[int, "str | None", Any, "Hashable | None"]
"""A row after the first pass (``Auditor._read``): number, id, outcome, text without the id.
A plain tuple: one is built per row."""


class Auditor:
    """Decides chunks of raw rows under one engine, remembering decided inputs."""

    def __init__(
        self,
        engine: PolicyEngine,
        parser: RowParser,
        explain: bool = False,
        cache_budget: int = CACHE_BUDGET,
        follow_up_limit: int = FOLLOW_UP_LIMIT,
    ) -> None:
        self.engine = engine
        self.parser = parser
        self.explain = explain
        self.follow_up_limit = follow_up_limit
        self._reducers = _reducers(engine, explain)
        self._codes = None if explain else ClassCodes(classes_for(engine, AUDIT_ATOMS), engine.vocabulary, default_is_absent=True)
        """Class codes (one int per class) for rows without ``--explain``."""
        self._patterns: SettledPatterns[Answer] | None = None if self._codes is None else SettledPatterns(engine, self._codes.places)
        """Settled answers widened to the classes that agree on what they rest on."""
        # None marks a fact not given (validation never keeps a null); keys pickle as they are,
        # since workers pass them to each other.
        self._absent = (None,) * len(self._reducers)
        self._cache: table.AnswerTable[Answer] = table.AnswerTable(ENTRY_BYTES, cache_budget)
        """Answers by input class (``classes.py``; by exact facts with ``--explain``)."""
        self._learned: list[Learned] = []
        self._interned: dict[str, Answer] = {}
        self._refused: dict[Hashable, InputError | KnowledgeBaseError] = {}
        """Classes whose facts the KB refuses (a contradiction), or could not decide."""
        self._rendered_errors: dict[int, tuple[InputError | KnowledgeBaseError, str]] = {}
        """Each error's line after its row's number (refused classes' errors recur)."""
        self._loaded = 0
        # Answers by row text without the id (RowParser.split_id): a repeated row is answered
        # without parsing and validating it again. Two generations keep memory bounded: when
        # the newer is full it becomes the older, and a text found in the older moves back
        # (emptying the table instead parsed a quarter more rows on two workers).
        self._by_text: dict[Hashable, Answer] = {}
        self._by_text_older: dict[Hashable, Answer] = {}
        self._undetermined = 0
        self._determined = 0
        """Classes the engine decided undetermined, and otherwise (``_decide``)."""
        self._texts_tried = 0
        """Rows not found by their text (-1: texts are no longer tried, ``TEXT_TRIAL``)."""
        self._texts_found = 0

    def decide_chunk(self, chunk: Chunk, room: Mapping[str, int] | None = None) -> ChunkResult:
        """Decide every row of ``chunk``; a bad row becomes an error line, never an exception.
        ``room``: the follow-up rows of each kind the audit still wants (all by default).

        In three passes: read every row, decide the chunk's new inputs together
        (``PolicyEngine.decide_many``), then write the lines in order. Solving in one run
        keeps the solvers' data in the processor's caches (interleaved with reading rows, each
        solve took about 40 % longer)."""
        tally = Tally(limit=self.follow_up_limit, room=room or {})
        self._learned = []
        new: dict[Hashable, PatientFacts] = {}
        refusals_before = 0 if self._patterns is None else self._patterns.refusals_solved
        matched_before = 0 if self._patterns is None else self._patterns.matched
        rows = self._read_all(chunk, new)
        decided, tally.solved = self._decide(new)
        if self._patterns is not None:
            tally.solved += self._patterns.refusals_solved - refusals_before
            tally.by_pattern = self._patterns.matched - matched_before
        # Rows are counted by answer and added to the tally once per chunk: a dictionary
        # increment per row instead of updating the counters.
        uses: dict[int, list[Any]] = {}
        heads: list[str] = []
        tails = [""]
        which: list[int] = []
        add_head, add_which, use_of = heads.append, which.append, uses.get
        for number, record_id, outcome, text in rows:
            if type(outcome) is not Answer:
                if not isinstance(outcome, Exception):  # the key of an input decided above
                    outcome = decided[outcome]
                    if text is not None and type(outcome) is Answer:
                        self._remember_text(text, outcome)
                if isinstance(outcome, (InputError, KnowledgeBaseError)):
                    add_head(self._error_line(number, number if record_id is None else record_id, outcome, tally))
                    add_which(0)
                    continue
            # The head of a decided row's line; its answer's members are its tail, once a chunk.
            use = use_of(id(outcome))
            if use is None:
                use = uses[id(outcome)] = [outcome, 1, len(tails)]
                tails.append(outcome.body + "}\n")
            else:
                use[1] += 1
            add_which(use[2])
            if outcome.follow_up and tally.wants(outcome.status):
                tally.follow(number, number if record_id is None else record_id, outcome.status, outcome.clauses, outcome.missing)
            shown_id = number if record_id is None else _one_line(_json_string(record_id))
            add_head(f'{{"row": {number}, "id": {shown_id}, ')
        for answer, count, _ in uses.values():
            tally.add_decisions(answer.status, answer.clauses, count)
        return ChunkResult(heads, tails, which, tally, self._learned)

    def _decide(self, new: Mapping[Hashable, PatientFacts]) -> tuple[dict[Hashable, Answer | InputError | KnowledgeBaseError], int]:
        """The answers of a chunk's new inputs, and how many the engine decided. With class
        codes each is decided in turn, and a settled one widened to a pattern (``settled.py``)
        that may answer the next ones; otherwise all are decided together (the solvers' data
        then stays in the processor's caches)."""
        # The rows print no assumptions: no solves to weigh them.
        patterns = self._patterns
        if patterns is None:
            decisions = self.engine.decide_many(list(new.values()), explain=self.explain, weigh_assumptions=False)
            return {key: self._answer(key, decision) for key, decision in zip(new, decisions)}, len(new)
        decided: dict[Hashable, Answer | InputError | KnowledgeBaseError] = {}
        matched = 0
        for key, facts in new.items():
            # A pattern widened from an earlier class of this chunk may answer it now.
            found = patterns.find(key) if type(key) is int else None
            if found is not None:
                self._cache.put(key, found)
                self._learned.append((key, found))
                decided[key] = found
                matched += 1
                continue
            # Brave solve first while most classes the engine decides are undetermined: one
            # solve each instead of two (the same answers, ``decide_many``).
            brave_first = self._undetermined > self._determined
            decision = self.engine.decide_many([facts], explain=False, weigh_assumptions=False, brave_first=brave_first)[0]
            if isinstance(decision, Decision):
                if decision.status == "undetermined":
                    self._undetermined += 1
                else:
                    self._determined += 1
            answer = decided[key] = self._answer(key, decision)
            if type(key) is int and type(answer) is Answer and _settled(decision):
                pattern = patterns.widen(facts, key, answer.status, answer.clauses, answer)
                if pattern is not None:
                    self._learned.append((pattern, answer))
        return decided, len(new) - matched

    def learn(self, answers: Iterable[Learned]) -> None:
        """Remember answers another worker decided (same knowledge base, same keys), and the
        classes it found refused."""
        put, intern = self._cache.put, self._intern
        for key, answer in answers:
            if type(key) is Pattern:
                if self._patterns is not None:
                    self._patterns.add(key, intern(answer))  # type: ignore[arg-type]
            elif type(answer) is Answer:
                put(key, intern(answer))
            else:
                self._refuse(key, InputError(list(answer)))  # type: ignore[arg-type]

    def load_table(self) -> None:
        """Start from the answers and refusals a previous run of this policy saved (none with
        ``--explain``)."""
        if self.explain:
            return
        outcomes, keys, indices = table.load(self._table_key(), self._table_kind())
        try:
            made = [_saved_outcome(outcome) for outcome in outcomes]
        except (TypeError, ValueError):
            return  # not a table this code wrote: ignored, as a corrupt file is
        made = [self._intern(o) if type(o) is Answer else o for o in made]
        # Refused classes set apart and both kinds put in one go, each list at C speed.
        refused = [type(outcome) is not Answer for outcome in made]
        if any(refused):
            is_refused = list(map(refused.__getitem__, indices))
            refusals = zip(itertools.compress(keys, is_refused), map(made.__getitem__, itertools.compress(indices, is_refused)))
            self._refused.update(itertools.islice(refusals, max(0, INTERNED_LIMIT - len(self._refused))))  # type: ignore[arg-type]
            answered = list(map(operator.not_, is_refused))
            keys, indices = list(itertools.compress(keys, answered)), list(itertools.compress(indices, answered))
        self._cache.put_all(keys, map(made.__getitem__, indices))  # type: ignore[arg-type]
        self._loaded = len(self._cache) + len(self._refused)

    def save_table(self) -> None:
        """Save the answers and refusals held for the next run, when it learned any (none with
        ``--explain``: explanations quote values)."""
        if self.explain or len(self._cache) + len(self._refused) == self._loaded:
            return
        index: dict[object, int] = {}
        outcomes: list[object] = []
        keys: list[Hashable] = []
        indices: list[int] = []
        held: list[tuple[Hashable, Answer | InputError | KnowledgeBaseError]] = [*self._cache.items(), *self._refused.items()]
        for key, outcome in held:
            if isinstance(outcome, KnowledgeBaseError):
                continue  # a fault of the KB, not of the facts: decided again next time
            # One entry per distinct outcome: answers are interned, but each refused class
            # has an error object of its own.
            said: object = outcome.body if type(outcome) is Answer else outcome.problems  # type: ignore[union-attr]
            if said not in index:
                index[said] = len(outcomes)
                outcomes.append(_outcome_fields(outcome))
            keys.append(key)
            indices.append(index[said])
        table.save(self._table_key(), self._table_kind(), outcomes, keys, indices)

    @property
    def cache(self) -> table.AnswerTable[Answer]:
        return self._cache

    @property
    def loaded(self) -> int:
        """Classes answered or refused by the saved table ``load_table`` read."""
        return self._loaded

    def _intern(self, answer: Answer) -> Answer:
        """One object per distinct answer: many classes share one (a status, its clauses and
        missing facts), and the table then holds each answer's text once."""
        if len(self._interned) > INTERNED_LIMIT:
            self._interned.clear()
        return self._interned.setdefault(answer.body, answer)

    def _table_kind(self) -> str:
        return table.table_kind("audit", self.engine.policy.reference, self.engine.policy.version)

    def _table_key(self) -> str:
        return table.table_key(self.engine.files, self.engine.policy.reference)

    def _read_all(self, chunk: Chunk, new: dict[Hashable, PatientFacts]) -> list[_ReadRow]:
        """Every row of ``chunk`` read (``_read``). Once texts are no longer looked up, a
        plain row whose class is in the table, or refused, takes a shorter way first: the
        same steps (``parse_plain``, ``of_row``, the table), without a call per row to
        ``_read``, which takes every other row."""
        codes = self._codes
        if codes is None or self._texts_tried >= 0:
            return [self._read(number, raw, new) for number, raw in chunk]
        rows: list[_ReadRow] = []
        append, read, of_row, get, parse_plain = rows.append, self._read, codes.of_row, self._cache.get, self.parser.parse_plain
        refused = self._refused.get
        for number, raw in chunk:
            plain = parse_plain(raw)
            coded = None if plain is None else of_row(plain)
            # An answer, else a refusal (facts that contradict each other), else the long way.
            outcome = None if coded is None else get(coded[0]) or refused(coded[0])
            append(read(number, raw, new, coded) if outcome is None else (number, coded[1], outcome, None))  # type: ignore[index]
        return rows

    def _read(self, number: int, raw: RawRow, new: dict[Hashable, PatientFacts], coded: tuple[int, str | None] | None = None) -> _ReadRow:
        """A row's number, id, outcome so far and text without the id (kept when the row is a
        new input, so that its answer is remembered by text too). The outcome is the answer
        of an input decided before, the key of a new input (collected in ``new``), or the
        error of a bad row (with its id when it has a usable one). ``coded``: the class code
        and id ``_read_all`` found for a plain row already."""
        split = self.parser.split_id(raw) if self._texts_tried >= 0 and coded is None else None
        if split is not None:
            answer = self._by_text.get(split[0]) or self._text_seen_before(split[0])
            if answer is not None:  # the text of an earlier row under another id: the same facts
                self._texts_found += 1
                return number, split[1], answer, None
            self._texts_tried += 1
            if self._texts_tried == TEXT_TRIAL and self._texts_found * TEXT_PAYS < TEXT_TRIAL:
                self._texts_tried = -1  # no more texts cut or remembered by this process
                self._by_text, self._by_text_older = {}, {}
        parsed: object = None
        facts: PatientFacts | None = None
        codes = self._codes
        # A plain row is read the fast way and coded without building its facts; any other is
        # read strictly and validated (a decimal: read exactly, never through a float).
        if coded is None and codes is not None:
            plain = self.parser.parse_plain(raw)
            if plain is not None:
                coded = codes.of_row(plain)
        try:
            if coded is None:
                parsed = self.parser.parse(raw)
                coded = codes.of_row(parsed) if codes is not None and type(parsed) is dict else None
            if coded is None:
                facts = self.engine.vocabulary.validate(parsed)
                key, record_id = self._key(facts), facts.record_id
            else:
                key, record_id = coded
        except InputError as error:
            return number, _id_of(parsed), error, None
        answer = self._cache.get(key)
        if answer is None:
            refused = self._refused.get(key)
            if refused is not None:
                return number, record_id, refused, None
        if answer is None and self._patterns is not None and type(key) is int:
            found = self._without_solve(key, lambda: self._strict_facts(facts, raw, parsed))
            if isinstance(found, InputError):
                return number, record_id, found, None
            answer = found
        if answer is None:
            if key not in new:
                # The engine decides the strictly read facts (read the fast way, a row has none
                # that differ; read again all the same, once per new class).
                new[key] = self._strict_facts(facts, raw, parsed)
            return number, record_id, key, None if split is None else split[0]
        if split is not None:
            self._remember_text(split[0], answer)
        return number, record_id, answer, None

    def _strict_facts(self, facts: PatientFacts | None, raw: RawRow, parsed: object) -> PatientFacts:
        """A row's facts as the engine decides them: the validated ones, else the row read
        strictly (``parsed``, or its text) and validated."""
        return facts or self.engine.vocabulary.validate(self.parser.parse(raw) if parsed is None else parsed)

    def _without_solve(self, key: int, facts: Callable[[], PatientFacts]) -> Answer | InputError | None:
        """The refusal or the answer of a new class that the settled patterns give
        (``settled.py``), remembered; None when the engine must decide it."""
        patterns = self._patterns
        assert patterns is not None
        refused = patterns.refusal(key, facts)
        if isinstance(refused, InputError):
            self._refuse(key, refused)
            self._learned.append((key, refused.problems))
            return refused
        answer = patterns.find(key) if refused is None else None
        if answer is not None:
            self._cache.put(key, answer)
            self._learned.append((key, answer))
        return answer

    def _error_line(self, number: int, failed_id: str | int, error: InputError | KnowledgeBaseError, tally: Tally) -> str:
        # The message itself only for a row the tally keeps: a refused class recurs by the thousand.
        tally.add_error(number, failed_id, lambda: _writable(_error_message(number, error)))
        rendered = self._rendered_errors.get(id(error))
        if rendered is None or rendered[0] is not error:
            # The line after its row's number, rendered once per error: a refused class's
            # error stands for every row of the class. "row N: " needs no JSON escape.
            fields = [_writable(field) for field in error.fields] if isinstance(error, InputError) else []
            text = _one_line(json.dumps({"error": _writable(_error_message(0, error)), "fields": fields}, ensure_ascii=False))
            rendered = (error, text[len('{"error": "row 0: '):])
            if len(self._rendered_errors) >= INTERNED_LIMIT:
                self._rendered_errors.clear()
            self._rendered_errors[id(error)] = rendered
        shown_id = number if isinstance(failed_id, int) else _one_line(_json_string(failed_id))
        return f'{{"row": {number}, "id": {shown_id}, "error": "row {number}: {rendered[1]}\n'

    def _text_seen_before(self, text: Hashable) -> Answer | None:
        answer = self._by_text_older.get(text)
        if answer is not None:
            self._remember_text(text, answer)
        return answer

    def _remember_text(self, text: Hashable, answer: Answer) -> None:
        if self._texts_tried < 0:
            return
        if len(self._by_text) >= TEXT_CACHE_SIZE:
            self._by_text_older = self._by_text
            self._by_text = {}
        self._by_text[text] = answer

    def _answer(
        self, key: Hashable, decision: Decision | KnowledgeBaseError | InputError
    ) -> Answer | KnowledgeBaseError | InputError:
        """The answer of a new input, remembered (or the knowledge-base fault it met, or the
        contradiction among its facts)."""
        if isinstance(decision, (KnowledgeBaseError, InputError)):
            # Facts that contradict each other: the KB's contradiction/2, read alike by every
            # input of the class (classes.py keeps it fixed), so refused alike.
            self._refuse(key, decision)
            if isinstance(decision, InputError):
                self._learned.append((key, decision.problems))
            return decision
        body = _one_line(json.dumps(answer_fields(decision, self.explain), ensure_ascii=False))[1:-1]
        missing = tuple(m.fact for m in decision.missing)
        answer = Answer(body, decision.status, decision.clauses, missing, decision.status in FOLLOW_UP_STATUSES)
        answer = self._intern(answer)
        self._cache.put(key, answer)
        self._learned.append((key, answer))
        return answer

    def _refuse(self, key: Hashable, error: InputError | KnowledgeBaseError) -> None:
        if len(self._refused) >= INTERNED_LIMIT:
            self._refused.clear()
        self._refused[key] = error

    def _key(self, facts: PatientFacts) -> Hashable:
        if self._codes is not None:
            code = self._codes.of_facts(facts)
            if code is not None:
                return code
        # Position by vocabulary order, so that the same facts give the same key whatever
        # order the row listed them in.
        key: list[object] = list(self._absent)
        reducers = self._reducers
        for name, value in facts.given.items():
            position, reduce = reducers[name]
            key[position] = value if reduce is None else reduce(value)
        return tuple(key)


def _settled(decision: Decision | InputError | KnowledgeBaseError) -> bool:
    """A decision whose status and deciding clauses are both certain."""
    return isinstance(decision, Decision) and decision.status != "undetermined" and not decision.clauses_depend_on_unknowns


def _reducers(engine: PolicyEngine, explain: bool) -> dict[str, tuple[int, Callable[[Any], object] | None]]:
    """Each fact's position in a key and what of its value the key keeps (None: all of it).

    Without ``--explain``, by the input classes derived from the KB (``classes.py``): a
    number by its interval between thresholds, a value or list member by its class of values
    no rule tells apart, a fact no rule reads only as given, a closed-world default given
    explicitly as absent. An audit row shows no advice: values only advice tells apart are
    one class here (``AUDIT_ATOMS``). With ``--explain`` the explanation quotes values: all of each.
    """
    if not explain:
        return classes_for(engine, AUDIT_ATOMS).reducers
    return {name: (position, None) for position, name in enumerate(engine.vocabulary.specs)}


def _outcome_fields(outcome: Answer | InputError) -> list[object]:
    """A decided class's outcome as the saved table holds it (JSON)."""
    if isinstance(outcome, InputError):
        return ["refused", [[problem.field, problem.message] for problem in outcome.problems]]
    return ["answer", outcome.body, outcome.status, list(outcome.clauses), list(outcome.missing), outcome.follow_up]


def _saved_outcome(fields: object) -> Answer | InputError:
    """The outcome a saved table holds; TypeError when it is not one this code wrote."""
    if type(fields) is list and len(fields) == 2 and fields[0] == "refused":
        problems = fields[1]
        if type(problems) is list and problems and all(
            type(p) is list and len(p) == 2 and type(p[0]) is str and type(p[1]) is str for p in problems
        ):
            return InputError([FieldProblem(field, message) for field, message in problems])
        raise TypeError("not a refusal")
    if not (type(fields) is list and len(fields) == 6 and fields[0] == "answer"):
        raise TypeError("not an answer")
    _, body, status, clauses, missing, follow_up = fields
    if not (type(body) is str and type(status) is str and type(follow_up) is bool and isinstance(clauses, list) and isinstance(missing, list)):
        raise TypeError("not an answer")
    if not all(type(x) is str for x in [*clauses, *missing]):
        raise TypeError("not an answer")
    return Answer(body, status, tuple(clauses), tuple(missing), follow_up)


def _id_of(parsed: object) -> str | None:
    """The id of a row that failed validation, when it has a usable one."""
    if isinstance(parsed, dict):
        record_id = parsed.get(ID_FIELD)
        if isinstance(record_id, str) and is_text(record_id):
            return record_id
    return None


def _writable(text: str) -> str:
    """``text`` with any lone surrogate (a JSON escape such as \\ud800 in a bad row's field
    name) spelled as that escape, so that the error line can be written as UTF-8."""
    return text if is_text(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


def _error_message(number: int, error: InputError | KnowledgeBaseError) -> str:
    if isinstance(error, InputError):
        return f"row {number}: {error}"  # at most 20 problems (errors.py)
    return f"row {number}: knowledge base fault: {error}"

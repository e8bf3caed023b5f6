"""Settled answers widened to every input that agrees on the facts they rest on.

An answer is *settled* when one status is certain and so are the clauses that decide it.
Such an answer often rests on a few facts: under the minimum age, or with a red flag,
nothing else changes it. Rows of a varied extract then fall into far fewer answers than
input classes, and each class need not be solved.

A *pattern* fixes some facts' digits of a class code (``class_codes.py``) and leaves the
others free. It is found from one decided class by asking the engine
(:meth:`PolicyEngine.consequences_over`), fact by fact in vocabulary order, whether the
answer still holds with that fact free too: any value, or none. Each step is proved by the
cautious and brave consequences over every completion of the free facts, so no rule is
written here: a pattern holds when every input that matches it, unless it is refused, has
the same status and clauses and no missing fact. An open fact the class does not give is
free from the start when no completion of it adds a clause, and fixed as unknown otherwise
(``widen``). A class whose answer is not settled gets no pattern: an undetermined answer
names its missing facts, which vary with the facts given.

Whether an input is refused (its facts contradict each other) is asked apart
(:meth:`PolicyEngine.refusal`): it depends on the fields the KB's contradictions read alone,
so it is solved once per combination of their digits, and a pattern answers only the inputs
that are not refused.

A class's code matches a pattern when its digits on the pattern's facts are the pattern's:
``code % (place * radix) - code % place`` is the digit at its place, so a pattern is a
dictionary lookup per set of fixed facts.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .atoms import Atoms
from .engine import PolicyEngine, deciding_clauses, statuses
from .errors import InputError, KnowledgeBaseError
from .vocabulary import PatientFacts

T = TypeVar("T")

PATTERN_LIMIT = 65536
"""Patterns a process holds (each stands for many classes; a limit only against the worst case)."""
MASK_LIMIT = 16
"""Sets of fixed facts a process holds patterns of: a class that no pattern answers is tried
against each set (a pattern of another set is not kept)."""
WIDENING_ALLOWANCE = 400
"""Solves spent widening before it must pay for itself: afterwards a class is widened only
while the solves spent stay under this plus ``WIDENING_RETURN`` per class a pattern answered
(an extract whose classes repeat, or whose answers rest on many facts, gains little)."""
WIDENING_RETURN = 0.5
FRUITLESS_LIMIT = 8
"""Classes of one answer (status and clauses) widened in vain before that answer is no
longer widened: an answer that rests on the facts that stay unknown never is."""


@dataclass(frozen=True)
class Pattern:
    """The facts a settled answer rests on, and their digits: the class code with every
    other fact's digit 0."""

    fixed: tuple[str, ...]
    projection: int


class SettledPatterns(Generic[T]):
    """The patterns found so far, each with its answer (one policy, one set of class codes)."""

    def __init__(self, engine: PolicyEngine, places: Mapping[str, tuple[int, int]]) -> None:
        """``places``: each fact's place value and radix in a class code."""
        self.engine = engine
        self._places = dict(places)
        self._open = {key for key, spec in engine.vocabulary.specs.items() if spec.world == "open"}
        self._bounds = [(place * radix, place) for place, radix in self._places.values()]
        """Each fact's digit of a code is ``code % high - code % low`` (already at its place)."""
        self._position = {key: index for index, key in enumerate(self._places)}
        self._tables: dict[tuple[str, ...], tuple[Callable[[Sequence[int]], Any], dict[int, T]]] = {}
        self._order: list[tuple[Callable[[Sequence[int]], Any], dict[int, T]]] = []
        """The tables, the most matched first (a row is tried against each until one matches)."""
        self._size = 0
        self.solves = 0
        """Solves spent widening."""
        self.matched = 0
        """Classes a pattern answered."""
        self._fruitless: dict[tuple[str, tuple[str, ...]], int | None] = {}
        """Each answer's classes widened in vain, until one is widened (then None)."""
        fields = engine.contradictions.read_fields
        self._contradicting = tuple(self._places[key] for key in self._places if key in fields)
        self._refusals: dict[int, InputError | KnowledgeBaseError | None] = {}
        """Each combination of the contradicting fields' digits: how it is refused, or None."""
        self.refusals_solved = 0
        """Combinations of the contradicting fields found refused so far (each one solve that
        stands for the decision of every class it refuses)."""

    def __len__(self) -> int:
        return self._size

    def find(self, code: int) -> T | None:
        """The answer of the pattern ``code`` matches, if any."""
        order = self._order
        if not order:
            return None
        digits = [code % high - code % low for high, low in self._bounds]
        digits.append(0)  # what a pattern of fewer than two facts picks besides (itemgetter)
        for position, (pick, table) in enumerate(order):
            answer = table.get(sum(pick(digits)))
            if answer is not None:
                self.matched += 1
                if position:  # a pattern that matches moves ahead of the one before it
                    order[position - 1], order[position] = order[position], order[position - 1]
                return answer
        return None

    def refusal(self, code: int, facts: Callable[[], PatientFacts]) -> InputError | KnowledgeBaseError | None:
        """How the inputs of class ``code`` are refused, or None; ``facts``: one of its inputs,
        asked for when this combination of the contradicting fields is new."""
        key = projection(code, self._contradicting)
        if key not in self._refusals:
            refused = self._refusals[key] = self.engine.refusal(facts())
            self.refusals_solved += refused is not None
        return self._refusals[key]

    def add(self, pattern: Pattern, answer: T) -> None:
        if self._size >= PATTERN_LIMIT:
            return
        found = self._tables.get(pattern.fixed)
        if found is None:
            if len(self._order) >= MASK_LIMIT:
                return
            # The pattern's digits picked in one call: itemgetter gives a tuple of two or more
            # items, so a pattern of fewer facts picks the 0 after the digits too.
            positions = [self._position[key] for key in pattern.fixed] + [len(self._places)] * 2
            pick = operator.itemgetter(*positions[: max(2, len(pattern.fixed))])
            found = self._tables[pattern.fixed] = (pick, {})
            self._order.append(found)
        if pattern.projection not in found[1]:
            found[1][pattern.projection] = answer
            self._size += 1

    def widen(self, facts: PatientFacts, code: int, status: str, clauses: tuple[str, ...], answer: T) -> Pattern | None:
        """The pattern of a class decided ``status`` by ``clauses`` (settled), with as few
        facts fixed as the engine proves enough, added with ``answer``; None when no pattern
        is proved.

        First the open facts the class leaves unknown are free, which holds when no
        completion of the class adds a clause. Otherwise they stay unknown (fixed at digit
        0) and a witness must show the clauses can be just these: with each of them at a
        first value (an empty list, false, an enum's first value), every completion of the
        free facts concludes the status by exactly these clauses and is not contradictory.
        Then every input of the pattern has such a completion besides its others, which all
        hold the clauses: its own cautious clauses are exactly these."""
        if self._size >= PATTERN_LIMIT or self.solves > WIDENING_ALLOWANCE + WIDENING_RETURN * self.matched:
            return None
        fruitless = self._fruitless.get((status, clauses), 0)
        if fruitless is None or fruitless < FRUITLESS_LIMIT:
            pattern = self._widen(facts, code, status, clauses, answer)
            self._fruitless[(status, clauses)] = None if pattern is not None or fruitless is None else fruitless + 1
            return pattern
        return None

    def _widen(self, facts: PatientFacts, code: int, status: str, clauses: tuple[str, ...], answer: T) -> Pattern | None:
        unknown = {key for key in self._open if key not in facts.given}
        witness: PatientFacts | None = None
        held = self._holds(facts, unknown, status, clauses, cautious_known=True)
        if held is None:
            return None
        if held == "status":
            witness = self._witness(facts, unknown)
            if witness is None or not self._witnessed(witness, set(), status, clauses):
                return None
        free = set(unknown) if witness is None else set()
        for key in self._places:
            if key in free or (witness is not None and key in unknown):
                continue
            trial = free | {key}
            held = self._holds(facts, trial | unknown, status, clauses)
            if held == "exact" if witness is None else held is not None and self._witnessed(witness, trial, status, clauses):
                free.add(key)
        fixed = tuple(key for key in self._places if key not in free)
        pattern = Pattern(fixed, projection(code, [self._places[key] for key in fixed]))
        self.add(pattern, answer)
        return pattern

    def _witness(self, facts: PatientFacts, unknown: set[str]) -> PatientFacts | None:
        """``facts`` with each of ``unknown`` at a first value; None when one is a number."""
        given = dict(facts.given)
        for key in unknown:
            spec = self.engine.vocabulary.specs[key]
            if spec.type == "list":
                given[key] = frozenset()
            elif spec.type == "boolean":
                given[key] = False
            elif spec.type == "enum":
                given[key] = spec.values[0]
            else:
                return None
        return PatientFacts(given, facts.record_id)

    def _holds(self, facts: PatientFacts, free: set[str], status: str, clauses: tuple[str, ...], cautious_known: bool = False) -> str | None:
        """Over ``facts`` with ``free`` left to the solver, whether every completion that is
        not contradictory concludes ``status`` alone, by ``clauses`` at least (the cautious
        consequences; ``cautious_known``: the class's own decision showed it): "exact" when by
        no other clause either (the brave ones), "status" when some completion adds one, else
        None."""
        if not cautious_known:
            self.solves += 1
            cautious = self.engine.consequences_over(facts, free, "cautious")
            if cautious is None or "consistent" not in cautious or not _concludes(cautious, status, clauses):
                return None
        self.solves += 1
        brave = self.engine.consequences_over(facts, free, "brave")
        if brave is None or statuses(brave) != [status]:
            return None
        return "exact" if deciding_clauses(brave, status) == clauses else "status"

    def _witnessed(self, witness: PatientFacts, free: set[str], status: str, clauses: tuple[str, ...]) -> bool:
        """Whether every completion of ``witness`` with ``free`` left to the solver,
        contradictory ones included, is not contradictory and concludes ``status`` by
        ``clauses`` alone."""
        self.solves += 1
        brave = self.engine.consequences_over(witness, free, "brave", admit=True)
        return brave is not None and "contradiction" not in brave and _concludes(brave, status, clauses)


def _concludes(atoms: Atoms, status: str, clauses: tuple[str, ...]) -> bool:
    return statuses(atoms) == [status] and deciding_clauses(atoms, status) == clauses


def projection(code: int, places: Sequence[tuple[int, int]]) -> int:
    """``code`` with every digit but those at ``places`` (place value, radix) set to 0."""
    return sum(code % (place * radix) - code % place for place, radix in places)

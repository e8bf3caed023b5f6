"""Which distinctions of an input any rule can observe: each fact's values in classes.

Derived from the ground program, for every policy, with no code per policy. Two values of a
fact (or two members of a list) are in one class when swapping them everywhere in the
ground program (every atom naming the fact and the value: ``given``, ``holds``,
``alternative``, ``outcome``, ...) maps the program onto itself, the grounder's own
auxiliary atoms renamed to match, while every atom an answer reads besides ``outcome``
(status, deciding clauses, advice, consistency, contradictions) stays as it is. Such a swap
maps the answer sets of one input onto those of the swapped input, so both get the same
status, clauses, possible statuses, missing facts and advice (``outcome`` atoms are only
grouped by fact, never quoted). Swaps compose, so a class is closed under any renaming of
its values, and two lists with as many members of each class are alike too.

Numbers are classed by the intervals between their thresholds (``PolicyModel.interval_starts``,
decimals scaled by their type). A fact whose values are all alike is read only as given or
not. Explanations quote actual values, so only answers without one are keyed by class.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import clingo

from . import table
from .engine import DECISION_ATOMS, OUTCOME_ATOMS, REPRESENTATIVE_INTEGERS, PolicyEngine
from .solver import GroundProgram, GroundRule
from .vocabulary import FactSpec, PatientFacts, Vocabulary

Renaming = dict[int, int]


class GroundRules:
    """A ground program as a set of statements, indexed by the atoms they contain."""

    def __init__(self, rules: Sequence[GroundRule], symbols: Mapping[int, clingo.Symbol], fixed: Iterable[str]) -> None:
        self.symbols = dict(symbols)
        self.atom_of = {symbol: atom for atom, symbol in self.symbols.items()}
        self.fixed = frozenset(fixed)
        """``name/arity`` of the atoms an answer reads, which a swap must leave as they are."""
        self.rules = {_normal(rule) for rule in rules}
        self.containing: dict[int, list[tuple[Any, ...]]] = {}
        self.defining: dict[int, list[tuple[Any, ...]]] = {}
        for rule in self.rules:
            for atom in _atoms(rule):
                self.containing.setdefault(atom, []).append(rule)
            for atom in _heads(rule):
                self.defining.setdefault(atom, []).append(rule)
        # The atoms that matter: read by a rule, derived, open, or read by an answer (a fact
        # no rule reads, such as a code mapping, cannot tell values apart).
        relevant = {abs(x) for rule in self.rules for x in _body(rule)}
        relevant |= {atom for rule in self.rules if not _is_fact(rule) for atom in _heads_and_externals(rule)}
        relevant |= {atom for atom, symbol in self.symbols.items() if f"{symbol.name}/{len(symbol.arguments)}" in self.fixed}
        self.mentions: dict[clingo.Symbol, set[int]] = {}
        """Each constant by the relevant named atoms whose terms contain it."""
        for atom in relevant:
            symbol = self.symbols.get(atom)
            if symbol is not None:
                for constant in _constants(symbol):
                    self.mentions.setdefault(constant, set()).add(atom)
        # Each auxiliary atom by what defines it, itself written as 0: the candidates to
        # stand for one another under a swap.
        self._aux_by_definition: dict[frozenset[Any], list[int]] = {}
        for atom in self.defining:
            if atom not in self.symbols:
                signature = frozenset(_rename(rule, {atom: 0}) for rule in self.defining[atom])
                self._aux_by_definition.setdefault(signature, []).append(atom)

    def interchangeable(self, key: clingo.Symbol, a: clingo.Symbol, b: clingo.Symbol) -> bool:
        """Whether swapping values ``a`` and ``b`` of fact ``key`` maps the program onto itself,
        fixing every other input and every atom an answer reads."""
        renaming: Renaming = {}
        for atom in self.mentions.get(a, set()) | self.mentions.get(b, set()):
            symbol = self.symbols[atom]
            swapped = _swap(symbol, a, b)
            if swapped == symbol:
                continue
            signature = f"{symbol.name}/{len(symbol.arguments)}"
            if signature in INPUTS and symbol.arguments[0] != key:
                return False  # another fact's input would move with it
            if signature in self.fixed or (signature in GROUPED and swapped.arguments[0] != symbol.arguments[0]):
                return False
            image = self.atom_of.get(swapped)
            if image is None:
                return False
            renaming[atom] = image
        if not renaming:
            return True
        if not self._rename_auxiliaries(renaming):
            return False
        moved = {rule for atom in renaming for rule in self.containing.get(atom, ())}
        return all(_rename(rule, renaming) in self.rules for rule in moved)

    def saturates(self, key: clingo.Symbol, group: Sequence[clingo.Symbol]) -> bool:
        """Whether, for a given list ``key``, only *whether* one of the interchangeable members
        ``group`` is present matters, not how many: every atom naming a member names only one,
        is read only positively by plain rules (no aggregate, no choice), and each such rule
        reads the atoms of one member and derives atoms of that member or none. Each member's
        atoms then form a chain of definite rules over the rest of the program, the swap maps
        one member's chain onto another's, and a second member's chain derives only what the
        first one's does (rules that need the list unknown, ``unknown(Key)``, are never
        applicable to a given list and are passed over)."""
        if len(group) < 2:
            return False
        member_of: dict[int, clingo.Symbol] = {}
        for member in group:
            for atom in self.mentions.get(member, ()):
                if atom in member_of:
                    return False  # an atom naming two members
                member_of[atom] = member
        blocked = self.atom_of.get(clingo.Function("unknown", [key]))
        for rule in {rule for atom in member_of for rule in self.containing.get(atom, ())}:
            kind = rule[0]
            if kind == "external":
                continue  # the inputs themselves
            if kind != "rule":
                return False  # an aggregate or an optimisation may count members
            if blocked is not None and blocked in rule[3]:
                continue
            if any(-literal in member_of for literal in rule[3] if literal < 0):
                return False  # read negatively: absence of a second member could matter
            read = {member_of[literal] for literal in rule[3] if literal in member_of}
            derived = {member_of[atom] for atom in rule[2] if atom in member_of}
            if len(read) > 1 or (derived and (rule[1] or len(rule[2]) > 1 or derived != read and read)):
                return False
        return True

    def _rename_auxiliaries(self, renaming: Renaming) -> bool:
        """Extend ``renaming`` to the auxiliary atoms whose definitions it moves; False when
        one has no counterpart (then the values are told apart, conservatively)."""
        pending = {
            atom for named in list(renaming) for rule in self.containing.get(named, ())
            for atom in _heads(rule) if atom not in self.symbols
        }
        while pending:
            progress = False
            for atom in sorted(pending):
                definition = self.defining.get(atom, [])
                if any(
                    other not in self.symbols and other != atom and other in pending
                    for rule in definition for other in _atoms(rule)
                ):
                    continue  # defined through another auxiliary not matched yet
                signature = frozenset(_rename(rule, {**renaming, atom: 0}) for rule in definition)
                candidates = self._aux_by_definition.get(signature, [])
                if not candidates:
                    return False
                image = atom if atom in candidates else candidates[0]
                pending.discard(atom)
                progress = True
                if image != atom:
                    renaming[atom] = image
                    pending |= {
                        head for rule in self.containing.get(atom, ()) for head in _heads(rule)
                        if head not in self.symbols and head not in renaming
                    }
            if not progress:
                return False
        return True


def value_classes(rules: GroundRules, spec: FactSpec) -> tuple[tuple[str, ...], ...]:
    """The classes of a boolean's, enum's or list's values (in declaration order), each a
    tuple of values no rule tells apart."""
    key = clingo.Function(spec.key)
    values = list(spec.symbols.values()) if spec.symbols else [clingo.Function(v) for v in spec.values]
    classes: list[list[clingo.Symbol]] = []
    for value in values:
        for group in classes:
            if rules.interchangeable(key, group[0], value):
                group.append(value)
                break
        else:
            classes.append([value])
    return tuple(tuple(str(v) for v in group) for group in classes)


def class_reducer(
    spec: FactSpec, classes: Sequence[Sequence[str]], saturated: Sequence[bool] = ()
) -> Callable[[Any], object] | None:
    """What a key keeps of a value of this fact: its class (a list: how many members of each
    class, or only whether any, for a class that ``saturated`` marks), or nothing beyond
    being given when all values are alike; None when every value is its own class."""
    index = {value: position for position, group in enumerate(classes) for value in group}
    if spec.type == "list":
        size = len(classes)
        caps = [1 if any_ else len(group) for group, any_ in zip(classes, [*saturated, *[False] * size])]

        def counts(members: Iterable[object]) -> object:
            found = [0] * size
            for member in members:
                found[index[str(member)]] += 1
            return tuple(min(n, cap) for n, cap in zip(found, caps))

        return counts
    if len(classes) <= 1:
        return _given
    if all(len(group) == 1 for group in classes):
        return None
    return lambda value: index[_value_text(value)]


def _given(value: object) -> bool:
    return True


def _value_text(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


INPUTS = frozenset({"given/2", "known/1"})
ANSWER_ATOMS = (DECISION_ATOMS | OUTCOME_ATOMS) - {"outcome/4"}
"""What an answer without explanation reads besides ``outcome``: status, clauses, advice, ..."""
AUDIT_ATOMS = ANSWER_ATOMS - {"advice/2", "advice/3"}
"""What an audit row reads: its status, clauses and missing facts, no advice."""
GROUPED = frozenset({"outcome/4"})
"""Atoms an answer reads only grouped by their first argument (the fact): their values may move."""


def _swap(symbol: clingo.Symbol, a: clingo.Symbol, b: clingo.Symbol) -> clingo.Symbol:
    """``symbol`` with the constants ``a`` and ``b`` swapped in every term (the explanation
    rules nest values in ``fired/3``, derived atoms carry them as arguments)."""
    if symbol == a:
        return b
    if symbol == b:
        return a
    if symbol.type != clingo.SymbolType.Function or not symbol.arguments:
        return symbol
    return clingo.Function(symbol.name, [_swap(x, a, b) for x in symbol.arguments], symbol.positive)


def _constants(symbol: clingo.Symbol) -> Iterable[clingo.Symbol]:
    if symbol.type != clingo.SymbolType.Function:
        return
    if not symbol.arguments:
        yield symbol
    for argument in symbol.arguments:
        yield from _constants(argument)


def _body(rule: tuple[Any, ...]) -> Iterable[int]:
    kind = rule[0]
    if kind == "rule":
        return rule[3]  # type: ignore[no-any-return]
    if kind in ("weight", "minimize"):
        return (x for x, _ in rule[-1])
    return ()


def _is_fact(rule: tuple[Any, ...]) -> bool:
    return rule[0] == "rule" and not rule[1] and not rule[3] and len(rule[2]) == 1


def _heads_and_externals(rule: tuple[Any, ...]) -> Iterable[int]:
    if rule[0] == "external":
        return (rule[1],)
    return _heads(rule)


def _normal(rule: GroundRule) -> tuple[Any, ...]:
    kind = rule[0]
    if kind == "rule":
        return ("rule", rule[1], frozenset(rule[2]), frozenset(rule[3]))  # type: ignore[call-overload]
    if kind == "weight":
        return ("weight", rule[1], frozenset(rule[2]), rule[3], frozenset(rule[4]))  # type: ignore[call-overload]
    if kind == "minimize":
        return ("minimize", rule[1], frozenset(rule[2]))  # type: ignore[call-overload]
    return tuple(rule)


def _literal(literal: int, renaming: Renaming) -> int:
    atom = abs(literal)
    image = renaming.get(atom, atom)
    return image if literal > 0 else -image


def _rename(rule: tuple[Any, ...], renaming: Renaming) -> tuple[Any, ...]:
    kind = rule[0]
    if kind == "rule":
        return ("rule", rule[1], frozenset(renaming.get(a, a) for a in rule[2]), frozenset(_literal(x, renaming) for x in rule[3]))
    if kind == "weight":
        return ("weight", rule[1], frozenset(renaming.get(a, a) for a in rule[2]), rule[3],
                frozenset((_literal(x, renaming), w) for x, w in rule[4]))
    if kind == "minimize":
        return ("minimize", rule[1], frozenset((_literal(x, renaming), w) for x, w in rule[2]))
    if kind == "external":
        return ("external", renaming.get(rule[1], rule[1]), rule[2])
    return rule


def _heads(rule: tuple[Any, ...]) -> Iterable[int]:
    if rule[0] in ("rule", "weight"):
        return rule[2]  # type: ignore[no-any-return]
    return ()


def _atoms(rule: tuple[Any, ...]) -> set[int]:
    kind = rule[0]
    if kind == "rule":
        return set(rule[2]) | {abs(x) for x in rule[3]}
    if kind == "weight":
        return set(rule[2]) | {abs(x) for x, _ in rule[4]}
    if kind == "minimize":
        return {abs(x) for x, _ in rule[2]}
    if kind == "external":
        return {rule[1]}
    return set()


class InputClasses:
    """One policy's input classes: each fact's reducer, and a row's class key."""

    def __init__(self, engine: PolicyEngine, read: frozenset[str] = ANSWER_ATOMS) -> None:
        """``read``: the atoms the answers keyed by these classes read (``ANSWER_ATOMS`` for a
        whole answer without explanation, ``AUDIT_ATOMS`` for an audit row, which shows no
        advice): they must come out the same for every input of a class."""
        vocabulary = engine.vocabulary
        kind = table.table_kind("classes-" + _read_name(read), engine.policy.reference, engine.policy.version)
        saved = table.table_path(table.table_key(engine.files, engine.policy.reference), kind)
        derived = _load_derived(saved, vocabulary)
        if derived is None:
            derived = self._derive(engine, read)
            table.save_json(saved, {"classes": derived[0], "saturated": derived[1]}, kind)
        self.classes: dict[str, tuple[tuple[str, ...], ...]] = derived[0]
        """Boolean, enum and list facts → their classes of values (members)."""
        self.saturated: dict[str, tuple[bool, ...]] = derived[1]
        """List facts → for each class, whether only the presence of some member of it matters."""
        self._exact_lists = {key for key, flags in self.saturated.items() if any(flags)}
        self.interval_starts = engine.interval_starts
        self.reducers: dict[str, tuple[int, Callable[[Any], object] | None]] = {}
        """Fact → its position in a key and what of its value the key keeps (None: all of it)."""
        for position, (key, spec) in enumerate(vocabulary.specs.items()):
            if spec.fact_type.ranged:
                reduce = spec.fact_type.audit_key(spec, self.interval_starts.get(key))
            else:
                reduce = class_reducer(spec, self.classes[key], self.saturated.get(key, ()))
            if read is AUDIT_ATOMS and spec.world == "closed" and spec.fact_type.closed_default is not None:
                # A closed-world default given explicitly (false, the empty list) is what
                # leaving it out means (kb/core/inputs.lp derives the same holds atoms); only
                # a whole answer names the defaults it assumed, an audit row does not.
                reduce = _absent_if_empty(reduce)
            self.reducers[key] = (position, reduce)
        self._absent = (None,) * len(self.reducers)

    def _derive(self, engine: PolicyEngine, read: frozenset[str]) -> Derived:
        """The classes from the ground program (the work a saved derivation spares)."""
        shown = DECISION_ATOMS | OUTCOME_ATOMS
        # The groundings the engine solves without explaining: integers at their
        # representatives, rules nothing shown depends on left out (cone.py).
        program = GroundProgram(engine.files, REPRESENTATIVE_INTEGERS, shown=shown, prune=True, observe=True)
        rules = GroundRules(*program.ground_rules(), fixed=read)
        # Kept, not dropped: the program and its Control refer to each other, so the cyclic
        # collector would finalise the Control at some later moment, and a stop signal
        # arriving in its __del__ would be swallowed (the audit would not stop).
        self._program = program
        specs = engine.vocabulary.specs
        classes = {key: value_classes(rules, spec) for key, spec in specs.items() if not spec.fact_type.ranged}
        saturated = {
            key: tuple(rules.saturates(clingo.Function(key), [clingo.Function(v) for v in group]) for group in classes[key])
            for key, spec in specs.items() if spec.type == "list"
        }
        return classes, saturated

    def key(self, facts: PatientFacts) -> tuple[object, ...]:
        """The class of ``facts``: inputs with the same key get the same answer without
        explanation (positions in vocabulary order; None for a fact not given; the lists
        known only in part last)."""
        key: list[object] = list(self._absent)
        reducers = self.reducers
        for name, value in facts.given.items():
            position, reduce = reducers[name]
            key[position] = value if reduce is None else reduce(value)
        if facts.at_least:
            # A list known only in part stays open beyond its members: counted exactly.
            for name in facts.at_least & self._exact_lists:
                key[reducers[name][0]] = ("at least", frozenset(facts.given[name]))  # type: ignore[arg-type]
            key.append(facts.at_least)
        return tuple(key)


def _absent_if_empty(reduce: Callable[[Any], object] | None) -> Callable[[Any], object]:
    if reduce is None:
        return lambda value: value or None
    return lambda value: reduce(value) if value else None


Derived = tuple[dict[str, tuple[tuple[str, ...], ...]], dict[str, tuple[bool, ...]]]
"""Each fact's classes of values, and each list's saturated classes."""


def _read_name(read: frozenset[str]) -> str:
    return "audit" if read == AUDIT_ATOMS else "answer" if read == ANSWER_ATOMS else hashlib.sha256("\0".join(sorted(read)).encode()).hexdigest()[:16]


def _load_derived(path: Path, vocabulary: Vocabulary) -> Derived | None:
    """A derivation saved for the same KB files and package (``table.table_key``), when it
    partitions each fact's values exactly as declared; else None (derived again)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        classes = {key: tuple(tuple(group) for group in groups) for key, groups in data["classes"].items()}
        saturated = {key: tuple(flags) for key, flags in data["saturated"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    specs = vocabulary.specs
    if set(classes) != {key for key, spec in specs.items() if not spec.fact_type.ranged}:
        return None
    if set(saturated) != {key for key, spec in specs.items() if spec.type == "list"}:
        return None
    for key, groups in classes.items():
        values = [value for group in groups for value in group]
        if sorted(values) != sorted(specs[key].values) or not all(groups):
            return None
    if not all(len(flags) == len(classes[key]) and all(type(f) is bool for f in flags) for key, flags in saturated.items()):
        return None
    return classes, saturated


_CLASSES: dict[tuple[int, frozenset[str]], tuple[PolicyEngine, InputClasses]] = {}


def classes_for(engine: PolicyEngine, read: frozenset[str] = ANSWER_ATOMS) -> InputClasses:
    """The input classes of an engine's policy for answers that read ``read``, derived once."""
    known = _CLASSES.get((id(engine), read))
    if known is None or known[0] is not engine:
        known = (engine, InputClasses(engine, read))
        _CLASSES[(id(engine), read)] = known
    return known[1]

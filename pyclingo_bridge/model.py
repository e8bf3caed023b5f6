"""One policy, read once: the model that the engine, check, FHIR, cards and audit read.

A policy's program is grounded once (:class:`.solver.GroundProgram`); :meth:`PolicyModel.read`
then reads every fact the bridge needs from it, in this one module: the vocabulary, the
metadata, clauses and labelled rules, the parameters and the thresholds derived from them,
the code mappings, the card wording and the invariants. Everything else reads the model,
never the ground program's facts (as every simulation of OpenFisca reads one loaded
``TaxBenefitSystem``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import clingo

from .codes import CodeMaps, CodeMeaning, CodeMeasure, CodeSystem, GovernedCode, OrderCategory, fact_meaning
from .contradictions import Contradictions
from .decision import clause_order
from .errors import KnowledgeBaseError
from .fact_types import check_types
from .metadata import Clause, PolicyInfo, RuleInfo
from .records import record
from .solver import GroundProgram
from .vocabulary import FactSpec, Vocabulary
from .wording import Urgency, Wording, fill_placeholders


@record
class Parameter:
    """A number the policy sets, with the fact it bounds and the clause that sets it
    (``parameter(Name, Key, Value, Clause)``); the fact's thresholds are derived from it."""

    name: str
    key: str
    value: int
    """As the rules compare it: a decimal's value scaled (27.0 at scale 1 is 270)."""
    clause: str


@record
class Invariant:
    """A property every decision must have (``invariant(Name, Clause, Statement)``, in checks/)."""

    name: str
    clause: str
    statement: str


class PolicyModel:
    """Everything the knowledge base says about one policy, read once from its ground program."""

    def __init__(self, policy_id: str, program: GroundProgram) -> None:
        self.id = policy_id
        self.files = program.files
        self._program = program
        self.vocabulary = _vocabulary(program)
        self.parameters = {
            p.name: p
            for p in (
                Parameter(a.arguments[0].name, a.arguments[1].name, a.arguments[2].number, _text(a.arguments[3]))
                for a in program.facts("parameter", 4)
                if a.arguments[2].type == clingo.SymbolType.Number
            )
        }
        self.parameter_texts: dict[str, str] = {
            p.name: spec.fact_type.quote(spec, p.value) if (spec := self.vocabulary.specs.get(p.key)) else str(p.value)
            for p in self.parameters.values()
        }
        """Each parameter as a sentence quotes it (a decimal unscaled): ``{"minimum_age": "16"}``."""
        self.info = _info(policy_id, program, self.quote)
        self.thresholds = _numbers(program, "threshold")
        """Number fact → the values its rules compare it with (derived from the parameters)."""
        self.representatives = _numbers(program, "representative")
        """Number fact → the values an unknown one takes (either side of each threshold, its bounds)."""
        self.not_read = {a.arguments[0].name: _text(a.arguments[1]) for a in program.facts("fact_not_read", 2)}
        """Fact → the clause by which no rule reads it."""
        self.wording = Wording(
            {str(a.arguments[0]): _text(a.arguments[1]) for a in program.facts("glossary", 2)},
            self.parameter_texts,
            sorted(Urgency(a.arguments[1].number, a.arguments[0].name, _text(a.arguments[2])) for a in program.facts("urgency", 3)),
            self.vocabulary,
        )
        """The KB's words for people: glossary sentences, parameter values, advice urgencies."""
        contradiction_fields: dict[str, list[str]] = {}
        for atom in program.facts("contradiction_field", 2):
            contradiction_fields.setdefault(str(atom.arguments[0]), []).append(str(atom.arguments[1]))
        self.contradictions = Contradictions({name: tuple(sorted(keys)) for name, keys in contradiction_fields.items()})
        """The fields each declared contradiction reads."""
        self.invariants = {
            a.arguments[0].name: Invariant(a.arguments[0].name, _text(a.arguments[1]), _text(a.arguments[2]))
            for a in program.facts("invariant", 3)
        }
        self.fact_order = tuple(dict.fromkeys(a.arguments[0].name for a in program.facts("fact", 4)))
        """Fact keys in the KB's declaration order (the policy's own, then the core's): the order
        questions are asked in."""
        self.relevant_when = tuple(
            tuple(str(argument) for argument in a.arguments) for a in program.facts("fact_relevant_when", 3)
        )
        """``fact_relevant_when(Key, OtherKey, Value)`` as written (questionnaire.py checks them)."""
        self.code_measures = tuple(
            CodeMeasure(str(a.arguments[0]), _text(a.arguments[1]), str(a.arguments[2]), _text(a.arguments[3]),
                        _text(a.arguments[4]))
            for a in program.facts("code_measures", 5)
        )
        """``code_measures(System, Code, Key, Unit, Source)``: coded Observations that give a
        number fact in one UCUM unit (checked against the vocabulary with the other codes)."""
        self.interval_starts = interval_starts(self.vocabulary.specs, self.thresholds)
        """Each number fact's first value of each interval between its thresholds."""

    @classmethod
    def read(cls, policy_id: str, program: GroundProgram) -> PolicyModel:
        return cls(policy_id, program)

    def quote(self, text: str) -> str:
        """``text`` with each ``{name}`` of a declared parameter written as its value: a rule's
        sentence or an advice says "younger than {minimum_age}" and the number lives in one
        place, the parameter. A name that is no parameter is left as written (the check
        reports it)."""
        return fill_placeholders(text, self.parameter_texts)

    def ground_atoms(self, name: str, arity: int) -> list[clingo.Symbol]:
        """Every atom of ``name/arity`` in the policy's query grounding, fact or not: what an
        answer can show, for `policykb check` to word-check (check/wording.py)."""
        return self._program.atoms(name, arity)

    def ground_facts(self, name: str, arity: int) -> list[clingo.Symbol]:
        """The facts of ``name/arity`` in the policy's query grounding."""
        return self._program.facts(name, arity)

    @functools.cached_property
    def codes(self) -> CodeMaps:
        """The code mappings, read when first needed: a mapping that does not fit the
        vocabulary is a fault of the FHIR path only (KnowledgeBaseError there)."""
        program = self._program
        systems = [
            CodeSystem(a.arguments[0].name, a.arguments[1].string, a.arguments[2].string, a.arguments[3].name)  # type: ignore[arg-type]
            for a in program.facts("code_system", 4)
        ]
        meanings = [fact_meaning(atom, self.vocabulary) for atom in program.facts("code_maps_to", 5)]
        meanings += [
            CodeMeaning(a.arguments[0].name, a.arguments[1].string, a.arguments[3].string, indication=a.arguments[2].name)
            for a in program.facts("code_indication", 4)
        ]
        categories = [
            OrderCategory(a.arguments[0].name, a.arguments[1].string, a.arguments[2].name, a.arguments[3].string)
            for a in program.facts("order_category", 4)
        ]
        policy_categories = [a.arguments[0].name for a in program.facts("policy_order_category", 1)]
        age_facts = [a.arguments[0].name for a in program.facts("age_on_order_date", 1)]
        for key in age_facts:
            spec = self.vocabulary.specs.get(key)
            if spec is None or not spec.fact_type.ranged:  # whole years: an integer, or a decimal
                raise KnowledgeBaseError(f"age_on_order_date({key}) names no integer fact of the vocabulary")
        for measure in self.code_measures:
            spec = self.vocabulary.specs.get(measure.key)
            if spec is None or not spec.fact_type.ranged:
                raise KnowledgeBaseError(f"code_measures({measure.system}, {measure.code!r}, {measure.key}, ...) "
                                         "names no integer or decimal fact of the vocabulary")
        governed = [GovernedCode(a.arguments[0].name, a.arguments[1].string, a.arguments[2].string) for a in program.facts("governs", 3)]
        return CodeMaps(systems, meanings, categories, policy_categories, age_facts[0] if age_facts else None,
                        governed, self.code_measures)

    @property
    def fact_types(self) -> dict[str, str]:
        """Fact → its type's name."""
        return {key: spec.type for key, spec in self.vocabulary.specs.items()}

    @property
    def values(self) -> dict[str, set[str]]:
        """Fact → its allowed values as clingo prints them (numbers: every value in range)."""
        found: dict[str, set[str]] = {}
        for key, spec in self.vocabulary.specs.items():
            found[key] = set(spec.values)
            if spec.low is not None and spec.high is not None:
                found[key] |= {str(v) for v in range(spec.low, spec.high + 1)}
        return found


def interval_starts(specs: Mapping[str, FactSpec], thresholds: Mapping[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    """For each ranged fact (integer, decimal), the first value of each interval between its
    thresholds (its low bound and each threshold above it): values of one interval behave alike."""
    starts: dict[str, tuple[int, ...]] = {}
    for key, spec in specs.items():
        if spec.low is None or spec.high is None:
            continue
        low, high = spec.low, spec.high
        starts[key] = tuple(sorted({low} | {t for t in thresholds.get(key, ()) if low < t <= high}))
    return starts


def _vocabulary(program: GroundProgram) -> Vocabulary:
    check_types(
        {a.arguments[0].name for a in program.facts("fact_type", 1)},
        {a.arguments[0].name for a in program.facts("ranged_type", 1)},
        {a.arguments[0].name for a in program.facts("multiple_type", 1)},
    )
    symbols: dict[str, dict[str, clingo.Symbol]] = {}
    for atom in program.facts("fact_value", 2):
        owner, value = atom.arguments
        if value.type == clingo.SymbolType.Function:
            symbols.setdefault(owner.name, {})[value.name] = value
    ranges = {a.arguments[0].name: a.arguments[1:] for a in program.facts("fact_range", 3)}
    questions = {a.arguments[0].name: a.arguments[1].string for a in program.facts("fact_question", 2)}
    scales = {a.arguments[0].name: a.arguments[1].number for a in program.facts("fact_scale", 2)}
    units = {a.arguments[0].name: a.arguments[1].string for a in program.facts("fact_unit", 2)}
    specs: dict[str, FactSpec] = {}
    for atom in program.facts("fact", 4):
        key_symbol, type_symbol, world_symbol, meaning = atom.arguments
        key = key_symbol.name
        low_high = ranges.get(key)
        specs[key] = FactSpec(
            key=key,
            type=type_symbol.name,
            world=world_symbol.name,  # type: ignore[arg-type]
            meaning=meaning.string,
            symbols=symbols.get(key, {}),  # grounding keeps declaration order
            low=low_high[0].number if low_high else None,
            high=low_high[1].number if low_high else None,
            question=questions.get(key),
            scale=scales.get(key),
            unit=units.get(key),
        )
    return Vocabulary(specs)


def _info(policy_id: str, program: GroundProgram, quote: Callable[[str], str]) -> PolicyInfo:
    metadata = {a.arguments[0].name: a.arguments[1].string for a in program.facts("metadata", 2)}
    clauses = sorted(
        (
            Clause(_text(a.arguments[0]), a.arguments[1].name == "normative", _text(a.arguments[2]))
            for a in program.facts("clause", 3)
        ),
        key=lambda clause: clause_order(clause.number),
    )
    rules = {}
    for atom in program.facts("rule", 3):
        label = str(atom.arguments[0])
        rules[label] = RuleInfo(label, _text(atom.arguments[1]), quote(_text(atom.arguments[2])))
    not_applicable = frozenset(str(atom.arguments[0]) for atom in program.facts("rule_not_applicable", 2))
    return PolicyInfo(policy_id, metadata, tuple(clauses), rules, not_applicable)


def _numbers(program: GroundProgram, name: str) -> dict[str, tuple[int, ...]]:
    found: dict[str, set[int]] = {}
    for atom in program.facts(name, 2):
        if atom.arguments[1].type == clingo.SymbolType.Number:
            found.setdefault(str(atom.arguments[0]), set()).add(atom.arguments[1].number)
    return {key: tuple(sorted(values)) for key, values in found.items()}


def _text(symbol: clingo.Symbol) -> str:
    """A string argument's text (a clause written as a number or name is read as printed)."""
    return str(symbol.string) if symbol.type == clingo.SymbolType.String else str(symbol)


__all__ = ["Invariant", "Parameter", "PolicyModel", "interval_starts"]

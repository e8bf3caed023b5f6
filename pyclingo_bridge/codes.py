"""Clinical code mappings, as the policy model (:mod:`.model`) reads them from the KB's facts.

``kb/core/codes.lp`` declares the code systems (``code_system/4``) and order categories;
each policy's ``codes.lp`` maps codes to its patient facts (``code_maps_to/5``) or to the
condition it is about (``code_indication/4``). Python repeats none of them: it only matches a
recorded coding against these facts, exactly or by ICD-10-style prefix as the KB says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, TypeVar

import clingo

from .errors import KnowledgeBaseError
from .records import record
from .vocabulary import Vocabulary

Matching = Literal["exact", "prefix"]
T = TypeVar("T")


@record
class CodeSystem:
    """A code system the bridge reads, by its FHIR ``Coding.system`` URI."""

    name: str
    uri: str
    title: str
    matching: Matching

    def key(self, code: str) -> str:
        """The form in which codes of this system are compared (ICD-10: no dot, upper case)."""
        code = code.strip()
        return code.replace(".", "").upper() if self.matching == "prefix" else code


@record
class CodeMeaning:
    """What one mapped code means: a patient fact and value, or an indication (``key`` None)."""

    system: str
    code: str
    source: str
    key: str | None = None
    value: str | None = None
    indication: str | None = None


@record
class GovernedCode:
    """A procedure code the policy governs (``governs/3``), with the listing it was checked against."""

    system: str
    code: str
    source: str


@record
class CodeMeasure:
    """A coded Observation that gives a number fact, in one UCUM unit (``code_measures/5``)."""

    system: str
    code: str
    key: str
    unit: str
    source: str


@record
class OrderCategory:
    system: str
    code: str
    category: str
    source: str


class CodeMaps:
    """Every code mapping of one policy, checked against its vocabulary."""

    def __init__(
        self,
        systems: Iterable[CodeSystem],
        meanings: Iterable[CodeMeaning],
        categories: Iterable[OrderCategory],
        policy_categories: Iterable[str],
        age_fact: str | None = None,
        governed: Iterable[GovernedCode] = (),
        measures: Iterable[CodeMeasure] = (),
    ) -> None:
        self.systems = {system.uri: system for system in systems}
        self._by_name = {system.name: system for system in self.systems.values()}
        self._meanings: dict[tuple[str, str], list[CodeMeaning]] = {}
        for meaning in meanings:
            system = self._by_name.get(meaning.system)
            if system is None:
                raise KnowledgeBaseError(f"code mapping {meaning.code!r} names undeclared code system {meaning.system!r}")
            self._meanings.setdefault((system.name, system.key(meaning.code)), []).append(meaning)
        self._categories = {(c.system, c.code): c for c in categories}
        self.policy_categories = frozenset(policy_categories)
        self.age_fact = age_fact
        """The integer fact that receives the age on the order's date (``age_on_order_date/1``)."""
        self._measures: dict[tuple[str, str], list[CodeMeasure]] = {}
        for measure in measures:
            system = self._by_name.get(measure.system)
            if system is None:
                raise KnowledgeBaseError(f"code_measures {measure.code!r} names undeclared code system {measure.system!r}")
            self._measures.setdefault((system.name, system.key(measure.code)), []).append(measure)
        self.governed: tuple[GovernedCode, ...] = tuple(governed)
        """The procedure codes the policy governs, as declared (``governs/3``)."""
        self._governed: dict[tuple[str, str], list[GovernedCode]] = {}
        for entry in self.governed:
            system = self._by_name.get(entry.system)
            if system is None:
                raise KnowledgeBaseError(f"governs({entry.system}, {entry.code!r}, ...) names undeclared code system {entry.system!r}")
            self._governed.setdefault((system.name, system.key(entry.code)), []).append(entry)

    @property
    def indications(self) -> frozenset[str]:
        """The conditions the policy is about, as its ``code_indication/4`` facts name them."""
        return frozenset(m.indication for found in self._meanings.values() for m in found if m.indication)

    def indication_codes(self) -> list[tuple[CodeMeaning, CodeSystem]]:
        """Each code that records a condition the policy is about, with its code system."""
        return [(m, self._by_name[m.system]) for found in self._meanings.values() for m in found if m.indication]

    def system(self, uri: str | None) -> CodeSystem | None:
        return self.systems.get(uri) if uri else None

    def named_system(self, name_or_uri: str | None) -> CodeSystem | None:
        """A code system by the KB's name for it (``opcs4``) or by its FHIR URI."""
        if not name_or_uri:
            return None
        return self._by_name.get(name_or_uri) or self.systems.get(name_or_uri)

    def meanings(self, uri: str | None, code: str | None) -> list[CodeMeaning]:
        """What a recorded coding means; [] when its system or code is not mapped."""
        return _matches(self._meanings, self.system(uri), code)

    def governs(self, system: str | None, code: str | None) -> list[GovernedCode]:
        """The declarations by which the policy governs this procedure code ([] when none);
        ``system`` is the KB's name for the code system or its FHIR URI."""
        return _matches(self._governed, self.named_system(system), code)

    def measures(self, uri: str | None, code: str | None) -> list[CodeMeasure]:
        """The number facts a recorded Observation coding gives (each in its one unit); [] when
        the coding is not mapped. Observation codes match exactly, whatever the system."""
        system = self.system(uri)
        if system is None or not code:
            return []
        return list(self._measures.get((system.name, system.key(code)), ()))

    def order_category(self, uri: str | None, code: str | None) -> OrderCategory | None:
        system = self.system(uri)
        if system is None or not code:
            return None
        return self._categories.get((system.name, code.strip()))


def _matches(table: Mapping[tuple[str, str], list[T]], system: CodeSystem | None, code: str | None) -> list[T]:
    """The entries of ``table`` that a recorded code matches, as its system says."""
    if system is None or not code:
        return []
    key = system.key(code)
    if system.matching == "exact":
        return list(table.get((system.name, key), ()))
    # A longer ICD-10 or OPCS-4 code is a subdivision of each of its prefixes.
    found: list[T] = []
    for length in range(1, len(key) + 1):
        found += table.get((system.name, key[:length]), ())
    return found


def fact_meaning(atom: clingo.Symbol, vocabulary: Vocabulary) -> CodeMeaning:
    """A ``code_maps_to/5`` fact as a meaning; a fact or value the vocabulary does not
    declare is a knowledge-base fault."""
    system, code, key, value, source = atom.arguments
    spec = vocabulary.specs.get(key.name)
    if spec is None or value.type != clingo.SymbolType.Function or value.name not in spec.symbols:
        raise KnowledgeBaseError(
            f"code_maps_to({system}, {code}, {key}, {value}, ...): not a declared fact and value of the vocabulary"
        )
    return CodeMeaning(system.name, code.string, source.string, key=key.name, value=value.name)

"""Words for people, read from the knowledge base: glossary sentences, parameter values, urgencies.

Every sentence a clinician reads is KB text. A glossary entry (``glossary/2``, see
``kb/core/glossary.lp``) words a ground atom; a sentence may quote a policy parameter as
``{name}``, filled in here from the parameters (``parameter/4``) so no number is repeated in a
sentence. The policy model (model.py) reads all of these from the KB.
Nothing here knows a clinical rule or names a policy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import clingo

from .atoms import Atom, Term, read_atom
from .records import record
from .vocabulary import FactSpec, Vocabulary

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
NEGATION = "neg"
"""The labels transformer writes a negative literal ``not p`` as ``neg(p)`` (labels.py)."""
ANY = "any"
"""The labels transformer writes a condition's variable as ``any`` (labels.py)."""
NO_DESCRIPTION = "a condition the knowledge base does not word (run `policykb check`)"


@record(order=True)
class Urgency:
    """How soon advice must be acted on (``urgency/3`` in kb/core/decision.lp)."""

    rank: int
    name: str
    words: str


UNDECLARED = Urgency(0, "undeclared", "Urgency not declared")
"""Advice whose urgency the KB does not declare (``policykb check`` reports it) is shown first,
and makes a card critical: never silently routine."""


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{name}`` of ``values`` written as its value; any other name is left
    as written (`policykb check` reports it)."""
    if "{" not in text:
        return text
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def placeholders(text: str) -> list[str]:
    """The parameter names a sentence quotes as ``{name}``."""
    return PLACEHOLDER.findall(text)


class Wording:
    """One policy's words for people: what each atom means, and its parameters' values."""

    def __init__(
        self,
        glossary: Mapping[str, str],
        parameters: Mapping[str, str],
        urgencies: Iterable[Urgency],
        vocabulary: Vocabulary,
    ) -> None:
        self.parameters = dict(parameters)
        self.glossary = {key: self.fill(text) for key, text in glossary.items()}
        self.urgencies = {urgency.name: urgency for urgency in urgencies}
        self.vocabulary = vocabulary

    def fill(self, text: str) -> str:
        """``text`` with each ``{name}`` replaced by the parameter's value (an unknown name is
        left as written: `policykb check` reports it)."""
        return fill_placeholders(text, self.parameters)

    def urgency(self, name: str) -> Urgency:
        return self.urgencies.get(name, UNDECLARED)

    def sentence(self, term: Term) -> str | None:
        """The KB's sentence for a ground atom (``neg(p)``: for p not holding), or None."""
        if not isinstance(term, Atom):
            return None
        found = self.glossary.get(term.text)
        if found is not None:
            return found
        if term.name == NEGATION and len(term.arguments) == 1:
            return self._negated(term.arguments[0])
        if term.name == "holds" and len(term.arguments) == 2:
            return self._input(term)
        return None

    def describe(self, term: Term) -> str:
        """A sentence for the atom; never predicate syntax, even where the KB has no entry."""
        return self.sentence(term) or NO_DESCRIPTION

    def not_holding(self, term: Term) -> str:
        """A sentence saying that the condition ``term`` does not hold (for why-not)."""
        if isinstance(term, Atom) and term.name == NEGATION and len(term.arguments) == 1:
            return self.describe(term.arguments[0])
        return self.describe(_negate(term))

    def value_sentence(self, key: str, value: str) -> str:
        """The sentence for ``holds(key, value)``, with the value as clingo would write it."""
        argument = clingo.Number(int(value)) if value.lstrip("-").isdigit() else clingo.Function(value)
        return self.describe(read_atom(clingo.Function("holds", [clingo.Function(key), argument])))

    def default_atom(self, spec: FactSpec) -> Atom:
        """The atom a closed-world fact not given is taken to be: false, or no member."""
        if spec.fact_type.multiple:
            return _negate(read_atom(clingo.Function("holds", [clingo.Function(spec.key), clingo.Function(ANY)])))
        default = spec.fact_type.closed_default or "false"
        return read_atom(clingo.Function("holds", [clingo.Function(spec.key), clingo.Function(default)]))

    def default_sentence(self, spec: FactSpec) -> str:
        """What a closed-world fact not given is taken to mean, as a sentence."""
        return self.sentence(self.default_atom(spec)) or f"not recorded: {spec.meaning}"

    def _negated(self, term: Term) -> str | None:
        """``not holds(K, true)`` of a boolean fact reads as ``holds(K, false)``, and back."""
        if isinstance(term, Atom) and term.name == "holds" and len(term.arguments) == 2:
            key, value = (str(argument) for argument in term.arguments)
            spec = self.vocabulary.specs.get(key)
            if spec is not None and value in ("true", "false") and spec.fact_type.closed_default == "false":
                flipped = "false" if value == "true" else "true"
                return self.glossary.get(f"holds({key},{flipped})")
        return None

    def _input(self, term: Atom) -> str | None:
        """A numeric fact reads as its meaning and value: no glossary entry per number. A fact
        stored as a scaled integer (a declared ``scale``: digits after the point) is shown with
        its point."""
        key, value = term.arguments
        spec = self.vocabulary.specs.get(str(key))
        if spec is None or not isinstance(value, int) or not spec.fact_type.ranged:
            return None
        return f"{self.fill(spec.meaning)}: {spec.fact_type.show(spec, str(value))}"


def _negate(term: Term) -> Atom:
    text = f"{NEGATION}({term})"
    return read_atom(clingo.parse_term(text))

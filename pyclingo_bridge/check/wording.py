"""Words for people: every atom an explanation can show has a sentence, every sentence's
``{name}`` is a declared parameter, every advice has a declared urgency.

Read from the policy's query grounding (the one the engine solves), so the atoms checked are
exactly those an answer can show: the heads and used atoms of every ``fired/3`` instance, the
condition of every route to ``commissioned`` as a why-not words it, and the default of every
closed-world fact an answer names as assumed. Nothing here names a policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import clingo

from ..atoms import Atom, read_atom
from ..engine import PolicyEngine
from ..wording import NEGATION, placeholders
from .findings import Finding

ADVICE = ("advice", 3)


def wording_findings(engine: PolicyEngine) -> list[Finding]:
    """Every missing sentence, unknown placeholder and advice without a declared urgency."""
    return [*_undescribed(engine), *_placeholders(engine), *_advice(engine)]


def shown_atoms(engine: PolicyEngine) -> Iterator[tuple[Atom, str]]:
    """Each atom an answer can word, with where it shows (for the finding's message)."""
    program, wording = engine.model, engine.wording
    for symbol in program.ground_atoms("fired", 3):
        fired = read_atom(symbol)
        label, head, body = fired.arguments
        assert isinstance(head, Atom) and isinstance(body, Atom)
        yield head, f"concluded by rule {label}"
        for used in body.arguments:
            if isinstance(used, Atom):
                yield used, f"used by rule {label}"
    routes = {
        str(a.arguments[0])
        for a in program.ground_facts("rule_head", 2)
        if a.arguments[1].name == "conclusion" and str(a.arguments[1].arguments[1]) == "commissioned"
    }
    for symbol in program.ground_facts("condition", 3):
        route, _, condition = symbol.arguments
        if str(route) in routes:
            term = read_atom(condition)
            shown = term.arguments[0] if term.name == NEGATION and len(term.arguments) == 1 else _negation(term)
            if isinstance(shown, Atom):
                yield shown, f"a why-not condition of rule {route}"
    for spec in engine.vocabulary.specs.values():
        if spec.world == "closed":
            yield wording.default_atom(spec), f"the assumed default of {spec.key}"


def _negation(term: Atom) -> Atom:
    return read_atom(clingo.Function(NEGATION, [clingo.parse_term(term.text)]))


def _undescribed(engine: PolicyEngine) -> Iterator[Finding]:
    seen: set[str] = set()
    for atom, where in shown_atoms(engine):
        if atom.text in seen or engine.wording.sentence(atom) is not None:
            continue
        seen.add(atom.text)
        yield Finding(
            "undescribed_atom",
            f"{atom.text} ({where}) has no sentence for people: declare glossary({atom.text}, \"...\")",
        )


def _texts(engine: PolicyEngine) -> Iterable[tuple[str, str]]:
    """The KB sentences a clinician can read that are not rule sentences or advice (the lint
    checks those with their file and line: check/lint.py)."""
    for atom_text, sentence in engine.wording.glossary.items():
        yield sentence, f"the glossary entry of {atom_text}"
    for spec in engine.vocabulary.specs.values():
        yield spec.meaning, f"the meaning of {spec.key}"
        if spec.question:
            yield spec.question, f"the question for {spec.key}"


def _placeholders(engine: PolicyEngine) -> Iterator[Finding]:
    reported: set[tuple[str, str]] = set()
    for text, where in _texts(engine):
        for name in placeholders(text):
            if name not in engine.wording.parameters and (name, where) not in reported:
                reported.add((name, where))
                known = ", ".join(sorted(engine.wording.parameters)) or "none"
                yield Finding("unknown_placeholder", f"{{{name}}} in {where} is not a declared parameter (parameters: {known})")


def _advice(engine: PolicyEngine) -> Iterator[Finding]:
    program = engine.model
    for atom in program.ground_atoms("advice", 2):
        yield Finding(
            "advice_without_urgency",
            f"advice({atom.arguments[0]}, ...) has no urgency: write advice(Clause, Urgency, Text) "
            f"with Urgency one of {', '.join(engine.wording.urgencies)}",
        )
    for atom in program.ground_atoms(*ADVICE):
        urgency = str(atom.arguments[1])
        if urgency not in engine.wording.urgencies:
            yield Finding(
                "advice_without_urgency",
                f"advice of clause {atom.arguments[0].string} has urgency {urgency}, which urgency/3 does not declare "
                f"(declared: {', '.join(engine.wording.urgencies)})",
            )

"""A policy's questions as a FHIR R4 Questionnaire, and a QuestionnaireResponse as patient facts.

The Questionnaire is generated from the vocabulary: one item per fact, in the KB's
declaration order (interview.fact_order), its ``linkId`` the fact's key, its text the fact's
question (or, for a closed-world fact that is never asked as missing, its meaning, a
statement to tick). Item types come from one table keyed by the fact type's name
(:data:`ITEM_TYPES`); a type the table does not know becomes a ``string`` item, whose answer
the vocabulary validates as any other input. ``enableWhen`` comes from the KB's
``fact_relevant_when/3``.

An open-world list (red flags) has one more option, :data:`NONE_FOUND`, exclusive of the
others: a screen that found none (``[]``) is an answer, an item left unanswered is *not
screened* (unknown), never a negative screen.

The adaptive form (SDC ``$next-question``) is :func:`next_question`: the response's answers
are decided by the one engine; while undetermined, the next question is the first of the
decision's ``missing`` facts (those whose answer can still change the outcome) in the
Questionnaire's item order (interview.next_fact, as ``policykb ask`` asks), added to the
contained Questionnaire; once determined, the response is ``completed`` and carries the
decision as a display item.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from .decision import Decision
from .engine import PolicyEngine
from .errors import FieldProblem, InputError, KnowledgeBaseError
from .fhir import parse_resource
from .interview import fact_order, next_fact
from .render import STATUS_WORDS
from .vocabulary import FactSpec, PatientFacts

NONE_FOUND = "none-found"
"""The answer code of an open-world list screened with nothing found (the empty list)."""
DECISION_LINK_ID = "decision"
ADAPTIVE_ID = "adaptive"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
OPTION_EXCLUSIVE = "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive"
UCUM = "http://unitsofmeasure.org"


def answer_system(key: str) -> str:
    """The Coding.system of a fact's answer options (a name, not a published code system)."""
    return f"urn:policykb:fact:{key}"


# --- items, one table keyed by fact type ----------------------------------------------


def _bounds(spec: FactSpec, value: str) -> dict[str, Any]:
    number = int if value == "valueInteger" else float  # JSON numbers, whatever type the vocabulary keeps
    bounds = [(MIN_VALUE, spec.low), (MAX_VALUE, spec.high)]
    extensions = [{"url": url, value: number(bound)} for url, bound in bounds if bound is not None]
    return {"extension": extensions} if extensions else {}


def _unit(spec: FactSpec) -> dict[str, Any]:
    unit = getattr(spec, "unit", None)  # the decimal type's UCUM unit, when the vocabulary has one
    return {"extension": [{"url": UNIT, "valueCoding": {"system": UCUM, "code": unit}}]} if unit else {}


def _options(spec: FactSpec) -> list[dict[str, Any]]:
    return [{"valueCoding": {"system": answer_system(spec.key), "code": value, "display": value.replace("_", " ")}}
            for value in spec.values]


def _list_item(spec: FactSpec) -> dict[str, Any]:
    options = _options(spec)
    if spec.world == "open":  # the empty list is an answer only when a screen was done
        options.append({"valueCoding": {"system": answer_system(spec.key), "code": NONE_FOUND, "display": "none found"},
                        "extension": [{"url": OPTION_EXCLUSIVE, "valueBoolean": True}]})
    return {"type": "choice", "repeats": True, "answerOption": options}


def _decimal_item(spec: FactSpec) -> dict[str, Any]:
    item = {"type": "decimal", **_bounds(spec, "valueDecimal")}
    unit = _unit(spec)
    if unit:
        item["extension"] = [*item.get("extension", []), *unit["extension"]]
    return item


def _string_item(spec: FactSpec) -> dict[str, Any]:
    return {"type": "string"}


ITEM_TYPES: dict[str, Callable[[FactSpec], dict[str, Any]]] = {
    "boolean": lambda spec: {"type": "boolean"},
    "integer": lambda spec: {"type": "integer", **_bounds(spec, "valueInteger")},
    "decimal": _decimal_item,
    "enum": lambda spec: {"type": "choice", "answerOption": _options(spec)},
    "list": _list_item,
}
"""The Questionnaire item of each fact type (a type not here: a ``string`` item)."""


def relevant_when(engine: PolicyEngine) -> dict[str, list[tuple[str, str]]]:
    """``fact_relevant_when/3``: for each fact, the (other fact, value) pairs that enable it.
    A declaration naming a fact or value the vocabulary does not have is a KnowledgeBaseError."""
    specs = engine.vocabulary.specs
    found: dict[str, list[tuple[str, str]]] = {}
    for key, other, value in engine.model.relevant_when:
        enabling = specs.get(other)
        single_valued = enabling is not None and not (enabling.fact_type.ranged or enabling.fact_type.multiple)
        if key not in specs or enabling is None or not single_valued or value not in enabling.values:
            raise KnowledgeBaseError(f"{engine.policy.reference}: fact_relevant_when({key}, {other}, {value}) names a fact, "
                                     "or a value of a boolean or enum fact, that the vocabulary does not declare")
        found.setdefault(key, []).append((other, value))
    return found


def item(engine: PolicyEngine, key: str) -> dict[str, Any]:
    """The Questionnaire item that asks for ``key``."""
    spec = engine.vocabulary.specs[key]
    shape = ITEM_TYPES.get(spec.type, _string_item)(spec)
    text = spec.question or spec.meaning[:1].upper() + spec.meaning[1:]
    entry: dict[str, Any] = {"linkId": key, "text": text, **shape}
    conditions = [_enable_when(engine, other, value) for other, value in relevant_when(engine).get(key, ())]
    if conditions:
        entry["enableWhen"] = conditions
        if len(conditions) > 1:
            entry["enableBehavior"] = "any"
    return entry


def _enable_when(engine: PolicyEngine, other: str, value: str) -> dict[str, Any]:
    spec = engine.vocabulary.specs[other]
    answer: dict[str, Any]
    if spec.type == "boolean":
        answer = {"answerBoolean": value == "true"}
    else:
        answer = {"answerCoding": {"system": answer_system(other), "code": value}}
    return {"question": other, "operator": "=", **answer}


def questionnaire(engine: PolicyEngine, url: str) -> dict[str, Any]:
    """The policy's Questionnaire (FHIR R4 JSON), canonical ``url``; validated by fhir.resources."""
    policy = engine.policy
    resource = {
        "resourceType": "Questionnaire",
        "id": policy.id.replace("_", "-").lower(),
        "url": url,
        "version": policy.version,
        "name": _name(policy.reference),
        "title": f"{policy.reference} {policy.title}".strip(),
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": policy.metadata.get("commissioner"),
        "description": f"The questions {policy.reference} version {policy.version} decides on. Leave a question "
                       "unanswered when it is not known: it is then treated as unknown, never as no.",
        "item": [item(engine, key) for key in fact_order(engine)],
    }
    resource = {key: value for key, value in resource.items() if value is not None}
    Questionnaire.model_validate(resource)
    return resource


def _name(reference: str) -> str:
    """A computable name (``[A-Z][A-Za-z0-9_]*``)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", reference) or "Policy"
    return name if name[0].isupper() else "Q" + name


# --- answers ---------------------------------------------------------------------------


def response_resource(data: object) -> dict[str, Any]:
    """The QuestionnaireResponse of a request body: the resource itself, or SDC's Parameters
    holding it as ``questionnaire-response``; validated by fhir.resources."""
    if isinstance(data, Mapping) and data.get("resourceType") == "Parameters":
        found = [p.get("resource") for p in data.get("parameter") or () if isinstance(p, Mapping)
                 and p.get("name") == "questionnaire-response"]
        if len(found) != 1:
            raise InputError([FieldProblem("Parameters.parameter", "expected one questionnaire-response")])
        data = found[0]
    parse_resource(QuestionnaireResponse, data, "QuestionnaireResponse")
    assert isinstance(data, Mapping)
    return dict(data)


def _answered(items: object) -> Iterator[tuple[str, list[Mapping[str, Any]]]]:
    """(linkId, answers) of every item, nested ones included."""
    for entry in items if isinstance(items, list) else ():
        if not isinstance(entry, Mapping):
            continue
        yield str(entry.get("linkId")), [a for a in entry.get("answer") or () if isinstance(a, Mapping)]
        yield from _answered(entry.get("item"))
        for answer in entry.get("answer") or ():
            if isinstance(answer, Mapping):
                yield from _answered(answer.get("item"))


def _value(spec: FactSpec, answer: Mapping[str, Any]) -> object:
    """One answer as the JSON value the vocabulary validates."""
    for name in ("valueBoolean", "valueInteger", "valueDecimal", "valueString"):
        if name in answer:
            return answer[name]
    coding = answer.get("valueCoding")
    if isinstance(coding, Mapping) and coding.get("system") in (None, answer_system(spec.key)):
        return coding.get("code")
    quantity = answer.get("valueQuantity")
    if isinstance(quantity, Mapping):
        return quantity.get("value")
    return answer


def facts_from_response(engine: PolicyEngine, data: object) -> PatientFacts:
    """The patient facts of a QuestionnaireResponse (raw JSON or Parameters): each answered item
    is its fact; an unanswered one stays unknown. Raises InputError naming the item."""
    response = response_resource(data)
    specs = engine.vocabulary.specs
    mapping: dict[str, object] = {}
    problems: list[FieldProblem] = []
    for link_id, answers in _answered(response.get("item")):
        where = f"QuestionnaireResponse.item[linkId={link_id}]"
        spec = specs.get(link_id)
        if spec is None:
            if link_id != DECISION_LINK_ID:
                problems.append(FieldProblem(where, "not a question of this policy's Questionnaire"))
            continue
        if not answers:
            continue
        values = [_value(spec, answer) for answer in answers]
        if spec.type == "list":
            mapping[link_id] = [] if values == [NONE_FOUND] else values
        elif len(values) == 1:
            mapping[link_id] = values[0]
        else:
            problems.append(FieldProblem(where, "expected one answer"))
    if problems:
        raise InputError(problems)
    try:
        return engine.vocabulary.validate(mapping)
    except InputError as error:
        raise InputError([FieldProblem(f"QuestionnaireResponse.item[linkId={p.field}]", p.message)
                          for p in error.problems]) from None


# --- the adaptive form -------------------------------------------------------------------


def decision_text(decision: Decision) -> str:
    clauses = ", ".join(decision.clauses)
    return f"{STATUS_WORDS[decision.status]} under {decision.policy} version {decision.policy_version}" + (
        f" (clause{'s' if len(decision.clauses) > 1 else ''} {clauses})" if clauses else "")


def next_question(engine: PolicyEngine, data: object, url: str) -> tuple[dict[str, Any], Decision]:
    """SDC ``$next-question``: the response with its contained Questionnaire holding the questions
    asked so far and the next one, or ``completed`` with the decision once it is determined."""
    response = copy.deepcopy(response_resource(data))
    decision = engine.decide_facts(facts_from_response(engine, response))
    asked = [link_id for link_id, _ in _answered(response.get("item")) if link_id in engine.vocabulary.specs]
    following = next_fact(engine, decision) if not decision.determined else None
    shown = [key for key in fact_order(engine) if key in asked or key == following]
    items = [{k: v for k, v in item(engine, key).items() if k not in ("enableWhen", "enableBehavior")} for key in shown]
    if decision.determined:
        items.append({"linkId": DECISION_LINK_ID, "type": "display", "text": decision_text(decision),
                      "code": [{"system": f"{url}#status", "code": decision.status}]})
    contained = {
        "resourceType": "Questionnaire", "id": ADAPTIVE_ID, "url": f"{url}#{ADAPTIVE_ID}", "derivedFrom": [url],
        "status": "active", "subjectType": ["Patient"], "title": f"{engine.policy.reference} {engine.policy.title}",
        "item": items,
    }
    response["contained"] = [c for c in response.get("contained") or ()
                             if not (isinstance(c, Mapping) and c.get("id") == ADAPTIVE_ID)] + [contained]
    response["questionnaire"] = f"#{ADAPTIVE_ID}"
    response["status"] = "completed" if decision.determined else "in-progress"
    answered = [dict(entry) for entry in response.get("item") or () if isinstance(entry, Mapping)
                and entry.get("linkId") != DECISION_LINK_ID]
    response["item"] = answered
    if not response["item"]:
        del response["item"]
    QuestionnaireResponse.model_validate(response)
    return response, decision

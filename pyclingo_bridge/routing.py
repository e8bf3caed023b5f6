"""Which policies govern a procedure: the one place every front end asks.

Each policy declares the procedure codes it governs (``governs/3`` in its ``codes.lp``, with
the listing each code was checked against). ``policykb policies --code``, ``query`` without
``--policy``, the CDS Hooks service and ``audit --procedure-column`` all route through
:func:`governing`, reading the policy models; none of them names a policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import FieldProblem, InputError, PolicyNotChosenError
from .records import record

if TYPE_CHECKING:  # the vocabulary reads PROCEDURE_FIELD here: no import of the model at run time
    from .model import PolicyModel

PROCEDURE_FIELD = "procedure"
"""The reserved key of a JSON input that names the procedure asked for: ``{"system", "code"}``."""


@record
class Procedure:
    """A procedure code as given: ``system`` is the KB's name for it (``opcs4``) or a FHIR URI."""

    system: str
    code: str

    def __str__(self) -> str:
        return f"{self.system} {self.code}"


@record
class Route:
    """A policy that governs a procedure, with the declaration that says so."""

    policy_id: str
    reference: str
    system: str
    code: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {"policy": self.reference, "system": self.system, "code": self.code, "source": self.source}


def models(kb_root: Path | None = None) -> dict[str, PolicyModel]:
    """Every policy's model of the knowledge base, by folder id (built once per process)."""
    from .engine import engine_for  # the engine module imports the model; keep this one light
    from .knowledge_base import knowledge_base

    return {policy_id: engine_for(policy_id, kb_root).model for policy_id in knowledge_base(kb_root).policy_folders()}


def routes(model: PolicyModel, procedures: Iterable[Procedure]) -> list[Route]:
    """The declarations by which ``model``'s policy governs any of ``procedures``."""
    return [
        Route(model.id, model.info.reference, entry.system, entry.code, entry.source)
        for procedure in procedures
        for entry in model.codes.governs(procedure.system, procedure.code)
    ]


def governs(model: PolicyModel, procedures: Iterable[Procedure]) -> bool:
    """Whether ``model``'s policy governs any of ``procedures``."""
    return bool(routes(model, procedures))


def governing(all_models: Mapping[str, PolicyModel], procedures: Iterable[Procedure]) -> list[Route]:
    """Every policy (in KB order) that governs any of ``procedures``, one route each."""
    wanted = list(procedures)
    found = []
    for model in all_models.values():
        matched = routes(model, wanted)
        if matched:
            found.append(matched[0])
    return found


def known_system(all_models: Mapping[str, PolicyModel], system: str) -> bool:
    """Whether some policy's KB declares this code system (by name or URI)."""
    return any(model.codes.named_system(system) is not None for model in all_models.values())


def system_names(all_models: Mapping[str, PolicyModel]) -> list[str]:
    """The code systems of the knowledge base, by the KB's names for them."""
    return sorted({system.name for model in all_models.values() for system in model.codes.systems.values()})


def choose(all_models: Mapping[str, PolicyModel], procedures: Iterable[Procedure], where: str) -> str:
    """The one policy that governs the procedure named at ``where``; an error naming the
    policies otherwise (none governs it, or several do)."""
    wanted = list(procedures)
    found = governing(all_models, wanted)
    if len(found) == 1:
        return found[0].policy_id
    named = ", ".join(str(p) for p in wanted) or "no code"
    if found:
        raise PolicyNotChosenError(
            f"{where} ({named}) is governed by {len(found)} policies, name one of: {', '.join(r.reference for r in found)}"
        )
    known = ", ".join(model.info.reference for model in all_models.values()) or "none"
    raise PolicyNotChosenError(f"no policy governs {where} ({named}); name one of: {known}")


def procedure_of(facts: object) -> Procedure | None:
    """The procedure a JSON input names under its reserved key, checked; None when absent.

    ``{"procedure": {"system": "opcs4", "code": "F34.1"}}``: the system as the KB names it
    (``opcs4``, ``snomed``) or its FHIR URI, and the code as recorded.
    """
    if not isinstance(facts, Mapping) or PROCEDURE_FIELD not in facts:
        return None
    value = facts[PROCEDURE_FIELD]
    expected = 'an object {"system": "<code system, e.g. opcs4, snomed or a FHIR URI>", "code": "<code>"}'
    if not isinstance(value, Mapping) or set(value) != {"system", "code"}:
        raise InputError([FieldProblem(PROCEDURE_FIELD, f"expected {expected}")])
    system, code = value["system"], value["code"]
    for key, given in (("system", system), ("code", code)):
        if not isinstance(given, str) or not given.strip():
            raise InputError([FieldProblem(f"{PROCEDURE_FIELD}.{key}", "expected a non-empty string")])
    return Procedure(system.strip(), code.strip())


def without_procedure(facts: object) -> object:
    """The input with its reserved procedure key taken out (the vocabulary decides the rest)."""
    if isinstance(facts, Mapping) and PROCEDURE_FIELD in facts:
        return {key: value for key, value in facts.items() if key != PROCEDURE_FIELD}
    return facts


__all__ = [
    "PROCEDURE_FIELD",
    "Procedure",
    "Route",
    "choose",
    "governing",
    "governs",
    "known_system",
    "models",
    "procedure_of",
    "routes",
    "system_names",
    "without_procedure",
]

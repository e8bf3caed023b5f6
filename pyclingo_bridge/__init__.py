"""policykb: NHS clinical commissioning policies as ASP, decided by clingo with explanations.

The names below are imported on first use (PEP 562), so that importing the package, as the
command line does before anything else, costs nothing until a name is read: ``policykb``
can then set up the process (``cli.run``) before clingo is loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .decision import (
        STATUSES,
        STATUSES_DETERMINED,
        Advice,
        Decision,
        Explanation,
        MissingFact,
        Possibility,
        RouteNotTaken,
        Status,
        Step,
    )
    from .engine import PolicyEngine, decide, engine_for, model_for
    from .errors import (
        FieldProblem,
        InputError,
        KnowledgeBaseError,
        PolicyKBError,
        PolicyNotChosenError,
        UnknownPolicyError,
    )
    from .knowledge_base import KnowledgeBase
    from .metadata import PolicyInfo
    from .model import Parameter, PolicyModel
    from .vocabulary import PatientFacts, Vocabulary

_HOMES = {
    **dict.fromkeys(
        ("STATUSES", "STATUSES_DETERMINED", "Advice", "Decision", "Explanation", "MissingFact", "Possibility",
         "RouteNotTaken", "Status", "Step"), "decision"),
    **dict.fromkeys(("PolicyEngine", "decide", "engine_for", "model_for"), "engine"),
    **dict.fromkeys(
        ("FieldProblem", "InputError", "KnowledgeBaseError", "PolicyKBError", "PolicyNotChosenError", "UnknownPolicyError"),
        "errors"),
    "KnowledgeBase": "knowledge_base",
    "PolicyInfo": "metadata",
    **dict.fromkeys(("Parameter", "PolicyModel"), "model"),
    **dict.fromkeys(("PatientFacts", "Vocabulary"), "vocabulary"),
}
"""Each public name's module."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # read once: the next access is a plain attribute
    return value


__all__ = [
    "STATUSES",
    "STATUSES_DETERMINED",
    "Advice",
    "Decision",
    "Explanation",
    "FieldProblem",
    "InputError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "MissingFact",
    "Parameter",
    "PatientFacts",
    "PolicyEngine",
    "PolicyInfo",
    "PolicyKBError",
    "PolicyModel",
    "PolicyNotChosenError",
    "Possibility",
    "RouteNotTaken",
    "Status",
    "Step",
    "UnknownPolicyError",
    "Vocabulary",
    "__version__",
    "decide",
    "engine_for",
    "model_for",
]

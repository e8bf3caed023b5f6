"""policykb: NHS clinical commissioning policies as ASP, decided by clingo with explanations."""

from __future__ import annotations

from ._version import __version__
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

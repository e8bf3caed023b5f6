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
from .errors import FieldProblem, InputError, KnowledgeBaseError, PolicyKBError, UnknownPolicyError
from .knowledge_base import DEFAULT_POLICY, KnowledgeBase
from .metadata import PolicyInfo
from .model import Parameter, PolicyModel
from .vocabulary import PatientFacts, Vocabulary

__all__ = [
    "DEFAULT_POLICY",
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

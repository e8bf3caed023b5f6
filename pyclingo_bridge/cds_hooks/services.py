"""The services this CDS Hooks endpoint offers: one per policy and hook, with prefetch."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest

from ..engine import PolicyEngine
from ..fhir import governs_order

HOOKS = ("order-select", "order-sign")

# CDS Hooks prefetch templates: the client fills them in and sends the results.
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    # CRD's own key and query: the Coverage a coverage-information assertion references.
    "coverage": "Coverage?patient={{context.patientId}}&status=active",
}
REQUIRED_PREFETCH = ("patient", "conditions")
"""What a decision needs; ``coverage`` only lets the answer carry CRD coverage information."""


@dataclass(frozen=True)
class Service:
    """One CDS service: a policy's decision on one hook."""

    id: str
    hook: str
    engine: PolicyEngine

    @property
    def title(self) -> str:
        return f"{self.engine.policy.reference} {self.engine.policy.title}"

    def discovery(self) -> dict[str, Any]:
        policy = self.engine.policy
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": (
                f"Decides each draft ServiceRequest{_for(policy.metadata.get('order_noun'))} whose procedure code "
                f"{policy.reference} governs, under the version of {policy.reference} in force on its authoredOn "
                f"({policy.title}, {policy.metadata.get('commissioner', 'commissioner not recorded')}): "
                "commissioned, not commissioned, outside the policy or undetermined, with the clauses "
                "that decided it and the information still missing."
            ),
            "prefetch": {**PREFETCH, **observations_prefetch(self.engine)},
        }


def _for(noun: str | None) -> str:
    return f" for {noun}" if noun else ""


@cache
def observation_codes(engine: PolicyEngine) -> tuple[tuple[str, str], ...]:
    """The (system URI, code) of every Observation the policy maps to a fact (``code_measures/5``)."""
    systems = {system.name: system.uri for system in engine.model.codes.systems.values()}
    codes = [(systems[m.system], m.code) for m in engine.model.code_measures if m.system in systems]
    return tuple(sorted(set(codes)))


def observations_prefetch(engine: PolicyEngine) -> dict[str, str]:
    """The optional ``observations`` prefetch: the Observations of the codes the policy maps
    (none when it maps none). Without it those facts stay unknown, and are asked."""
    codes = ",".join(f"{system}|{code}" for system, code in observation_codes(engine))
    return {"observations": f"Observation?patient={{{{context.patientId}}}}&code={codes}"} if codes else {}


def governs(engine: PolicyEngine, order: ServiceRequest) -> bool:
    """Whether ``engine``'s policy decides this draft order: the one place the service asks.

    By the order's procedure code (``ServiceRequest.code``), as the policy declares it governs
    (``governs/3``, routing.py): an order of a procedure no policy governs (a medication, a
    diet, an unlisted procedure, an order with no code) gets no card from this service.
    """
    return governs_order(engine, order)


def services_for(engines: dict[str, PolicyEngine]) -> dict[str, Service]:
    """Every service, by id (``<policy>-<hook>``, e.g. ``cmicb_clin086-order-sign``)."""
    services = {}
    for policy_id, engine in engines.items():
        for hook in HOOKS:
            service = Service(f"{policy_id.lower()}-{hook}", hook, engine)
            services[service.id] = service
    return services

"""JSON schemas of the CDS Hooks 2.0 messages, for the OpenAPI document (and the fuzz test).

They describe the shape CDS Hooks defines; the service checks requests itself (request.py)
so that each fault gets its own status. FHIR resources are left open here (objects): they
are validated by fhir.resources.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..model import PolicyModel
from .body import MAX_BODY_BYTES
from .request import MAX_DRAFT_ORDERS, MAX_PREFETCH_ENTRIES

_FHIR_RESOURCE: dict[str, Any] = {"type": "object", "description": "A FHIR R4 resource (JSON)"}

HOOK_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["hook", "hookInstance", "context"],
    "properties": {
        "hook": {"type": "string", "enum": ["order-select", "order-sign"]},
        "hookInstance": {"type": "string"},
        "fhirServer": {"type": "string", "description": "Base URL the service reads a missing prefetch from"},
        "fhirAuthorization": {
            "type": "object",
            "description": "The bearer token for fhirServer (CDS Hooks 2.0); sent there only, never logged",
            "required": ["access_token", "token_type"],
            "properties": {
                "access_token": {"type": "string"},
                "token_type": {"type": "string", "enum": ["Bearer"]},
                "expires_in": {"type": "integer"},
                "scope": {"type": "string"},
                "subject": {"type": "string"},
            },
        },
        "context": {
            "type": "object",
            "required": ["patientId", "draftOrders"],
            "properties": {
                "userId": {"type": "string"},
                "patientId": {"type": "string"},
                "encounterId": {"type": "string"},
                "selections": {"type": "array", "items": {"type": "string"}},
                "draftOrders": {**_FHIR_RESOURCE, "description": "A FHIR Bundle of draft orders"},
            },
        },
        "prefetch": {
            "type": "object",
            "properties": {
                "patient": {**_FHIR_RESOURCE, "nullable": True},
                "conditions": {**_FHIR_RESOURCE, "nullable": True, "description": "A FHIR Bundle of Conditions"},
                "coverage": {**_FHIR_RESOURCE, "nullable": True, "description": "A FHIR Bundle of active Coverages"},
            },
        },
    },
}

CARD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["summary", "indicator", "source"],
    "properties": {
        "uuid": {"type": "string"},
        "summary": {"type": "string", "maxLength": 140},
        "indicator": {"type": "string", "enum": ["info", "warning", "critical"]},
        "detail": {"type": "string", "description": "Markdown"},
        "source": {"type": "object", "required": ["label"], "properties": {"label": {"type": "string"}}},
        "extension": {"type": "object", "description": "policykb: the machine-readable decision"},
    },
}

HOOK_RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["cards"],
    "properties": {
        "cards": {"type": "array", "items": CARD_SCHEMA},
        "systemActions": {"type": "array", "items": {
            "type": "object",
            "required": ["type", "description", "resource"],
            "properties": {
                "type": {"type": "string", "enum": ["update"]},
                "description": {"type": "string"},
                "resource": {**_FHIR_RESOURCE, "description": "The draft order with Da Vinci CRD coverage information"},
            },
        }},
    },
}

DISCOVERY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["services"],
    "properties": {
        "services": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["hook", "id", "description"],
                "properties": {
                    "hook": {"type": "string"},
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "prefetch": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        }
    },
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string", "description": "What is wrong, naming the field or header"}},
    "additionalProperties": False,
}
"""The body of every 4xx answer of the service (and of a 500, should one happen)."""

_ERROR: dict[str, Any] = {"content": {"application/json": {"schema": ERROR_SCHEMA}}}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request: the message names the field", **_ERROR},
    401: {"description": "No bearer JWT, or one refused (the reason says why: issuer, key, signature, "
                         "algorithm, aud, exp, iat, jti)", **_ERROR},
    404: {"description": "No such service", **_ERROR},
    408: {"description": "The body did not arrive within the read timeout", **_ERROR},
    412: {"description": "A prefetch was not sent for an order a policy governs "
                         "(this service never queries fhirServer)", **_ERROR},
    413: {"description": f"Body larger than {MAX_BODY_BYTES} bytes, more than {MAX_DRAFT_ORDERS} draft orders, "
                         f"or more than {MAX_PREFETCH_ENTRIES} entries in a prefetched Bundle", **_ERROR},
    415: {"description": "Content-Type is not application/json (UTF-8)", **_ERROR},
}

SECURITY_SCHEMES: dict[str, Any] = {
    "cdsHooksJwt": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "CDS Hooks 2.0: a JWT signed (ES384 or RS384) by a trusted client, with iss, aud "
                       "(the URL of the service called), exp, iat and a fresh jti",
    }
}

def example_request(models: Iterable[PolicyModel]) -> dict[str, Any]:
    """A complete order-sign request, from the KB: an order of the first procedure code a
    policy governs, for a patient with a condition its codes record (the OpenAPI example, and
    a seed for the fuzz test). The codes are the KB's: none is written here."""
    order: dict[str, Any] = {"resourceType": "ServiceRequest", "id": "order-1", "status": "draft", "intent": "order",
                             "subject": {"reference": "Patient/pat-1"}, "authoredOn": "2026-03-10"}
    conditions: list[dict[str, Any]] = []
    for model in models:
        maps = model.codes
        if not maps.governed:
            continue
        governed = maps.governed[0]
        system = maps.named_system(governed.system)
        order["code"] = {"coding": [{"system": system.uri if system else governed.system, "code": governed.code}]}
        conditions = [
            {"resource": {"resourceType": "Condition", "subject": {"reference": "Patient/pat-1"},
                          "code": {"coding": [{"system": system.uri, "code": meaning.code}]}}}
            for meaning, system in maps.indication_codes()[:1]
        ]
        break
    return {
        "hook": "order-sign",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"patientId": "pat-1",
                    "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]}},
        "prefetch": {
            "patient": {"resourceType": "Patient", "id": "pat-1", "birthDate": "1970-04-01"},
            "conditions": {"resourceType": "Bundle", "type": "searchset", "entry": conditions},
        },
    }

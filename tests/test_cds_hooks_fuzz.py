"""Fuzz the CDS Hooks service from its own OpenAPI document: no input gives a 500.

Schemathesis generates requests from the application's OpenAPI document (bounded: few
examples, no deadline) and sends them over HTTP to the real server on 127.0.0.1. (The schema
is read from the app object rather than through ``schemathesis.pytest.from_fixture``, which
does not work with pytest 9.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from pyclingo_bridge.cds_hooks import create_app, running_server

# Fetching off: a generated fhirServer must never make a test reach the network
# (tests/test_cds_fhir_fetch.py covers fetching against a local server).
APP = create_app(auth=None, fhir_fetch=False)
schema = schemathesis.openapi.from_dict(APP.openapi())


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_server(APP) as url:
        yield url


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case: schemathesis.Case, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, checks=[not_a_server_error])

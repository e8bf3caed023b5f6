"""Reading what a policy needs from the client's FHIR server when the prefetch was not sent.

CDS Hooks lets a service query ``fhirServer`` itself with the access token the client gives in
``fhirAuthorization``. This module does so, for a governed order only, and only for what the
decision reads: the Patient, its Conditions, the active Coverages (CRD coverage information;
its failure is not fatal), and the Observations of the codes the KB maps (``code_measures/5``;
none is read when the KB declares none). Every read is bounded:

* only URLs under the ``fhirServer`` given: no redirect is followed and a search's ``next``
  page elsewhere is not read; ``https`` unless the server is on a loopback address (the token
  never travels in clear over a network);
* a timeout per request and :data:`MAX_REQUESTS` requests per hook call (search pages included);
* :data:`MAX_RESPONSE_BYTES` per response, read as a stream and stopped past the limit.

A read that fails is a :class:`FetchError` naming what could not be read (the service answers
412). The token is sent in the ``Authorization`` header only; no message, log or error holds
it, nor the URL read (it holds the patient's id).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import quote, urlsplit

import httpx

from ..json_input import reject_duplicates
from .request import MAX_PREFETCH_ENTRIES

TIMEOUT_SECONDS = 5.0
"""Longest wait for each request to the FHIR server (connect, each read)."""
MAX_REQUESTS = 10
"""Most requests to the FHIR server per hook call, search pages included."""
MAX_RESPONSE_BYTES = 1024 * 1024
"""Largest response read from the FHIR server (1 MB, as for a hook call's own body)."""
MAX_ENTRIES = MAX_PREFETCH_ENTRIES
"""Most entries read from one search (its pages together): the prefetch's own cap."""


class FetchError(Exception):
    """What could not be read from the FHIR server, and why (a 412 to the hook call)."""


@dataclass(frozen=True)
class FetchLimits:
    timeout: float = TIMEOUT_SECONDS
    max_requests: int = MAX_REQUESTS
    max_response_bytes: int = MAX_RESPONSE_BYTES


DEFAULT_LIMITS = FetchLimits()


def fetch_target(data: dict[str, Any]) -> tuple[str, str] | None:
    """The FHIR server and bearer token a hook call offers, or None when it offers none."""
    server, authorization = data.get("fhirServer"), data.get("fhirAuthorization")
    if not isinstance(server, str) or not isinstance(authorization, dict):
        return None
    token = authorization.get("access_token")
    if not isinstance(token, str) or not token or str(authorization.get("token_type", "")).lower() != "bearer":
        return None
    return server.rstrip("/"), token


async def fetch_prefetch(
    server: str,
    token: str,
    patient_id: str,
    missing: Sequence[str],
    observations: Sequence[tuple[str, str]] = (),
    limits: FetchLimits = DEFAULT_LIMITS,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """The prefetch entries ``missing`` (``patient``, ``conditions``, ``coverage``), read from
    ``server``, plus ``observations`` (a searchset Bundle) when codes are given."""
    _check_server(server)
    reader = _Reader(server, token, limits, transport)
    found: dict[str, Any] = {}
    async with reader:
        if "patient" in missing:
            found["patient"] = await reader.read(f"Patient/{quote(patient_id, safe='')}", "the Patient", "Patient")
        if "conditions" in missing:
            found["conditions"] = await reader.search("Condition", {"patient": patient_id}, "the Conditions")
        if observations:
            codes = ",".join(f"{system}|{code}" for system, code in observations)
            found["observations"] = await reader.search(
                "Observation", {"patient": patient_id, "code": codes}, "the Observations")
        if "coverage" in missing:
            try:  # optional: without it the card says no Coverage was named
                found["coverage"] = await reader.search(
                    "Coverage", {"patient": patient_id, "status": "active"}, "the Coverages")
            except FetchError:
                pass
    return found


def _check_server(server: str) -> None:
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("fhirServer: expected an http(s) URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise FetchError("fhirServer: the access token is only sent over https (or to a loopback address)")
    if parts.query or parts.fragment or parts.username:
        raise FetchError("fhirServer: expected a base URL (no query, fragment or credentials)")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class _Reader:
    """GETs under one base URL with the bearer token, counted and bounded."""

    def __init__(self, server: str, token: str, limits: FetchLimits, transport: httpx.AsyncBaseTransport | None) -> None:
        self.server = server
        self.limits = limits
        self.requests = 0
        self._client = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"},
            timeout=limits.timeout, follow_redirects=False, transport=transport, trust_env=False)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._client.aclose()

    async def read(self, path: str, what: str, kind: str) -> Any:
        return await self._get(f"{self.server}/{path}", what, None, kind)

    async def search(self, kind: str, params: dict[str, str], what: str) -> dict[str, Any]:
        """A searchset Bundle of every page (``next`` links under the server only)."""
        bundle = await self._get(f"{self.server}/{kind}", what, params, "Bundle")
        entries = list(bundle.get("entry") or [])
        page = bundle
        while (link := _next_link(page)) is not None and len(entries) <= MAX_ENTRIES:
            if not _under(link, self.server):
                raise FetchError(f"{what}: the next page is not on fhirServer; not followed")
            page = await self._get(link, what, None, "Bundle")
            entries += page.get("entry") or []
        if len(entries) > MAX_ENTRIES:
            raise FetchError(f"{what}: more than {MAX_ENTRIES} entries; this service reads at most {MAX_ENTRIES}")
        return {"resourceType": "Bundle", "type": "searchset", "entry": entries}

    async def _get(self, url: str, what: str, params: dict[str, str] | None, kind: str | None) -> Any:
        if self.requests >= self.limits.max_requests:
            raise FetchError(f"{what}: more than {self.limits.max_requests} requests to fhirServer in one hook call")
        self.requests += 1
        shown = what  # not the URL: it holds the patient's id, and the message is logged
        try:
            async with self._client.stream("GET", url, params=params) as response:
                if response.status_code != 200:
                    raise FetchError(f"{shown}: fhirServer answered HTTP {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.limits.max_response_bytes:
                        raise FetchError(f"{shown}: response over {self.limits.max_response_bytes} bytes")
        except httpx.TimeoutException:
            raise FetchError(f"{shown}: fhirServer did not answer within {self.limits.timeout:g} s") from None
        except httpx.HTTPError as error:
            raise FetchError(f"{shown}: fhirServer could not be reached ({type(error).__name__})") from None
        try:
            data = json.loads(bytes(body), object_pairs_hook=reject_duplicates)
        except (ValueError, RecursionError):
            raise FetchError(f"{shown}: not JSON") from None
        if not isinstance(data, dict) or (kind is not None and data.get("resourceType") != kind):
            raise FetchError(f"{shown}: expected a FHIR {kind or 'resource'}")
        return data


def _next_link(bundle: dict[str, Any]) -> str | None:
    for link in bundle.get("link") or ():
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return str(link["url"])
    return None


def _under(url: str, server: str) -> bool:
    target, base = urlsplit(url), urlsplit(server)
    return ((target.scheme, target.netloc) == (base.scheme, base.netloc)
            and (target.path == base.path or target.path.startswith(base.path.rstrip("/") + "/")))

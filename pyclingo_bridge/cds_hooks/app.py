"""The CDS Hooks HTTP application (FastAPI): discovery, hook calls, and clear 4xx answers.

FastAPI (on Starlette) is used for its OpenAPI document, which the fuzz test reads, and its
well-kept ASGI stack under uvicorn. The body of a hook call is read by hand, not by a
pydantic model, so that each fault gets the status CDS Hooks asks for (400 malformed, 401
not authenticated, 412 prefetch missing, 413 too large, 415 not JSON) instead of a generic
422, and so that its size is enforced while it is read. Every 4xx has one body shape,
``{"detail": "<what is wrong>"}``. By default a call whose decisions are all remembered
(decisions.py) is answered on the event loop, start to end: it is CPU work of well under a
millisecond that holds the GIL wherever it runs, and a hand-off to a thread and back costs
more than the work (docs/performance.md, "CDS Hooks service at 50 concurrent clients"). A call the engine must decide goes to one worker
thread, in arrival order: clingo releases the GIL while it solves, so the loop goes on
answering the others meanwhile. docs/performance.md measures the older placements (every
call in the thread, Starlette's thread pool, the event loop).

Hook calls are authenticated (auth.py) when an :class:`Authenticator` is given; discovery
and the OpenAPI document stay open, as CDS Hooks allows. A token's ``aud`` must be the URL
of the service called: ``public_url`` + ``/cds-services/<id>``, where ``public_url`` is the
URL clients use (behind a proxy, say so); by default the address the server is bound to, as
the connection sees it (never the client's ``Host`` header).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._version import __version__
from ..engine import PolicyEngine, engine_for
from ..errors import InputError
from ..fhir import decide_order
from ..knowledge_base import knowledge_base
from ..questionnaire import next_question, questionnaire, relevant_when
from .auth import Authenticator, AuthError
from .body import READ_TIMEOUT_SECONDS, ReadableRefusals, read_body
from .cards import card
from .coverage_information import coverage_answer
from .decisions import DEFAULT_SIZE as DEFAULT_CACHE_SIZE
from .decisions import NotRemembered
from .fhir_fetch import (
    DEFAULT_LIMITS,
    FetchError,
    FetchLimits,
    fetch_prefetch,
    fetch_target,
)
from .openapi import (
    DISCOVERY_SCHEMA,
    ERROR_RESPONSES,
    HOOK_REQUEST_SCHEMA,
    HOOK_RESPONSE_SCHEMA,
    SECURITY_SCHEMES,
    example_request,
)
from .order_versions import OrderVersions
from .request import HookError, PrefetchMissing, parse_body, read_request
from .services import Service, governs, observation_codes, services_for
from .validated import ValidatedResources

DecideIn = Literal["thread", "pool", "loop"]

log = logging.getLogger(__name__)


def create_app(
    kb_root: Path | None = None,
    *,
    auth: Authenticator | None,
    public_url: str | None = None,
    cors_origins: Sequence[str] = (),
    read_timeout: float = READ_TIMEOUT_SECONDS,
    decide_in: DecideIn = "thread",
    cache_size: int = DEFAULT_CACHE_SIZE,
    as_of: date | None = None,
    fhir_fetch: bool = True,
    fetch_limits: FetchLimits = DEFAULT_LIMITS,
) -> FastAPI:
    """The application for every policy of the knowledge base at ``kb_root`` (or installed).

    Engines are built now, so a faulty knowledge base stops the server at start, not at the
    first request. ``decide_in`` says where a hook call is parsed and decided: ``thread`` (the
    default), on the event loop when every decision it needs is remembered, else in one
    worker thread shared by all such calls, in arrival order (the work holds the GIL and the
    engine's lock, so more threads only contend); ``pool``, Starlette's thread pool; ``loop``,
    on the event loop itself, solves too. ``cache_size`` bounds the
    decisions remembered by their facts (0: none; see decisions.py).

    ``auth`` verifies each hook call's bearer token; ``None`` (no authentication) is a choice
    the caller makes explicitly (``policykb serve --no-auth``, tests). ``cors_origins`` are
    the web origins allowed to call from a browser (none by default). ``read_timeout``
    bounds each wait for body data (408 after it). ``fhir_fetch`` lets a hook call that
    sends no prefetch for a governed order be answered from its ``fhirServer`` (fhir_fetch.py,
    within ``fetch_limits``); off, such a call is a 412.
    """
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cds-hooks-decide") if decide_in == "thread" else None
    kb = knowledge_base(kb_root)
    # Each policy's version in force on ``as_of`` (default: the day the server starts): what
    # discovery and the Questionnaire describe. Each order is decided under its own date's.
    engines = {policy_id: engine_for(policy_id, kb_root, as_of=as_of) for policy_id in kb.policy_folders()}
    services = services_for(engines)
    for engine in engines.values():
        relevant_when(engine)  # a Questionnaire's enableWhen: a faulty declaration stops the start
    versions = OrderVersions(kb_root, as_of, cache_size)
    resources = ValidatedResources()
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if auth is not None:
            auth.close()  # its signature helper, if one was started

    app = FastAPI(
        lifespan=lifespan,
        title="policykb CDS Hooks service",
        version=__version__,
        description="CDS Hooks 2.0: NHS commissioning policies decided at order-select and order-sign.",
    )
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    # Outermost: every early answer, whoever gives it, waits until the body is read (bounded).
    app.add_middleware(ReadableRefusals, read_timeout=read_timeout)
    base_url = public_url.rstrip("/") if public_url else None

    @app.exception_handler(HookError)
    async def hook_error(_: Request, error: HookError) -> JSONResponse:
        return _error(error.status, error.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return _error(error.status_code, str(error.detail), error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:20])
        return _error(400, problems or "malformed request")

    @app.exception_handler(Exception)
    async def server_error(_: Request, error: Exception) -> JSONResponse:
        log.error("hook call failed: %s", type(error).__name__, exc_info=error)
        return _error(500, "internal error: the service could not answer; the server log says why")

    @app.get("/cds-services", responses={200: {"content": {"application/json": {"schema": DISCOVERY_SCHEMA}}}})
    async def discovery() -> dict[str, Any]:
        """CDS Hooks discovery: the services offered, each with its prefetch templates."""
        return {"services": [service.discovery() for service in services.values()]}

    @app.post(
        "/cds-services/{service_id}",
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
            "schema": HOOK_REQUEST_SCHEMA, "example": example_request(engine.model for engine in engines.values())}}},
            **({"security": [{name: []} for name in SECURITY_SCHEMES]} if auth else {})},
        responses={200: {"content": {"application/json": {"schema": HOOK_RESPONSE_SCHEMA}}}, **ERROR_RESPONSES},
    )
    async def call_service(
        request: Request,
        # The enum only documents the ids (and steers the fuzz test to them); any other id is a 404.
        service_id: str = PathParameter(json_schema_extra={"enum": list(services)}),
    ) -> dict[str, Any]:
        """Decide the draft orders of a hook call that the service's policy governs; one card per decided order."""
        service = services.get(service_id)
        if service is None:
            raise HTTPException(404, f"no service {service_id!r}; see GET /cds-services")
        if auth is not None:
            await _authenticate(auth, request, f"{base_url or _bound_url(request)}/cds-services/{service_id}")
        body = await read_body(request)
        base = base_url or _bound_url(request)

        async def answer_to(sent: bytes | dict[str, Any]) -> dict[str, Any]:
            if executor is not None:
                data = parse_body(sent) if isinstance(sent, bytes) else sent
                try:  # remembered decisions: on the loop, no hand-off (see the module's docstring)
                    return _answer(service, versions, resources, data, base, remembered_only=True)
                except NotRemembered:
                    pass
                return await asyncio.get_running_loop().run_in_executor(executor, _answer, service, versions, resources, data, base)
            if decide_in == "pool":
                return await run_in_threadpool(_answer, service, versions, resources, sent, base)
            return _answer(service, versions, resources, sent, base)

        try:
            answer = await answer_to(body)
        except PrefetchMissing as needed:
            # Read on the event loop, so the decision thread never waits on the network.
            answer = await answer_to(await _fetched(needed, service.engine, fhir_fetch, fetch_limits))
        # Already plain JSON data: skip FastAPI's jsonable_encoder walk.
        return JSONResponse(answer)  # type: ignore[return-value]

    def policy_engine(policy_id: str) -> PolicyEngine:
        engine = next((e for key, e in engines.items() if key.lower() == policy_id.lower()), None)
        if engine is None:
            raise HTTPException(404, f"no policy {policy_id!r}; the policies are " + ", ".join(sorted(engines)))
        return engine

    security: dict[str, Any] = {"security": [{name: []} for name in SECURITY_SCHEMES]} if auth else {}

    @app.get("/Questionnaire/{policy_id}", openapi_extra=security,
             responses={200: {"content": {FHIR_JSON: {"schema": FHIR_RESOURCE_SCHEMA}}}, **ERROR_RESPONSES})
    async def get_questionnaire(request: Request, policy_id: str = PathParameter(
            json_schema_extra={"enum": [engine.policy.id for engine in engines.values()]})) -> JSONResponse:
        """The policy's questions as a FHIR R4 Questionnaire (items from its vocabulary)."""
        engine = policy_engine(policy_id)
        url = f"{base_url or _bound_url(request)}/Questionnaire/{engine.policy.id}"
        if auth is not None:
            await _authenticate(auth, request, f"{base_url or _bound_url(request)}{request.url.path}")
        return JSONResponse(questionnaire(engine, url), media_type=FHIR_JSON)

    @app.post(
        "/Questionnaire/{policy_id}/$next-question",
        openapi_extra={"requestBody": {"required": True, "content": {media: {"schema": FHIR_RESOURCE_SCHEMA}
                                                                     for media in (FHIR_JSON, "application/json")}},
                       **security},
        responses={200: {"content": {FHIR_JSON: {"schema": FHIR_RESOURCE_SCHEMA}}}, **ERROR_RESPONSES},
    )
    async def next_question_of(request: Request, policy_id: str = PathParameter(
            json_schema_extra={"enum": [engine.policy.id for engine in engines.values()]})) -> JSONResponse:
        """SDC $next-question: a QuestionnaireResponse (or Parameters holding it) with the next
        question that can still change the outcome, or completed with the decision."""
        engine = policy_engine(policy_id)
        base = base_url or _bound_url(request)
        if auth is not None:
            await _authenticate(auth, request, f"{base}{request.url.path}")
        body = await read_body(request, (FHIR_JSON, "application/json"))
        url = f"{base}/Questionnaire/{engine.policy.id}"
        if executor is not None:
            answer = await asyncio.get_running_loop().run_in_executor(executor, _next_question, engine, body, url)
        else:
            answer = await run_in_threadpool(_next_question, engine, body, url)
        return JSONResponse(answer, media_type=FHIR_JSON)

    _finish_openapi(app, secured=auth is not None)
    return app


FHIR_JSON = "application/fhir+json"
FHIR_RESOURCE_SCHEMA: dict[str, Any] = {"type": "object", "description": "A FHIR R4 resource (JSON)"}


def _next_question(engine: PolicyEngine, body: bytes, url: str) -> dict[str, Any]:
    try:
        response, _ = next_question(engine, parse_body(body), url)
    except InputError as error:
        raise HookError(400, str(error)) from None
    return response


async def _authenticate(auth: Authenticator, request: Request, audience: str) -> None:
    """401 with the reason for a call whose token is refused; the reason is logged, never the token.
    The signature is checked by the helper process (signed_tokens.py) while the loop goes on."""
    try:
        await auth.verify_async(request.headers.get("authorization"), audience)
    except AuthError as error:
        client = f"{request.client.host}:{request.client.port}" if request.client else "unknown client"
        log.warning("hook call to %s from %s refused: %s", request.url.path, client, error.reason)
        raise HTTPException(401, error.reason, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None


async def _fetched(needed: PrefetchMissing, engine: PolicyEngine, enabled: bool, limits: FetchLimits) -> dict[str, Any]:
    """The hook call with its missing prefetch read from its FHIR server, or the 412 saying why not."""
    target = fetch_target(needed.data)
    if not enabled:
        raise HookError(412, f"{needed.message}; this service does not read fhirServer itself (--fhir-fetch off)")
    if target is None:
        raise HookError(412, f"{needed.message}; the request gives no fhirServer with a bearer fhirAuthorization")
    sent = needed.data.get("prefetch") or {}
    wanted = [*needed.missing, *(["coverage"] if "coverage" not in sent else [])]
    try:
        found = await fetch_prefetch(*target, needed.patient_id, wanted, observation_codes(engine), limits)
    except FetchError as error:
        log.warning("prefetch not read from fhirServer: %s", error)  # never the token
        raise HookError(412, f"could not read {error}") from None
    return {**needed.data, "prefetch": {**sent, **found}}


def _bound_url(request: Request) -> str:
    """The URL of the address this connection reached (the default public URL)."""
    server = request.scope.get("server")
    if not server:
        return "http://localhost"
    host, port = server[0], server[1]
    host = f"[{host}]" if ":" in host else host
    return f"{request.url.scheme}://{host}:{port}"


def _error(status: int, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The one body shape of every refusal: ``{"detail": "<what is wrong>"}``."""
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _finish_openapi(app: FastAPI, secured: bool) -> None:
    """The OpenAPI document as served: FastAPI's 422 (never answered: a bad path parameter is
    a 400 of the one error shape) left out, and the bearer-JWT scheme when calls are secured."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for path in schema["paths"].values():
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
            components = schema.setdefault("components", {})
            for name in ("HTTPValidationError", "ValidationError"):
                components.get("schemas", {}).pop(name, None)
            if not components.get("schemas", True):
                del components["schemas"]
            if secured:
                components["securitySchemes"] = dict(SECURITY_SCHEMES)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _answer(service: Service, versions: OrderVersions, resources: ValidatedResources, body: bytes | dict[str, Any],
            base_url: str, remembered_only: bool = False) -> dict[str, Any]:
    """Parse, decide and render one hook call: a card per decided order, under the policy
    version in force on its ``authoredOn``, and, beside it, CRD coverage information as an
    ``update`` system action. ``remembered_only``: :class:`NotRemembered` as soon as a
    decision (or a version's engine) would have to be made, so that it can run on the loop."""
    # Orders no policy governs (laboratory, diet, medicine, ...) are left out: nothing to say.
    # Which codes a policy governs is read from the version the service was started under.
    data = parse_body(body) if isinstance(body, bytes) else body
    hook = read_request(data, service.hook, lambda order: governs(service.engine, order), resources.parse)
    cards, actions = [], []
    today = dt.datetime.now(dt.UTC).date()
    questionnaire = f"{base_url}/Questionnaire/{service.engine.policy.id}"
    for order, sent in zip(hook.orders, hook.drafts):
        engine, cache = versions.for_order(service.engine.policy.id, order, today, remembered_only)
        try:
            result = decide_order(engine, hook.patient, hook.conditions, order, hook.other,
                                  cache.remembered if remembered_only else cache.decide, hook.observations)
        except InputError as error:
            raise HookError(400, str(error)) from None
        shown = card(result, engine)
        coverage = coverage_answer(engine, result, sent, hook.coverages, questionnaire, today)
        if coverage.action is not None:
            actions.append(coverage.action)
        if coverage.note:
            shown["detail"] = shown["detail"].rstrip("\n") + "\n\n" + coverage.note + "\n"
        cards.append(shown)
    return {"cards": cards, "systemActions": actions} if actions else {"cards": cards}

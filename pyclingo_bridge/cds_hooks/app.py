"""The CDS Hooks HTTP application (FastAPI): discovery, hook calls, and clear 4xx answers.

FastAPI (on Starlette) is used for its OpenAPI document, which the fuzz test reads, and its
well-kept ASGI stack under uvicorn. The body of a hook call is read by hand, not by a
pydantic model, so that each fault gets the status CDS Hooks asks for (400 malformed, 412
prefetch missing, 413 too large) instead of a generic 422, and so that its size is enforced
while it is read. By default each call is parsed and decided in one worker thread, in
arrival order: the engine is synchronous (clingo, one lock per policy) and the event loop
stays free to read and answer other requests meanwhile. docs/performance.md measures this
against Starlette's thread pool and the event loop itself.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi import Path as PathParameter
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .._version import __version__
from ..engine import PolicyEngine, engine_for
from ..errors import InputError
from ..fhir import decide_order, is_policy_order
from ..knowledge_base import knowledge_base
from .cards import card
from .decisions import DEFAULT_SIZE as DEFAULT_CACHE_SIZE
from .decisions import DecisionCache
from .openapi import (
    DISCOVERY_SCHEMA,
    ERROR_RESPONSES,
    EXAMPLE_REQUEST,
    HOOK_REQUEST_SCHEMA,
    HOOK_RESPONSE_SCHEMA,
)
from .request import HookError, parse_body, read_request
from .services import Service, services_for

DecideIn = Literal["thread", "pool", "loop"]

MAX_BODY_BYTES = 1024 * 1024
"""Largest hook request read (1 MB); a larger one is refused with 413 before it is read whole."""


def create_app(
    kb_root: Path | None = None, *, decide_in: DecideIn = "thread", cache_size: int = DEFAULT_CACHE_SIZE
) -> FastAPI:
    """The application for every policy of the knowledge base at ``kb_root`` (or installed).

    Engines are built now, so a faulty knowledge base stops the server at start, not at the
    first request. ``decide_in`` says where a hook call is parsed and decided: ``thread``, one
    worker thread shared by all calls, in arrival order (the default: the work holds the GIL
    and the engine's lock, so more threads only contend, see docs/performance.md); ``pool``,
    Starlette's thread pool; ``loop``, on the event loop itself. ``cache_size`` bounds the
    decisions remembered by their facts (0: none; see decisions.py).
    """
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cds-hooks-decide") if decide_in == "thread" else None
    kb = knowledge_base(kb_root)
    engines = {policy_id: engine_for(policy_id, kb_root) for policy_id in kb.policy_folders()}
    services = services_for(engines)
    caches = {id(engine): DecisionCache(engine, cache_size) for engine in engines.values()}
    app = FastAPI(
        title="policykb CDS Hooks service",
        version=__version__,
        description="CDS Hooks 2.0: NHS commissioning policies decided at order-select and order-sign.",
    )
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"], allow_headers=["*"])

    @app.exception_handler(HookError)
    async def hook_error(_: Request, error: HookError) -> JSONResponse:
        return JSONResponse({"detail": error.message}, status_code=error.status)

    @app.get("/cds-services", responses={200: {"content": {"application/json": {"schema": DISCOVERY_SCHEMA}}}})
    async def discovery() -> dict[str, Any]:
        """CDS Hooks discovery: the services offered, each with its prefetch templates."""
        return {"services": [service.discovery() for service in services.values()]}

    @app.post(
        "/cds-services/{service_id}",
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
            "schema": HOOK_REQUEST_SCHEMA, "example": EXAMPLE_REQUEST}}}},
        responses={200: {"content": {"application/json": {"schema": HOOK_RESPONSE_SCHEMA}}}, **ERROR_RESPONSES},
    )
    async def call_service(
        request: Request,
        # The enum only documents the ids (and steers the fuzz test to them); any other id is a 404.
        service_id: str = PathParameter(json_schema_extra={"enum": list(services)}),
    ) -> dict[str, Any]:
        """Decide the draft imaging orders of a hook call; one card per decided order."""
        service = services.get(service_id)
        if service is None:
            raise HTTPException(404, f"no service {service_id!r}; see GET /cds-services")
        body = await _read_limited(request)
        cache = caches[id(service.engine)]
        if executor is not None:
            answer = await asyncio.get_running_loop().run_in_executor(executor, _answer, service, cache, body)
        elif decide_in == "pool":
            answer = await run_in_threadpool(_answer, service, cache, body)
        else:
            answer = _answer(service, cache, body)
        # Already plain JSON data: skip FastAPI's jsonable_encoder walk.
        return JSONResponse(answer)  # type: ignore[return-value]

    return app


def _answer(service: Service, cache: DecisionCache, body: bytes) -> dict[str, Any]:
    """Parse, decide and render one hook call (CPU work: runs off the event loop)."""
    hook = read_request(parse_body(body), service.hook)
    engine: PolicyEngine = service.engine
    cards = []
    for order in hook.orders:
        if not is_policy_order(engine, order):
            continue  # another kind of order (laboratory, ...): nothing to say about it
        try:
            result = decide_order(engine, hook.patient, hook.conditions, order, hook.other, cache.decide)
        except InputError as error:
            raise HookError(400, str(error)) from None
        cards.append(card(result, engine))
    return {"cards": cards}


async def _read_limited(request: Request) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed MAX_BODY_BYTES."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HookError(400, "Content-Length: expected a number of bytes")
        if int(declared) > MAX_BODY_BYTES:
            raise HookError(413, f"body of {declared} bytes exceeds the limit of {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HookError(413, f"body exceeds the limit of {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)



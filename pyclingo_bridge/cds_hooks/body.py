"""Reading a hook call's body: its type and size, a read timeout, and refusals any client reads.

A server that answers early (401, 413, 415, ...) and closes while the client is still
sending makes the client's kernel see a reset: a plain HTTP/1.1 client such as Python's
urllib, which sends the whole body before it reads, gets ``Connection reset by peer``
instead of the answer. :class:`ReadableRefusals` therefore reads and discards the rest of
the body, up to :data:`DRAIN_LIMIT_BYTES`, before an answer goes out; past that bound (or
for a client that waits on ``Expect: 100-continue``) it answers at once and closes.
Each wait for body data is bounded by the read timeout, so a slow client gets 408.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .request import HookError

MAX_BODY_BYTES = 1024 * 1024
"""Largest hook request read (1 MB); a larger one is refused with 413."""
DRAIN_LIMIT_BYTES = 16 * MAX_BODY_BYTES
"""The most of a refused body read and thrown away so that the client can read the refusal."""
READ_TIMEOUT_SECONDS = 10.0
"""Longest wait for the next part of a request (its head, or its body) before giving up."""


class ReadableRefusals:
    """ASGI middleware: an early answer waits until the request body has been read (bounded)."""

    def __init__(self, app: ASGIApp, read_timeout: float = READ_TIMEOUT_SECONDS) -> None:
        self.app = app
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = _BodyState(scope)

        async def timed_receive() -> Message:
            try:
                message = await asyncio.wait_for(receive(), self.read_timeout)
            except TimeoutError:
                state.timed_out = True
                raise HookError(408, f"request body not received within {self.read_timeout:g} s") from None
            state.saw(message)
            return message

        async def send_after_drain(message: Message) -> None:
            unread = message["type"] == "http.response.start" and not state.complete
            if unread and not await state.drain(receive, self.read_timeout):
                # The rest of the body stays unread: say the connection ends here.
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, timed_receive, send_after_drain)


class _BodyState:
    def __init__(self, scope: Scope) -> None:
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        self.declared = _int(headers.get(b"content-length"))
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        self.expects_continue = headers.get(b"expect", b"").lower() == b"100-continue"
        self.complete = self.declared == 0 or (self.declared is None and not chunked)
        self.received = 0
        self.timed_out = False

    def saw(self, message: Message) -> None:
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        elif message["type"] == "http.disconnect":
            self.complete = True

    async def drain(self, receive: Receive, timeout: float) -> bool:
        """Read and discard the rest of the body; whether it was all read."""
        if self.timed_out or (self.expects_continue and self.received == 0):
            return False  # too slow already, or the client sends nothing until told to
        if self.declared is not None and self.declared > DRAIN_LIMIT_BYTES:
            return False
        while not self.complete and self.received <= DRAIN_LIMIT_BYTES:
            try:
                self.saw(await asyncio.wait_for(receive(), timeout))
            except TimeoutError:
                return False
        return self.complete


async def read_body(request: Request, media_types: tuple[str, ...] = ("application/json",)) -> bytes:
    """The body of a hook call: JSON (415 otherwise), at most MAX_BODY_BYTES (413 otherwise).
    ``media_types``: those accepted (a FHIR operation also takes ``application/fhir+json``)."""
    content_type = request.headers.get("content-type", "")
    media_type, _, parameters = content_type.partition(";")
    if media_type.strip().lower() not in media_types:
        shown = f"{media_type.strip()!r}" if media_type.strip() else "none"
        raise HookError(415, f"Content-Type: expected {' or '.join(media_types)}, got {shown}")
    charset = _parameter(parameters, "charset")
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        raise HookError(415, f"Content-Type: charset {charset!r}; a CDS Hooks request is UTF-8 JSON")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isascii() or not declared.isdigit():
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


def _int(value: bytes | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _parameter(parameters: str, name: str) -> str | None:
    for part in parameters.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return value.strip().strip('"')
    return None


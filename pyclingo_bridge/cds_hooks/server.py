"""Run the service under uvicorn: one configuration for ``policykb serve``, tests and benchmarks.

uvicorn bounds the wait between requests (keep-alive) but not the wait for a request's head:
a client that opens a connection and sends its headers a byte at a time would hold it for
ever. :class:`_HeadTimeoutProtocol` closes a connection whose request head has not arrived
within the read timeout (the body's reads are bounded in body.py).

When the configuration is made, the application is built (engines grounded, models and
routes in place): everything alive then lives as long as the process, so it is frozen out of
the garbage collector's scans (``gc.freeze``). Otherwise each full collection walks them
all again (about 60 ms here) and stalls every call in flight meanwhile (docs/performance.md, "CDS Hooks service at 50 concurrent clients").
"""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from .body import READ_TIMEOUT_SECONDS

START_TIMEOUT_SECONDS = 20.0


class _HeadTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for each request head."""

    head_timeout = READ_TIMEOUT_SECONDS
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        super().data_received(data)
        if self.cycle is not cycle:  # a whole head arrived: a request is under way
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's head has the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()


def uvicorn_config(app: FastAPI, *, host: str = "127.0.0.1", port: int = 0,
                   read_timeout: float = READ_TIMEOUT_SECONDS, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration of the service: h11 with a head deadline of ``read_timeout``;
    what exists now is frozen out of the collector's scans (see above)."""
    protocol = type("HeadTimeoutProtocol", (_HeadTimeoutProtocol,), {"head_timeout": read_timeout})
    config = uvicorn.Config(app, host=host, port=port, http=protocol, **options)
    gc.collect()  # what is garbage already goes first, rather than be kept for ever
    gc.freeze()
    return config


@contextmanager
def running_server(app: FastAPI, host: str = "127.0.0.1", read_timeout: float = READ_TIMEOUT_SECONDS) -> Iterator[str]:
    """Serve ``app`` on a free port of ``host`` in a thread; yields the base URL, stops on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, host=host, port=port, read_timeout=read_timeout,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="cds-hooks-server")
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the CDS Hooks server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_SECONDS)
        sock.close()
        gc.unfreeze()  # a test's server and its application can be collected when it is done

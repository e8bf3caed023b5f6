"""A CDS Hooks 2.0 service: an order is decided while it is selected or signed, as cards.

:func:`create_app` builds the ASGI application (FastAPI); :func:`running_server` runs it on a
loopback port for tests and benchmarks. Every decision goes through the one engine.
"""

from __future__ import annotations

from .app import create_app
from .server import running_server

__all__ = ["create_app", "running_server"]

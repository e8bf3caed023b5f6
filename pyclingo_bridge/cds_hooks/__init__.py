"""A CDS Hooks 2.0 service: an order is decided while it is selected or signed, as cards.

:func:`create_app` builds the ASGI application (FastAPI), with an :class:`Authenticator` of
the trusted clients; :func:`uvicorn_config` is how it is served, and :func:`running_server`
runs it on a loopback port for tests and benchmarks. Every decision goes through the one engine.
"""

from __future__ import annotations

from .app import create_app
from .auth import Authenticator, AuthError, load_trusted_clients
from .server import running_server, uvicorn_config

__all__ = ["AuthError", "Authenticator", "create_app", "load_trusted_clients", "running_server", "uvicorn_config"]

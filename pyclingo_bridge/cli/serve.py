"""``policykb serve``: the CDS Hooks service over HTTP."""

from __future__ import annotations

from pathlib import Path

import click

from .options import kb_option, library_errors


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@kb_option
@library_errors
def serve(host: str, port: int, kb_root: Path | None) -> None:
    """Serve CDS Hooks 2.0 (order-select, order-sign) for every policy.

    Discovery at GET /cds-services, the OpenAPI document at /openapi.json. The service never
    queries a FHIR server: clients send the prefetch it declares.
    """
    import uvicorn  # imported here: the other commands do not need a web stack

    from ..cds_hooks import create_app

    uvicorn.run(create_app(kb_root), host=host, port=port, log_level="info")

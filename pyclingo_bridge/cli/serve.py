"""``policykb serve``: the CDS Hooks service over HTTP, for trusted clients only."""

from __future__ import annotations

import ipaddress
from datetime import date
from pathlib import Path

import click

from .options import as_of_option, kb_option, library_errors

NO_AUTH_NOTICE = (
    "policykb serve: authentication is OFF (--no-auth): any process on this machine can post "
    "patient data and read decisions. For development only."
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1 or localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--trusted-clients", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help='JSON file of the clients answered: {"clients": [{"iss": ..., "jwks": {"keys": [...]}}]}.')
@click.option("--no-auth", is_flag=True,
              help="Answer without authentication (development only; loopback --host only).")
@click.option("--public-url", default=None, metavar="URL",
              help="Base URL clients call, which tokens name in aud (default: http://HOST:PORT as bound).")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN",
              help="A web origin allowed to call from a browser (repeatable; none by default).")
# The default is cds_hooks.body.READ_TIMEOUT_SECONDS (a test holds them equal), written out so
# that --help does not import the web stack.
@click.option("--read-timeout", default=10.0, show_default=True, type=click.FloatRange(0.1, 300), metavar="SECONDS",
              help="Seconds to wait for each part of a request before giving up (408 or close).")
@click.option("--fhir-fetch", type=click.Choice(["on", "off"]), default="on", show_default=True,
              help="Read a missing prefetch from the call's fhirServer with its fhirAuthorization token.")
@as_of_option
@kb_option
@library_errors
def serve(host: str, port: int, trusted_clients: Path | None, no_auth: bool, public_url: str | None,
          cors_origins: tuple[str, ...], read_timeout: float, fhir_fetch: str, as_of: date | None,
          kb_root: Path | None) -> None:
    """Serve CDS Hooks 2.0 (order-select, order-sign) for every policy.

    Discovery at GET /cds-services, the OpenAPI document at /openapi.json; both are open.
    Each hook call must carry a bearer JWT of a client in --trusted-clients (CDS Hooks 2.0
    security). For orders a policy governs, clients send the prefetch it declares, or a
    fhirServer and fhirAuthorization it reads them from (unless --fhir-fetch off).
    """
    if trusted_clients is not None and no_auth:
        raise click.UsageError("--trusted-clients and --no-auth: choose one.")
    if trusted_clients is None and not no_auth:
        raise click.UsageError("--trusted-clients FILE is required: the service holds patient data and answers "
                               "only clients it trusts (for local development only: --no-auth on a loopback --host).")
    if no_auth and not is_loopback(host):
        raise click.UsageError(f"--no-auth is allowed only on a loopback --host (127.0.0.1, ::1), not {host!r}.")
    if public_url is not None and not public_url.startswith(("http://", "https://")):
        raise click.UsageError(f"--public-url: expected an http:// or https:// URL, got {public_url!r}.")
    import uvicorn  # imported here: the other commands do not need a web stack

    from ..cds_hooks import create_app, uvicorn_config
    from ..cds_hooks.auth import Authenticator, TrustFileError, load_trusted_clients

    auth = None
    if trusted_clients is not None:
        try:
            auth = Authenticator(load_trusted_clients(trusted_clients))
        except TrustFileError as error:
            raise click.ClickException(str(error)) from None
    else:
        click.echo(NO_AUTH_NOTICE, err=True)
    app = create_app(kb_root, auth=auth, public_url=public_url, cors_origins=cors_origins, read_timeout=read_timeout,
                     fhir_fetch=fhir_fetch == "on", as_of=as_of)
    uvicorn.Server(uvicorn_config(app, host=host, port=port, read_timeout=read_timeout, log_level="info")).run()

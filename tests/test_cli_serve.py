"""``policykb serve``: flags, and the real command answering on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec

from pyclingo_bridge.cli import main
from pyclingo_bridge.cli.serve import NO_AUTH_NOTICE

SIGN = "/cds-services/cmicb_clin086-order-sign"


def test_help() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "Serve CDS Hooks 2.0 (order-select, order-sign) for every policy." in result.output
    for option in ("--trusted-clients", "--no-auth", "--public-url", "--cors-origin", "--read-timeout"):
        assert option in result.output


def test_the_read_timeout_default_is_the_services() -> None:
    from pyclingo_bridge.cds_hooks.body import READ_TIMEOUT_SECONDS
    from pyclingo_bridge.cli.serve import serve

    [option] = [p for p in serve.params if p.name == "read_timeout"]
    assert option.default == READ_TIMEOUT_SECONDS


USAGE_CASES = [
    # name, arguments, message
    ("bad port", ["--port", "70000"], "Invalid value for '--port': 70000 is not in the range 0<=x<=65535."),
    ("no trust file", [], ("--trusted-clients FILE is required: the service holds patient data and answers only "
                           "clients it trusts (for local development only: --no-auth on a loopback --host).")),
    ("no auth on every interface", ["--no-auth", "--host", "0.0.0.0"],
     "--no-auth is allowed only on a loopback --host (127.0.0.1, ::1), not '0.0.0.0'."),
    ("no auth on a LAN address", ["--no-auth", "--host", "192.168.1.20"],
     "--no-auth is allowed only on a loopback --host (127.0.0.1, ::1), not '192.168.1.20'."),
    ("both", ["--no-auth", "--trusted-clients", "clients.json"], "--trusted-clients and --no-auth: choose one."),
    ("public URL not http", ["--no-auth", "--public-url", "ftp://x"],
     "--public-url: expected an http:// or https:// URL, got 'ftp://x'."),
]


@pytest.mark.parametrize(("arguments", "message"), [c[1:] for c in USAGE_CASES], ids=[c[0] for c in USAGE_CASES])
def test_usage_errors(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["serve", *arguments])
    assert result.exit_code == 2
    assert result.output.endswith(f"\nError: {message}\n")


def test_a_bad_trust_file_is_exit_1(tmp_path: Path) -> None:
    (tmp_path / "clients.json").write_text('{"clients": []}')
    result = CliRunner().invoke(main, ["serve", "--trusted-clients", str(tmp_path / "clients.json")])
    assert (result.exit_code, result.output) == (1, f"Error: {tmp_path / 'clients.json'}: no clients: the service would answer nobody\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(*arguments: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``policykb serve`` in a child process on a free 127.0.0.1 port, until discovery answers."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "pyclingo_bridge", "serve", "--host", "127.0.0.1", "--port", str(port),
                                *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/cds-services", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "policykb serve did not start"
                time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_no_auth_is_announced_and_serves() -> None:
    with serving("--no-auth") as (url, process):
        response = httpx.get(url + "/cds-services", timeout=5)
        assert response.status_code == 200
        assert len(response.json()["services"]) == 8  # two hooks for each of four policies
        example = json.loads((Path(__file__).resolve().parent.parent / "examples" / "fhir" / "cds-hooks-order-sign.json").read_text())
        assert httpx.post(url + SIGN, json=example, timeout=10).status_code == 200
    assert process.stderr is not None
    assert NO_AUTH_NOTICE in process.stderr.read().decode()


def _without_prefetch() -> dict[str, object]:
    example = json.loads((Path(__file__).resolve().parent.parent / "examples" / "fhir" / "cds-hooks-order-sign.json").read_text())
    # A loopback FHIR server on a port nobody listens on: fetching fails at once, offline.
    return {**example, "prefetch": {}, "fhirServer": f"http://127.0.0.1:{_free_port()}/fhir",
            "fhirAuthorization": {"access_token": "t", "token_type": "Bearer"}}


@pytest.mark.parametrize(("arguments", "ending"), [
    ((), "could not read the Patient: fhirServer could not be reached (ConnectError)"),
    (("--fhir-fetch", "off"), "; this service does not read fhirServer itself (--fhir-fetch off)"),
], ids=["fetching-on-by-default", "fetching-off"])
def test_fhir_fetch_flag(arguments: tuple[str, ...], ending: str) -> None:
    with serving("--no-auth", *arguments) as (url, _):
        response = httpx.post(url + SIGN, json=_without_prefetch(), timeout=10)
    assert response.status_code == 412 and response.json()["detail"].endswith(ending)


def test_trusted_clients_only(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    public = {**jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k1"}
    (tmp_path / "clients.json").write_text(json.dumps({"clients": [{"iss": "https://ehr.example", "jwks": {"keys": [public]}}]}))
    example = json.loads((Path(__file__).resolve().parent.parent / "examples" / "fhir" / "cds-hooks-order-sign.json").read_text())
    with serving("--trusted-clients", str(tmp_path / "clients.json")) as (url, process):
        assert httpx.get(url + "/cds-services", timeout=5).status_code == 200  # discovery stays open
        refused = httpx.post(url + SIGN, json=example, timeout=10)
        now = int(time.time())
        signed = jwt.encode({"iss": "https://ehr.example", "aud": url + SIGN, "exp": now + 60, "iat": now, "jti": "one"},
                            key, algorithm="ES384", headers={"kid": "k1"})
        accepted = httpx.post(url + SIGN, json=example, headers={"Authorization": f"Bearer {signed}"}, timeout=10)
    assert (refused.status_code, accepted.status_code) == (401, 200)
    assert process.stderr is not None
    log = process.stderr.read().decode()
    assert NO_AUTH_NOTICE not in log
    assert "refused: no Authorization header" in log and signed not in log

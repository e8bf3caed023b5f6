"""Token signatures checked in the helper process give exactly what the server process would give."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pyclingo_bridge.cds_hooks import Authenticator, create_app, running_server, signed_tokens
from pyclingo_bridge.cds_hooks.auth import trusted_clients
from pyclingo_bridge.cds_hooks.signed_tokens import SignatureHelper, check_signed, public_pem

ISSUER = "https://ehr.example"
AUDIENCE = "http://127.0.0.1:8080/cds-services/cmicb_clin086-order-sign"


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    return {"ec-1": ec.generate_private_key(ec.SECP384R1()),
            "rsa-1": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "forger": ec.generate_private_key(ec.SECP384R1())}


def tokens(keys: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(token, kid, alg): good ones of both algorithms, and one refused for each reason checked here."""
    now = int(time.time())
    good = {"iss": ISSUER, "aud": AUDIENCE, "exp": now + 120, "iat": now, "jti": "j"}
    made = []
    cases: list[tuple[dict[str, Any], str, str, str]] = [
        ({}, "ec-1", "ec-1", "ES384"),
        ({}, "rsa-1", "rsa-1", "RS384"),
        ({}, "forger", "ec-1", "ES384"),  # signed by another key
        ({"exp": now - 3600}, "ec-1", "ec-1", "ES384"),
        ({"iat": now + 3600}, "ec-1", "ec-1", "ES384"),
        ({"aud": "http://elsewhere.example/cds-services/x"}, "ec-1", "ec-1", "ES384"),
        ({"jti": None}, "rsa-1", "rsa-1", "RS384"),
        ({"extra": "x" * 5000}, "ec-1", "ec-1", "ES384"),  # longer than a pipe takes whole
    ]
    for changes, signer, kid, alg in cases:
        claims = {key: value for key, value in {**good, **changes}.items() if value is not None}
        made.append((jwt.encode(claims, keys[signer], algorithm=alg, headers={"kid": kid}), kid, alg))
    return made


def _public(keys: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {ISSUER: {kid: keys[kid].public_key() for kid in ("ec-1", "rsa-1")}}


async def _ready(helper: SignatureHelper, token: str, kid: str, alg: str) -> None:
    """Start the helper and wait (bounded) until it answers."""
    await helper.check(token, ISSUER, kid, alg, AUDIENCE)
    deadline = time.monotonic() + 20
    while not all(h.ready for h in helper._helpers) or not helper._helpers:
        assert time.monotonic() < deadline, "the helper did not start"
        await asyncio.sleep(0.02)


def test_the_helper_answers_as_the_server_process_would(keys: dict[str, Any]) -> None:
    made = tokens(keys)
    public = _public(keys)
    expected = [check_signed(token, public[ISSUER][kid], kid, alg, AUDIENCE, ISSUER) for token, kid, alg in made]
    assert [claims is not None for claims, _ in expected] == [True, True, False, False, False, False, False, True]

    async def run() -> list[Any]:
        helper = SignatureHelper(public)
        try:
            await _ready(helper, *made[0])
            answers = await asyncio.gather(*(helper.check(token, ISSUER, kid, alg, AUDIENCE) for token, kid, alg in made))
            assert helper._helpers and not helper._failed  # the helper answered, nothing fell back
            return answers
        finally:
            helper.close()

    assert asyncio.run(run()) == expected


def test_a_helper_that_stops_leaves_the_checks_to_the_server_process(keys: dict[str, Any],
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    made = tokens(keys)
    public = _public(keys)

    async def run() -> None:
        helper = SignatureHelper(public)
        await _ready(helper, *made[0])
        process = helper._helpers[0].process
        process.kill()
        process.wait()
        for token, kid, alg in made:
            assert await helper.check(token, ISSUER, kid, alg, AUDIENCE) == check_signed(
                token, public[ISSUER][kid], kid, alg, AUDIENCE, ISSUER)
        assert helper._failed and not helper._helpers
        helper.close()

    asyncio.run(run())
    assert "tokens are checked in the server process" in caplog.text


def test_close_ends_the_helpers(keys: dict[str, Any]) -> None:
    made = tokens(keys)

    async def run() -> None:
        helper = SignatureHelper(_public(keys), processes=2)
        await _ready(helper, *made[0])
        processes = [h.process for h in helper._helpers]
        assert len(processes) == 2
        helper.close()
        assert all(process.poll() is not None for process in processes)

    asyncio.run(run())


def test_the_service_checks_signatures_in_the_helper_and_ends_it_when_it_stops(keys: dict[str, Any]) -> None:
    jwk = {**jwt.algorithms.ECAlgorithm.to_jwk(keys["ec-1"].public_key(), as_dict=True), "kid": "ec-1"}
    auth = Authenticator(trusted_clients({"clients": [{"iss": ISSUER, "jwks": {"keys": [jwk]}}]}))
    app = create_app(auth=auth)
    with running_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        audience = f"{url}/cds-services/cmicb_clin086-order-sign"
        deadline = time.monotonic() + 20
        statuses = []
        while not (auth.helper._helpers and auth.helper._helpers[0].ready):
            assert time.monotonic() < deadline, "the helper did not start"
            now = int(time.time())
            token = jwt.encode({"iss": ISSUER, "aud": audience, "exp": now + 60, "iat": now, "jti": str(uuid.uuid4())},
                               keys["ec-1"], algorithm="ES384", headers={"kid": "ec-1"})
            statuses.append(http.post("/cds-services/cmicb_clin086-order-sign", content=b"{}",
                                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}).status_code)
            time.sleep(0.05)
        process = auth.helper._helpers[0].process
        forged = jwt.encode({"iss": ISSUER, "aud": audience, "exp": int(time.time()) + 60, "iat": int(time.time()),
                             "jti": "forged"}, keys["forger"], algorithm="ES384", headers={"kid": "ec-1"})
        refused = http.post("/cds-services/cmicb_clin086-order-sign", content=b"{}",
                            headers={"Authorization": f"Bearer {forged}", "Content-Type": "application/json"})
        assert (refused.status_code, refused.json()) == (
            401, {"detail": f"signature does not verify with key 'ec-1' of {ISSUER!r}"})
        assert set(statuses) == {400}  # authenticated, then refused for the empty body
        assert not auth.helper._failed
    assert process.poll() is not None


def test_a_token_the_helper_cannot_check_is_left_to_the_server_and_the_helper_goes_on(keys: dict[str, Any]) -> None:
    good, kid, alg = tokens(keys)[0]
    pems = {ISSUER: {"ec-1": public_pem(keys["ec-1"].public_key())}}
    lines = [pems, [1, good, ISSUER, "no-such-key", alg, AUDIENCE], [2, good, ISSUER, kid, alg, AUDIENCE]]
    done = subprocess.run([sys.executable, "-I", signed_tokens.__file__], input="".join(json.dumps(x) + "\n" for x in lines),
                          capture_output=True, text=True, timeout=60, check=True)
    ready, unchecked, checked = (json.loads(line) for line in done.stdout.splitlines())
    assert (ready, unchecked) == ("ready", [1, None, None])
    assert checked == [2, *check_signed(good, keys["ec-1"].public_key(), kid, alg, AUDIENCE, ISSUER)]
    assert done.stderr == ""

"""CDS Hooks 2.0 authentication over real HTTP on 127.0.0.1: only trusted clients get answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge.cds_hooks import (
    Authenticator,
    AuthError,
    create_app,
    load_trusted_clients,
    running_server,
)
from pyclingo_bridge.cds_hooks.auth import MAX_LIFETIME_SECONDS, TrustFileError, trusted_clients

EXAMPLE = json.loads((Path(__file__).resolve().parent.parent / "examples" / "fhir" / "cds-hooks-order-sign.json").read_text())
SIGN = "/cds-services/cmicb_clin086-order-sign"
SELECT = "/cds-services/cmicb_clin086-order-select"
ISSUER = "https://ehr.example"


def _jwk(public_key: Any, kid: str) -> dict[str, Any]:
    algorithm = jwt.algorithms.ECAlgorithm if isinstance(public_key, ec.EllipticCurvePublicKey) else jwt.algorithms.RSAAlgorithm
    return {**algorithm.to_jwk(public_key, as_dict=True), "kid": kid}


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    """The client's ES384 and RS384 private keys, and an attacker's ES384 key."""
    return {"ES384": ec.generate_private_key(ec.SECP384R1()),
            "RS384": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "forger": ec.generate_private_key(ec.SECP384R1())}


@pytest.fixture(scope="module")
def trust_file(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Any]) -> Path:
    path = tmp_path_factory.mktemp("trust") / "trusted-clients.json"
    path.write_text(json.dumps({"clients": [{"iss": ISSUER, "jwks": {"keys": [
        _jwk(keys["ES384"].public_key(), "ec-1"), _jwk(keys["RS384"].public_key(), "rsa-1")]}}]}))
    return path


@pytest.fixture(scope="module")
def base_url(trust_file: Path) -> Iterator[str]:
    with running_server(create_app(auth=Authenticator(load_trusted_clients(trust_file)))) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        yield http


def claims(base_url: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": base_url + SIGN, "exp": now + 60, "iat": now, "jti": str(uuid.uuid4())}
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not ...}


def token(keys: dict[str, Any], payload: dict[str, Any], key: str = "ES384", kid: str = "ec-1", alg: str = "ES384") -> str:
    return jwt.encode(payload, keys[key], algorithm=alg, headers={"kid": kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with_public_key(keys: dict[str, Any], payload: dict[str, Any]) -> str:
    """The key-confusion attack: HS256 keyed with the client's public key (PEM), as a verifier
    that trusts the token's alg would check it."""
    secret = keys["RS384"].public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': 'rsa-1'}).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def call(client: httpx.Client, authorization: str | None, path: str = SIGN) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return client.post(path, json=EXAMPLE, headers=headers)


@pytest.mark.parametrize(("key", "kid", "alg"), [("ES384", "ec-1", "ES384"), ("RS384", "rsa-1", "RS384")], ids=["ES384", "RS384"])
def test_a_trusted_clients_token_is_accepted(client: httpx.Client, base_url: str, keys: dict[str, Any],
                                             key: str, kid: str, alg: str) -> None:
    response = call(client, "Bearer " + token(keys, claims(base_url), key, kid, alg))
    assert response.status_code == 200
    assert response.json()["cards"][0]["extension"]["policykb"]["status"] == "outside_policy"


# name, Authorization header from (keys, base_url), reason
REFUSALS = [
    ("missing header", lambda k, u: None, "no Authorization header: send 'Authorization: Bearer <JWT>' (CDS Hooks 2.0)"),
    ("not a bearer token", lambda k, u: "Basic dXNlcjpwYXNz", "Authorization: expected 'Bearer <JWT>'"),
    ("not a JWT", lambda k, u: "Bearer not-a-jwt", "the bearer token is not a JWT"),
    ("forged with another key", lambda k, u: "Bearer " + token(k, claims(u), key="forger"),
     f"signature does not verify with key 'ec-1' of '{ISSUER}'"),
    ("wrong issuer", lambda k, u: "Bearer " + token(k, claims(u, iss="https://evil.example")),
     "issuer 'https://evil.example' is not a trusted client"),
    ("unknown kid", lambda k, u: "Bearer " + token(k, claims(u), kid="ec-9"), f"no key 'ec-9' for issuer '{ISSUER}'"),
    ("kid of a key of another type", lambda k, u: "Bearer " + token(k, claims(u), kid="rsa-1"),
     "key 'rsa-1' is not an EC key, as ES384 needs"),
    ("expired", lambda k, u: "Bearer " + token(k, claims(u, exp=int(time.time()) - 120, iat=int(time.time()) - 180)),
     "token expired (exp)"),
    ("issued in the future", lambda k, u: "Bearer " + token(k, claims(u, iat=int(time.time()) + 120, exp=int(time.time()) + 180)),
     "token issued in the future (iat) or not yet valid (nbf)"),
    ("lives too long", lambda k, u: "Bearer " + token(k, claims(u, exp=int(time.time()) + 3600)),
     f"token lives too long: exp at most {MAX_LIFETIME_SECONDS} s from now"),
    ("wrong aud", lambda k, u: "Bearer " + token(k, claims(u, aud=u + SELECT)), f"aud is not this service ({{url}}{SIGN})"),
    ("aud of another server", lambda k, u: "Bearer " + token(k, claims(u, aud="https://other.example" + SIGN)),
     f"aud is not this service ({{url}}{SIGN})"),
    ("no jti", lambda k, u: "Bearer " + token(k, claims(u, jti=...)), "claim jti missing"),
    ("exp as a string", lambda k, u: "Bearer " + token(k, claims(u, exp=str(int(time.time()) + 60))),
     "claim exp: expected a NumericDate (seconds since the epoch, a JSON number)"),
    ("no exp", lambda k, u: "Bearer " + token(k, claims(u, exp=...)), "claim exp missing"),
    ("alg none", lambda k, u: "Bearer " + jwt.encode(claims(u), None, algorithm="none", headers={"kid": "ec-1"}),
     "algorithm 'none' is not allowed (ES384 or RS384)"),
    ("ES256 (not on the list)", lambda k, u: "Bearer " + jwt.encode(claims(u), ec.generate_private_key(ec.SECP256R1()),
                                                                    algorithm="ES256", headers={"kid": "ec-1"}),
     "algorithm 'ES256' is not allowed (ES384 or RS384)"),
    ("HS256 with the public key as secret", lambda k, u: "Bearer " + hs256_with_public_key(k, claims(u)),
     "algorithm 'HS256' is not allowed (ES384 or RS384)"),
]


@pytest.mark.parametrize(("authorization", "reason"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_a_refused_token_is_401_with_its_reason(client: httpx.Client, base_url: str, keys: dict[str, Any],
                                                caplog: pytest.LogCaptureFixture, authorization: Any, reason: str) -> None:
    header = authorization(keys, base_url)
    with caplog.at_level(logging.WARNING, logger="pyclingo_bridge.cds_hooks"):
        response = call(client, header)
    expected = reason.replace("{url}", base_url)
    assert (response.status_code, response.json()) == (401, {"detail": expected})
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert expected in caplog.text
    if header:
        assert header.removeprefix("Bearer ").removeprefix("Basic ") not in caplog.text


def test_a_replayed_token_is_401(client: httpx.Client, base_url: str, keys: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    signed = token(keys, claims(base_url))
    assert call(client, "Bearer " + signed).status_code == 200
    with caplog.at_level(logging.WARNING, logger="pyclingo_bridge.cds_hooks"):
        replay = call(client, "Bearer " + signed)
    assert (replay.status_code, replay.json()) == (401, {"detail": "token already used (jti seen before)"})
    assert "token already used" in caplog.text and signed not in caplog.text
    for record in caplog.records:
        assert signed not in record.getMessage()


def test_the_same_jti_from_another_issuer_is_not_a_replay() -> None:
    # The replay memory is per issuer: two clients may happen to choose the same jti.
    first, second = ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP384R1())
    auth = Authenticator(trusted_clients({"clients": [
        {"iss": "https://a.example", "jwks": {"keys": [_jwk(first.public_key(), "a")]}},
        {"iss": "https://b.example", "jwks": {"keys": [_jwk(second.public_key(), "b")]}}]}))
    now = int(time.time())
    for key, kid, iss in ((first, "a", "https://a.example"), (second, "b", "https://b.example")):
        payload = {"iss": iss, "aud": "http://x/cds-services/s", "exp": now + 60, "iat": now, "jti": "same"}
        assert auth.verify("Bearer " + jwt.encode(payload, key, algorithm="ES384", headers={"kid": kid}),
                           "http://x/cds-services/s")["iss"] == iss


@pytest.mark.parametrize("path", ["/cds-services", "/openapi.json"], ids=["discovery", "OpenAPI document"])
def test_discovery_and_the_openapi_document_stay_open(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 200


def test_the_openapi_document_declares_the_bearer_jwt(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["cdsHooksJwt"]["scheme"] == "bearer"
    assert document["paths"]["/cds-services/{service_id}"]["post"]["security"] == [{"cdsHooksJwt": []}]


def test_a_public_url_sets_the_audience(trust_file: Path, keys: dict[str, Any]) -> None:
    app = create_app(auth=Authenticator(load_trusted_clients(trust_file)), public_url="https://cds.example/")
    with running_server(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        assert call(http, "Bearer " + token(keys, claims(url, aud="https://cds.example" + SIGN))).status_code == 200
        refused = call(http, "Bearer " + token(keys, claims(url)))
    assert (refused.status_code, refused.json()) == (401, {"detail": f"aud is not this service (https://cds.example{SIGN})"})


TRUST_FILE_CASES = [
    # name, data, message
    ("not an object", [], 'expected {"clients": [{"iss": ..., "jwks": {"keys": [...]}}]}'),
    ("no clients", {"clients": []}, "no clients: the service would answer nobody"),
    ("no iss", {"clients": [{"jwks": {"keys": []}}]}, "clients[0].iss: expected the issuer, a non-empty string"),
    ("no keys", {"clients": [{"iss": ISSUER, "jwks": {"keys": []}}]},
     'clients[0].jwks: expected a JWK Set, {"keys": [...]} with at least one key'),
    ("no kid", {"clients": [{"iss": ISSUER, "jwks": {"keys": [{"kty": "EC"}]}}]},
     "clients[0].jwks.keys[0].kid: expected the key id, a string"),
    ("a shared secret", {"clients": [{"iss": ISSUER, "jwks": {"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]}}]},
     "clients[0].jwks.keys[0].kty: expected EC or RSA (for ES384, RS384)"),
    ("a private key", {"clients": [{"iss": ISSUER, "jwks": {"keys": [{"kty": "EC", "kid": "p", "d": "x"}]}}]},
     "clients[0].jwks.keys[0]: a private key; give the public key only"),
    ("a broken key", {"clients": [{"iss": ISSUER, "jwks": {"keys": [{"kty": "EC", "kid": "b", "crv": "P-384"}]}}]},
     "clients[0].jwks.keys[0]: not a usable public key"),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in TRUST_FILE_CASES], ids=[c[0] for c in TRUST_FILE_CASES])
def test_a_bad_trust_file_is_one_clear_error(data: object, message: str) -> None:
    with pytest.raises(TrustFileError) as error:
        trusted_clients(data, "clients.json")
    assert str(error.value).startswith(f"clients.json: {message}")


def test_an_unreadable_trust_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TrustFileError, match=r"cannot read the trusted clients file \(No such file or directory\)"):
        load_trusted_clients(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(TrustFileError, match="bad.json: not a JSON file"):
        load_trusted_clients(tmp_path / "bad.json")


def test_an_unauthenticated_large_body_gets_a_readable_401(base_url: str) -> None:
    # The token is checked before the body is read; the body is still read and dropped, so
    # a client that sends it all before reading (urllib) reads the 401.
    request = urllib.request.Request(base_url + SIGN, data=b" " * (2 * 1024 * 1024), headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=20)
    assert (refused.value.code, json.loads(refused.value.read())) == (
        401, {"detail": "no Authorization header: send 'Authorization: Bearer <JWT>' (CDS Hooks 2.0)"})


AUDIENCE = "http://127.0.0.1:1/cds-services/s"
CLAIM_VALUES = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
                         st.integers(0, 2**40).map(str), st.builds(lambda n: str(int(time.time()) + n), st.integers(-60, 60)),
                         st.sampled_from([ISSUER, AUDIENCE]), st.lists(st.sampled_from([AUDIENCE, "x"]), max_size=2))


@given(header=st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_any_authorization_header_is_refused_with_a_reason(header: str) -> None:
    auth = Authenticator(trusted_clients({"clients": [{"iss": ISSUER, "jwks": {"keys": [_jwk(_PROPERTY_KEY.public_key(), "k")]}}]}))
    with pytest.raises(AuthError):
        auth.verify(header, AUDIENCE)


@given(changes=st.dictionaries(st.sampled_from(["iss", "aud", "exp", "iat", "jti", "nbf"]),
                               st.one_of(CLAIM_VALUES, st.just(...), st.integers(-400, 400).map(lambda n: ("now", n)),
                                         st.integers(-400, 400).map(lambda n: ("now as text", n))), max_size=3))
@settings(max_examples=300, deadline=None)
def test_a_token_of_any_claims_is_accepted_only_when_every_check_holds(changes: dict[str, Any]) -> None:
    # Signed by the trusted key: the verdict depends on the claims alone, never an exception.
    # Valid claims with up to three changed (a value, a time near now, as a number or text) or gone.
    auth = Authenticator(trusted_clients({"clients": [{"iss": ISSUER, "jwks": {"keys": [_jwk(_PROPERTY_KEY.public_key(), "k")]}}]}))
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "exp": now + 60, "iat": now, "jti": "j"}
    for name, value in changes.items():
        if value is ...:
            claims.pop(name, None)
        elif isinstance(value, tuple):
            claims[name] = now + value[1] if value[0] == "now" else str(now + value[1])
        else:
            claims[name] = value
    # Signed at the JWS layer: PyJWT's jwt.encode refuses some claims a forger could still send.
    signed = jwt.PyJWS().encode(json.dumps(claims).encode(), _PROPERTY_KEY, algorithm="ES384", headers={"kid": "k"})
    try:
        accepted = auth.verify("Bearer " + signed, AUDIENCE, now=now)
    except AuthError:
        return
    assert accepted["iss"] == ISSUER
    assert accepted["aud"] == AUDIENCE or AUDIENCE in accepted["aud"]
    assert isinstance(accepted["jti"], str) and accepted["jti"]
    for name in ("exp", "iat"):
        assert isinstance(accepted[name], int | float) and not isinstance(accepted[name], bool)
    assert now - 30 < accepted["exp"] <= now + 330 and accepted["iat"] <= now + 30


_PROPERTY_KEY = ec.generate_private_key(ec.SECP384R1())


QUESTIONNAIRE = "/Questionnaire/cmicb_clin086"
NEXT_QUESTION = QUESTIONNAIRE + "/$next-question"
EMPTY_RESPONSE = {"resourceType": "QuestionnaireResponse", "status": "in-progress"}


@pytest.mark.parametrize(("method", "path"), [("GET", QUESTIONNAIRE), ("POST", NEXT_QUESTION)], ids=["questionnaire", "next-question"])
def test_the_questionnaire_endpoints_are_authenticated(client: httpx.Client, base_url: str, keys: dict[str, Any],
                                                        method: str, path: str) -> None:
    def send(authorization: str | None) -> httpx.Response:
        headers = {"Authorization": authorization} if authorization else {}
        return client.request(method, path, headers=headers, json=EMPTY_RESPONSE if method == "POST" else None)

    assert send(None).status_code == 401
    assert send("Bearer " + token(keys, claims(base_url))).status_code == 401  # a token for the hook service
    assert send("Bearer " + token(keys, claims(base_url, aud=base_url + path))).status_code == 200

"""CDS Hooks 2.0 client authentication: the bearer JWT of each hook call, checked.

A CDS client signs a short-lived JWT with its private key and sends it as
``Authorization: Bearer <JWT>``. The service trusts only the issuers of its trust file, each
with its public keys as a JWK Set, and accepts a token only when all of this holds:

- the algorithm is on the allow-list (ES384, RS384, as CDS Hooks asks; never ``none``, never
  a shared-secret HS* algorithm), and the key named by ``kid`` is of that algorithm's type;
- the signature verifies with that key of the token's issuer (``iss``);
- ``aud`` is the URL of the service called;
- ``exp`` has not passed and ``iat`` is not in the future (with a small clock skew), and the
  token lives at most :data:`MAX_LIFETIME_SECONDS` (so a replayed one is remembered long
  enough, in bounded memory);
- ``jti`` was not seen before from this issuer within the token's lifetime.

Every refusal is an :class:`AuthError` with the reason, which the service answers as 401 and
logs; the token itself is never logged or echoed. The signature and registered claims are
checked by signed_tokens.py; the service has it done in a helper process (:meth:`Authenticator.verify_async`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from .signed_tokens import CLOCK_SKEW_SECONDS, SignatureHelper, check_signed

ALGORITHMS = {"ES384": "EC", "RS384": "RSA"}
"""The accepted signing algorithms, each with the JWK key type (``kty``) it verifies with."""

MAX_LIFETIME_SECONDS = 300
"""A token may expire at most 5 minutes (plus the skew) after now: CDS Hooks tokens are
short-lived, and the replay memory need only keep a ``jti`` that long."""
REPLAY_CACHE_SIZE = 100_000


class AuthError(Exception):
    """A hook call whose token is refused, with the reason (safe to show and log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TrustFileError(ValueError):
    """A trust file that cannot be read or has the wrong shape (the service does not start)."""


@dataclass(frozen=True)
class TrustedClient:
    """One CDS client the service answers: its issuer and its public keys, by ``kid``."""

    iss: str
    keys: Mapping[str, jwt.PyJWK]


def load_trusted_clients(path: Path) -> dict[str, TrustedClient]:
    """The clients of a trust file ``{"clients": [{"iss": ..., "jwks": {"keys": [...]}}]}``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TrustFileError(f"{path}: cannot read the trusted clients file ({error.strerror})") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise TrustFileError(f"{path}: not a JSON file ({error})") from None
    return trusted_clients(data, str(path))


def trusted_clients(data: object, where: str = "trusted clients") -> dict[str, TrustedClient]:
    """Check the trust file's data: every client with an issuer URL and at least one usable key."""
    if not isinstance(data, dict) or not isinstance(data.get("clients"), list):
        raise TrustFileError(f'{where}: expected {{"clients": [{{"iss": ..., "jwks": {{"keys": [...]}}}}]}}')
    clients: dict[str, TrustedClient] = {}
    for index, entry in enumerate(data["clients"]):
        at = f"{where}: clients[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("iss"), str) or not entry["iss"]:
            raise TrustFileError(f"{at}.iss: expected the issuer, a non-empty string")
        if entry["iss"] in clients:
            raise TrustFileError(f"{at}.iss: {entry['iss']!r} is listed twice")
        jwks = entry.get("jwks")
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
            raise TrustFileError(f'{at}.jwks: expected a JWK Set, {{"keys": [...]}} with at least one key')
        keys: dict[str, jwt.PyJWK] = {}
        for number, key in enumerate(jwks["keys"]):
            if not isinstance(key, dict) or not isinstance(key.get("kid"), str):
                raise TrustFileError(f"{at}.jwks.keys[{number}].kid: expected the key id, a string")
            if key.get("kty") not in ALGORITHMS.values():
                raise TrustFileError(f"{at}.jwks.keys[{number}].kty: expected EC or RSA (for ES384, RS384)")
            if "d" in key:  # a private key has no place in a trust file
                raise TrustFileError(f"{at}.jwks.keys[{number}]: a private key; give the public key only")
            try:
                keys[key["kid"]] = jwt.PyJWK(key, "ES384" if key["kty"] == "EC" else "RS384")
            except jwt.PyJWTError as error:
                raise TrustFileError(f"{at}.jwks.keys[{number}]: not a usable public key ({error})") from None
        clients[entry["iss"]] = TrustedClient(entry["iss"], keys)
    if not clients:
        raise TrustFileError(f"{where}: no clients: the service would answer nobody")
    return clients


class ReplayCache:
    """The ``jti`` of accepted tokens until they expire: a second use is refused."""

    def __init__(self, size: int = REPLAY_CACHE_SIZE) -> None:
        self.size = size
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def first_use(self, iss: str, jti: str, expires: float, now: float) -> bool:
        with self._lock:
            if len(self._seen) >= self.size:
                self._seen = {key: exp for key, exp in self._seen.items() if exp > now}
                if len(self._seen) >= self.size:
                    raise AuthError("too many tokens in flight; try again shortly")
            key = (iss, jti)
            if key in self._seen and self._seen[key] > now:
                return False
            self._seen[key] = expires
            return True


class Authenticator:
    """Verifies the bearer token of a hook call against the trusted clients."""

    def __init__(self, clients: Mapping[str, TrustedClient], replay: ReplayCache | None = None) -> None:
        self.clients = dict(clients)
        self.replay = replay or ReplayCache()
        self.helper = SignatureHelper({c.iss: {kid: key.key for kid, key in c.keys.items()} for c in self.clients.values()})

    def verify(self, authorization: str | None, audience: str, now: float | None = None) -> dict[str, Any]:
        """The token's claims, or :class:`AuthError` with the reason it is refused."""
        now = time.time() if now is None else now
        token, client, kid, algorithm = self._read(authorization)
        checked = check_signed(token, client.keys[kid].key, kid, algorithm, audience, client.iss)
        return self._accept(client, checked, now)

    async def verify_async(self, authorization: str | None, audience: str, now: float | None = None) -> dict[str, Any]:
        """:meth:`verify`, with the signature checked by the helper process while the event loop goes on."""
        now = time.time() if now is None else now
        token, client, kid, algorithm = self._read(authorization)
        checked = await self.helper.check(token, client.iss, kid, algorithm, audience)
        return self._accept(client, checked, now)

    def close(self) -> None:
        """End the helper process, if it runs."""
        self.helper.close()

    def _read(self, authorization: str | None) -> tuple[str, TrustedClient, str, str]:
        """The token, its trusted client, key id and algorithm, before its signature is checked."""
        token = _bearer(authorization)
        try:  # one parse for both (it checks the header as get_unverified_header does)
            parsed = jwt.decode_complete(token, options={"verify_signature": False})
            header, unverified = parsed["header"], parsed["payload"]
        except jwt.PyJWTError:
            raise AuthError("the bearer token is not a JWT") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise AuthError(f"algorithm {_show(algorithm)} is not allowed (ES384 or RS384)")
        for name in ("exp", "iat", "nbf"):  # PyJWT would take "1700000000" (a string) as a time
            value = unverified.get(name)
            if name in unverified and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise AuthError(f"claim {name}: expected a NumericDate (seconds since the epoch, a JSON number)")
        issuer = unverified.get("iss")
        client = self.clients.get(issuer) if isinstance(issuer, str) else None
        if client is None:
            raise AuthError(f"issuer {_show(issuer)} is not a trusted client")
        kid = header.get("kid")
        key = client.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise AuthError(f"no key {_show(kid)} for issuer {issuer!r}")
        if key.key_type != ALGORITHMS[algorithm]:
            raise AuthError(f"key {kid!r} is not an {ALGORITHMS[algorithm]} key, as {algorithm} needs")
        assert isinstance(kid, str)
        return token, client, kid, algorithm

    def _accept(self, client: TrustedClient, checked: tuple[dict[str, Any] | None, str | None], now: float) -> dict[str, Any]:
        """The claims of a token whose signature held, once its lifetime and ``jti`` pass too."""
        claims, reason = checked
        if claims is None:
            raise AuthError(reason or "token refused")
        # PyJWT checks exp only as a number; a token good for hours would outlive the memory.
        if claims["exp"] > now + MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS:
            raise AuthError(f"token lives too long: exp at most {MAX_LIFETIME_SECONDS} s from now")
        if not isinstance(claims["jti"], str) or not claims["jti"]:
            raise AuthError("jti: expected a non-empty string")
        if not self.replay.first_use(client.iss, claims["jti"], claims["exp"] + CLOCK_SKEW_SECONDS, now):
            raise AuthError("token already used (jti seen before)")
        return claims


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("no Authorization header: send 'Authorization: Bearer <JWT>' (CDS Hooks 2.0)")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Authorization: expected 'Bearer <JWT>'")
    return token.strip()


def _show(value: object) -> str:
    """A header or claim value in a reason: short, and never a whole token."""
    if value is None:
        return "(none)"
    text = repr(value) if isinstance(value, str) else type(value).__name__
    return text if len(text) <= 80 else text[:77] + "..."

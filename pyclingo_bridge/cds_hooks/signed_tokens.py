"""A bearer JWT's signature and registered claims checked by PyJWT, in this process or a helper.

:func:`check_signed` is the one place a token is decoded with its key (signature, ``alg``,
``aud``, ``iss``, ``exp``/``iat``/``nbf`` within the skew, the required claims), with the
reason for each refusal. Verifying an ES384 signature costs about 0.45 ms of CPU that holds
the GIL (cryptography does not release it), as much as the rest of a remembered hook call,
and it would sit on the event loop's one core. So the service can run it in a helper
process (:class:`SignatureHelper`): the same function on the same token with the same key
(sent as its public PEM), answering over a pipe; the event loop waits for the answer as
for any other I/O and answers other calls meanwhile. If the helper cannot start, stops, or
does not answer in time, the token is checked in this process instead (logged): a call is
never accepted or refused because of the helper.

This file is also the helper's program (``python -I signed_tokens.py``): it imports only
PyJWT and cryptography, so the helper starts in a fraction of a second.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

CLOCK_SKEW_SECONDS = 30
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
HELPER_PROCESSES = 2
"""Helper processes: on a shared 2-core machine, two got more calls/s than one (docs/performance.md, "CDS Hooks service at 50 concurrent clients")."""
ANSWER_TIMEOUT_SECONDS = 2.0
"""Longest wait for the helper's answer before the token is checked here instead."""

log = logging.getLogger(__name__)

Checked = tuple[dict[str, Any] | None, str | None]
"""The claims of a token that passed, or None and the reason it is refused (from the helper,
None and None: not checked, check it here)."""
PIPE_BUF = 4096
"""A write of at most this many bytes to a pipe is whole or not at all (POSIX): a longer
token is checked in this process."""


def check_signed(token: str, key: Any, kid: str, algorithm: str, audience: str, issuer: str) -> Checked:
    """PyJWT's decode of ``token`` with ``key`` (a cryptography public key, ``kid`` of
    ``issuer``), or the reason it is refused."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[algorithm], audience=audience, issuer=issuer,
            leeway=CLOCK_SKEW_SECONDS, options={"require": REQUIRED_CLAIMS},
        )
    except jwt.InvalidSignatureError:
        return None, f"signature does not verify with key {kid!r} of {issuer!r}"
    except jwt.ExpiredSignatureError:
        return None, "token expired (exp)"
    except jwt.ImmatureSignatureError:
        return None, "token issued in the future (iat) or not yet valid (nbf)"
    except jwt.InvalidAudienceError:
        return None, f"aud is not this service ({audience})"
    except jwt.MissingRequiredClaimError as error:
        return None, f"claim {error.claim} missing"
    except jwt.PyJWTError as error:
        return None, f"token refused: {error}"
    return claims, None


def public_pem(key: Any) -> str:
    """A cryptography public key as PEM text, for the helper."""
    return str(key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())


class SignatureHelper:
    """Helper processes that run :func:`check_signed` for the event loop.

    ``keys``: each issuer's public keys by ``kid``, as cryptography key objects. ``processes``
    helpers are started on the first :meth:`check` (in the loop that awaits it), and the one
    with the fewest tokens waiting takes the next; they end with :meth:`close`, with this
    object, or when this process ends (their input closes).
    """

    def __init__(self, keys: Mapping[str, Mapping[str, Any]], processes: int = HELPER_PROCESSES) -> None:
        self.keys = {iss: dict(by_kid) for iss, by_kid in keys.items()}
        self.processes = processes
        self._helpers: list[_Helper] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[int, asyncio.Future[Checked]] = {}
        self._failed = False
        self._next = 0

    async def check(self, token: str, iss: str, kid: str, algorithm: str, audience: str) -> Checked:
        """:func:`check_signed` of the token with the key ``kid`` of ``iss``, in a helper when it can."""
        loop = asyncio.get_running_loop()
        if not self._failed and self._loop is not loop:
            self._start(loop)
        self._next += 1
        number = self._next
        ready = [helper for helper in self._helpers if helper.ready]
        message = json.dumps([number, token, iss, kid, algorithm, audience]).encode() + b"\n"
        if ready and len(message) <= PIPE_BUF:
            answer: asyncio.Future[Checked] = loop.create_future()
            self._pending[number] = answer
            try:
                min(ready, key=lambda helper: helper.waiting).send(message)
                checked = await asyncio.wait_for(answer, ANSWER_TIMEOUT_SECONDS)
                if checked != (None, None):
                    return checked
            except (OSError, TimeoutError) as error:  # a full pipe, a helper gone or stuck
                self._fail(f"no answer ({type(error).__name__})")
            finally:
                self._pending.pop(number, None)
        return check_signed(token, self.keys[iss][kid], kid, algorithm, audience, iss)

    def close(self) -> None:
        """End the helpers (their input closes; they exit)."""
        self._stop(kill=False)
        self._loop = None

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._stop(kill=False)
        keys = {iss: {kid: public_pem(key) for kid, key in by_kid.items()} for iss, by_kid in self.keys.items()}
        try:
            for _ in range(self.processes):
                self._helpers.append(_Helper(keys, loop, self._answered, self._fail))
        except OSError as error:
            self._fail(f"could not start ({error})")
            return
        self._loop = loop
        weakref.finalize(self, _end_all, list(self._helpers))

    def _answered(self, number: int, checked: Checked) -> None:
        answer = self._pending.get(number)
        if answer is not None and not answer.done():
            answer.set_result(checked)

    def _fail(self, why: str) -> None:
        if not self._failed:
            log.warning("token signature helper: %s; tokens are checked in the server process", why)
        self._failed = True
        self._stop(kill=True)

    def _stop(self, kill: bool) -> None:
        helpers, self._helpers = self._helpers, []
        for helper in helpers:
            helper.stop(kill)
        for answer in self._pending.values():  # each waiting call checks its token here
            if not answer.done():
                answer.set_result((None, None))


class _Helper:
    """One helper process, its pipes, and what it has answered so far."""

    def __init__(self, keys: dict[str, dict[str, str]], loop: asyncio.AbstractEventLoop,
                 answered: Callable[[int, Checked], None], failed: Callable[[str], None]) -> None:
        self.loop, self.answered, self.failed = loop, answered, failed
        self.ready = False
        self.waiting = 0
        """Tokens sent and not answered yet."""
        self.buffer = b""
        # Its failures are the server's to log (as one warning, see SignatureHelper._fail).
        self.process = subprocess.Popen([sys.executable, "-I", os.path.abspath(__file__)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin, self.stdout = self.process.stdin.fileno(), self.process.stdout.fileno()
        try:
            self.process.stdin.write(json.dumps(keys).encode() + b"\n")
            self.process.stdin.flush()
            os.set_blocking(self.stdin, False)  # a full pipe never blocks the loop
            loop.add_reader(self.stdout, self._read)
        except OSError:
            _end(self.process, kill=True)
            raise

    def send(self, message: bytes) -> None:
        os.write(self.stdin, message)  # whole or not at all (at most PIPE_BUF bytes)
        self.waiting += 1

    def stop(self, kill: bool) -> None:
        if not self.loop.is_closed():
            self.loop.remove_reader(self.stdout)
        self.ready = False
        _end(self.process, kill)

    def _read(self) -> None:
        try:
            data = os.read(self.stdout, 1 << 16)
        except OSError:
            data = b""
        if not data:
            self.failed("it stopped")
            return
        *lines, self.buffer = (self.buffer + data).split(b"\n")
        for line in lines:
            message = json.loads(line)
            if message == "ready":
                self.ready = True
            else:
                number, claims, reason = message
                self.waiting -= 1
                self.answered(number, (claims, reason))


def _end_all(helpers: list[_Helper]) -> None:
    for helper in helpers:
        _end(helper.process, kill=False)


def _end(process: subprocess.Popen[bytes], kill: bool) -> None:
    """Close the helper's input (it exits), or kill it; then reap it."""
    if kill:
        process.kill()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass
    try:
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _serve() -> None:
    """The helper's loop: the keys on the first line, then one token per line, one answer per line."""
    # Ctrl-C at the terminal reaches the whole process group: the server stops, and the helper
    # ends when its input closes, without a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    keys = {iss: {kid: serialization.load_pem_public_key(pem.encode()) for kid, pem in by_kid.items()}
            for iss, by_kid in json.loads(sys.stdin.buffer.readline()).items()}
    out = sys.stdout.buffer
    out.write(b'"ready"\n')
    out.flush()
    for line in sys.stdin.buffer:
        number, token, iss, kid, algorithm, audience = json.loads(line)
        try:
            claims, reason = check_signed(token, keys[iss][kid], kid, algorithm, audience, iss)
        except Exception:  # noqa: BLE001 - not PyJWT's own errors: the server checks it again, and says
            claims, reason = None, None
        out.write(json.dumps([number, claims, reason]).encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    _serve()

"""Latency of a CDS Hooks call: p50/p99, sequential and with concurrent clients (loopback only).

Starts `policykb serve` equivalents as a child process on a free 127.0.0.1 port, sends a
bounded number of order-sign calls (half a red-flag order decided by the cautious solve
alone, half an undetermined one that needs the brave solve too), prints the figures and
stops the server. Nothing leaves the machine.

Authentication is on, as in service: the benchmark makes a client key (``--alg``), writes a
trust file for it, and signs one token per call, each with its own ``jti``, before the timed
calls start (signing is the client's work, not the server's); the server verifies every one.

    python benchmarks/cds_hooks.py [--requests 400] [--clients 50] [--per-client 40] [--alg ES384|RS384]
                                   [--no-auth] [--decide-in thread|pool|loop] [--distinct]

``--decide-in`` picks where the server decides, for comparison (see create_app). The 200
patients repeat, so after the warm-up the server has seen every resource before (its memory
of validated resources answers, as its decision memory does); ``--distinct`` gives every call
a patient of its own id, so every resource is new to it and validated (the decisions, on
the same facts, are still remembered).

The server's CPU per call (user + system, from /proc) is printed beside each figure: on a
shared machine it moves less than the latencies do.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = json.loads((ROOT / "examples" / "fhir" / "cds-hooks-order-sign.json").read_text())
PATH = "/cds-services/cmicb_clin086-order-sign"


def bodies(count: int = 200, ids: str | None = None) -> list[bytes]:
    """``count`` calls of different patients: ages 16 to 85 (200 kinds), and alternately a
    red-flag order (decided by the cautious solve alone) and a low-back-pain-only one
    (undetermined: brave solve too). ``ids``: each call's patient gets an id of its own,
    ``<ids>-<number>`` (so no two calls send the same resources)."""
    calls = []
    for index in range(count):
        body = copy.deepcopy(EXAMPLE if ids is None else _renamed(EXAMPLE, f"{ids}-{index}"))
        body["prefetch"]["patient"]["birthDate"] = f"{1941 + index % 70}-{1 + index % 12:02d}-15"
        if index % 2:
            body["prefetch"]["conditions"]["entry"] = body["prefetch"]["conditions"]["entry"][1:]
        calls.append(json.dumps(body).encode())
    return calls


def _renamed(call: dict[str, Any], patient: str) -> dict[str, Any]:
    """The call about patient ``patient`` instead (its id and every reference to it)."""
    old = call["context"]["patientId"]
    return json.loads(json.dumps(call).replace(f"Patient/{old}", f"Patient/{patient}")
                      .replace(f'"{old}"', json.dumps(patient)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Signer:
    """The benchmark's CDS client: its key, its trust file, and a pool of tokens signed ahead."""

    ISSUER = "https://benchmark-ehr.example"

    def __init__(self, alg: str, folder: Path) -> None:
        self.alg = alg
        if alg == "ES384":
            self.key: Any = ec.generate_private_key(ec.SECP384R1())
            public = jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        else:
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        self.trust_file = folder / "trusted-clients.json"
        self.trust_file.write_text(json.dumps({"clients": [{"iss": self.ISSUER, "jwks": {"keys": [{**public, "kid": "k1"}]}}]}))

    def tokens(self, audience: str, count: int) -> Iterator[str]:
        """``count`` tokens for ``audience``, each with a fresh jti, valid for 5 minutes."""
        now = int(time.time())
        for _ in range(count):
            claims = {"iss": self.ISSUER, "aud": audience, "exp": now + 290, "iat": now, "jti": str(uuid.uuid4())}
            yield jwt.encode(claims, self.key, algorithm=self.alg, headers={"kid": "k1"})


def start_server(port: int, decide_in: str, cache_size: int, trust_file: Path | None) -> subprocess.Popen[bytes]:
    auth = f"Authenticator(load_trusted_clients(Path({str(trust_file)!r})))" if trust_file else "None"
    code = (
        "import uvicorn; from pathlib import Path; "
        "from pyclingo_bridge.cds_hooks import Authenticator, create_app, load_trusted_clients, uvicorn_config; "
        f"app = create_app(auth={auth}, decide_in={decide_in!r}, cache_size={cache_size}); "
        f"uvicorn.Server(uvicorn_config(app, host='127.0.0.1', port={port}, log_level='warning', access_log=False)).run()"
    )
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=1)
            return process
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise SystemExit("the server did not start")
            time.sleep(0.1)


def cpu_seconds(process: subprocess.Popen[bytes]) -> float | None:
    """The CPU time (user + system) the server process has used so far (Linux /proc; else None)."""
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_call(before: float | None, after: float | None, calls: int) -> str:
    return "" if before is None or after is None else f"   server CPU {(after - before) / calls * 1000:.2f} ms/call"


def percentiles(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[math.ceil(0.99 * len(ordered)) - 1]  # nearest rank
    return f"p50 {statistics.median(ordered) * 1000:6.2f} ms   p99 {p99 * 1000:6.2f} ms   (n={len(ordered)})"


async def sequential(port: int, count: int, tokens: Iterator[str | None], payloads: list[bytes]) -> list[float]:
    latencies = []
    connection = await Connection.open(port)
    for index in range(count):
        token = next(tokens)
        start = time.perf_counter()
        status = await connection.post(PATH, payloads[index % len(payloads)], token)
        latencies.append(time.perf_counter() - start)
        assert status == 200, status
    connection.close()
    return latencies


class Connection:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams: it costs the shared CPU far
    less than a full client library would, so the figures are the server's."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, path: str, body: bytes, token: str | None) -> int:
        authorization = f"Authorization: Bearer {token}\r\n" if token else ""
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{authorization}"
            f"Content-Length: {len(body)}\r\n\r\n".encode() + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


async def concurrent(port: int, clients: int, per_client: int, think: float,
                     tokens: Iterator[str | None], payloads: list[bytes]) -> tuple[list[float], float]:
    latencies: list[float] = []
    connections = [await Connection.open(port) for _ in range(clients)]

    async def client(number: int) -> None:
        connection = connections[number]
        for index in range(per_client):
            token = next(tokens)
            start = time.perf_counter()
            status = await connection.post(PATH, payloads[(number * per_client + index) % len(payloads)], token)
            latencies.append(time.perf_counter() - start)
            assert status == 200, status
            if think:
                await asyncio.sleep(think * random.uniform(0.5, 1.5))  # clients out of step

    start = time.perf_counter()
    await asyncio.gather(*(client(number) for number in range(clients)))
    elapsed = time.perf_counter() - start
    for connection in connections:
        connection.close()
    return latencies, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="sequential calls")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--per-client", type=int, default=40, help="calls per concurrent client")
    parser.add_argument("--decide-in", choices=["thread", "pool", "loop"], default="thread",
                        help="where the server decides: its one worker thread (default), the thread pool, the event loop")
    parser.add_argument("--cache-size", type=int, default=4096, help="decisions the server remembers (0: none)")
    parser.add_argument("--think-ms", type=float, default=0.0,
                        help="pause of each concurrent client between its calls (0: back to back)")
    parser.add_argument("--alg", choices=["ES384", "RS384"], default="ES384", help="the client's signing algorithm")
    parser.add_argument("--no-auth", action="store_true", help="serve without authentication, for comparison")
    parser.add_argument("--distinct", action="store_true",
                        help="every call about a patient of its own id: no resource is sent twice")
    args = parser.parse_args()

    port = free_port()
    folder = tempfile.TemporaryDirectory(prefix="policykb-bench-")
    signer = None if args.no_auth else Signer(args.alg, Path(folder.name))
    server = start_server(port, args.decide_in, args.cache_size, signer.trust_file if signer else None)
    try:
        total = len(bodies()) + args.requests + args.clients * args.per_client
        # Signed before any call is timed: in service, each client signs its own.
        pool = list(signer.tokens(f"http://127.0.0.1:{port}{PATH}", total)) if signer else [None] * total
        tokens = iter(pool)
        # Warm up with every call once: with a cache, the figures below are of remembered
        # decisions (FHIR parsing, mapping and cards still run each time); --cache-size 0 for none.
        asyncio.run(sequential(port, len(bodies()), tokens, bodies()))
        # --distinct: as many distinct patients as calls, none of them the warm-up's.
        timed = bodies(args.requests + args.clients * args.per_client, "bench") if args.distinct else None
        print(f"CDS Hooks order-sign, decided in: {args.decide_in}, cache {args.cache_size}, "
              f"auth {'off' if args.no_auth else args.alg}, think {args.think_ms:g} ms, "
              f"{'every call a new patient' if args.distinct else '200 patients repeated'}, cpus={os.cpu_count()}")
        before = cpu_seconds(server)
        seq_payloads = timed[: args.requests] if timed else bodies()
        print(f"  sequential            {percentiles(asyncio.run(sequential(port, args.requests, tokens, seq_payloads)))}"
              f"{cpu_per_call(before, cpu_seconds(server), args.requests)}")
        before = cpu_seconds(server)
        latencies, elapsed = asyncio.run(concurrent(port, args.clients, args.per_client, args.think_ms / 1000, tokens,
                                                    timed[args.requests:] if timed else bodies()))
        rate = len(latencies) / elapsed
        print(f"  {args.clients:3d} concurrent clients {percentiles(latencies)}   {rate:.0f} calls/s"
              f"{cpu_per_call(before, cpu_seconds(server), len(latencies))}")
    finally:
        server.terminate()
        server.wait(timeout=10)
        folder.cleanup()


if __name__ == "__main__":
    main()

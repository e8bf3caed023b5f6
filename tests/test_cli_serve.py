"""``policykb serve``: flags, and the real command answering discovery on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
from click.testing import CliRunner

from pyclingo_bridge.cli import main


def test_help() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "Serve CDS Hooks 2.0 (order-select, order-sign) for every policy." in result.output


def test_bad_port_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "70000"])
    assert result.exit_code == 2
    assert "Invalid value for '--port': 70000 is not in the range 0<=x<=65535." in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_command_serves_discovery() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pyclingo_bridge", "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "policykb serve did not start"
                time.sleep(0.1)
        assert response.status_code == 200
        assert len(response.json()["services"]) == 6  # two hooks for each of three policies
    finally:
        process.terminate()
        process.wait(timeout=10)

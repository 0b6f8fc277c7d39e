"""Loopback ports for servers started by tests, lessons, load tests and benchmarks."""

from __future__ import annotations

import random
import socket
from pathlib import Path

from ai_platform.core.net import listening_socket

__all__ = ["free_port", "listening_socket"]

_PORT_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 20_000
_DEFAULT_EPHEMERAL = 32_768  # Linux's default start of the range


def _ephemeral_start() -> int:
    try:
        return int(_PORT_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _DEFAULT_EPHEMERAL


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago, for a server started as another process.

    It is taken below the kernel's ephemeral range: the port the kernel gives a
    socket bound to port 0, and the local port of every outgoing connection, come
    from that range, so a port from it can be taken by any client in the moments
    before the child binds it (a test run opens connections all the time). Below
    it, only a process binding that very port can.

    A server in this process should bind ``listening_socket(host, 0)`` and read the
    port from the socket instead: no other process can take it in between.
    """
    top = _ephemeral_start()
    rng = random.SystemRandom()
    tries = 100 if top - _LOWEST > 100 else 0
    for _ in range(tries):
        port = rng.randrange(_LOWEST, top)
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:  # a machine whose ephemeral range starts low
        sock.bind((host, 0))
        found: int = sock.getsockname()[1]
        return found

"""Loopback ports for servers started by tests, lessons, load tests and benchmarks."""

from __future__ import annotations

import socket

from ai_platform.core.net import listening_socket

__all__ = ["free_port", "listening_socket"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago, for a server started as another process.

    A server in this process should bind ``listening_socket(host, 0)`` and read the
    port from the socket instead: no other process can take it in between.
    """
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port

"""Listening sockets for servers the platform starts itself (embedded simulator, tests).

asyncio turns Nagle's algorithm off only for sockets whose ``proto`` is
``IPPROTO_TCP``; a socket made with ``socket.socket(AF_INET, SOCK_STREAM)`` has proto
0, and so do the connections it accepts. With Nagle on, a response written as headers
then body waits for the client's delayed ACK: about 40 ms per request on loopback.
"""

from __future__ import annotations

import socket


def listening_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A bound TCP socket whose accepted connections get TCP_NODELAY from asyncio."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock

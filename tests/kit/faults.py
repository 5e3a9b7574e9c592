"""Loopback servers that misbehave on purpose: every fault a ServiceNow address can
produce short of a real instance (raw sockets, no HTTP library, nothing mocked)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from tests.kit.http import RawServer, http_response, reset

Respond = Callable[["FaultServer", socket.socket, bytes, int], object]


class FaultServer(RawServer):
    """A :class:`RawServer` whose ``respond(server, sock, request, n)`` answers the n-th
    request (from 0), one request per connection."""

    def __init__(self, respond: Respond) -> None:
        super().__init__(lambda sock, request: None)
        self.fault = respond

    def __enter__(self) -> FaultServer:
        super().__enter__()
        return self

    def _answer(self, conn: socket.socket, request: bytes, n: int) -> None:
        self.fault(self, conn, request, n)


def slowloris_headers(server: FaultServer, sock: socket.socket, request: bytes, n: int) -> None:
    """A status line, then one header byte every 0.1 s, never the end of the headers."""
    sock.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    started = time.monotonic()
    while time.monotonic() - started < 20 and server.sleep(0.1):
        sock.sendall(b"y")


def slowloris_body(server: FaultServer, sock: socket.socket, request: bytes, n: int) -> None:
    """Complete headers, then the JSON body one byte every 0.1 s."""
    body = b'{"access_token":"' + b"a" * 200 + b'","expires_in":1799}'
    sock.sendall(http_response(200, b"", content_length=len(body)))
    for i in range(len(body)):
        if not server.sleep(0.1):
            return
        sock.sendall(body[i : i + 1])


def huge_streamed(server: FaultServer, sock: socket.socket, request: bytes, n: int) -> None:
    """200 JSON without a Content-Length, 2 MiB long (ends when the connection closes)."""
    sock.sendall(http_response(200, b"", content_length=-1))
    chunk = b'{"access_token":"' + b"a" * 65536
    for _ in range(32):
        if server.stopping.is_set():
            return
        sock.sendall(chunk)


def reset_mid_body(server: FaultServer, sock: socket.socket, request: bytes, n: int) -> None:
    """Headers and half the body, then a TCP reset."""
    body = b'{"access_token":"abc","token_type":"Bearer","expires_in":1799}'
    sock.sendall(http_response(200, body[:20], content_length=len(body)))
    time.sleep(0.05)
    reset(sock)


def reset_at_once(server: FaultServer, sock: socket.socket, request: bytes, n: int) -> None:
    """A TCP reset before any byte of an answer."""
    reset(sock)


def throttled(times: int, then: bytes | None = None) -> Respond:
    """429 with Retry-After: 1 for the first ``times`` requests, then ``then``."""

    def respond(server: FaultServer, sock: socket.socket, request: bytes, n: int) -> None:
        if then is not None and n >= times:
            sock.sendall(then)
            return
        body = b'{"error":{"message":"Too many requests","detail":"wait"},"status":"failure"}'
        sock.sendall(http_response(429, body, headers={"Retry-After": "1"}))

    return respond

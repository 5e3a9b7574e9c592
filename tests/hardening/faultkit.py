"""Loopback servers that misbehave on purpose: every fault a ServiceNow address can
produce short of a real instance (raw sockets, no HTTP library, nothing mocked)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable

from tests.oauth.oauth_testkit import read_request  # one HTTP request from a socket

Respond = Callable[["FaultServer", socket.socket, bytes, int], object]


def http_response(
    status: int,
    body: bytes = b"",
    *,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
    content_length: int | None = None,
    reason: str = "X",
) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", "Connection: close"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    if content_length != -1:
        lines.append(f"Content-Length: {len(body) if content_length is None else content_length}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def reset(conn: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


class FaultServer:
    """A TCP server on 127.0.0.1 in a thread: ``respond(server, sock, request, n)``
    answers the n-th request (from 0), one request per connection."""

    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.requests: list[bytes] = []
        self.stopping = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self._thread.join(timeout=5)
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._sock.close()

    @property
    def attempts(self) -> int:
        """Requests received at the token endpoint."""
        return sum(1 for r in self.requests if b"/oauth_token.do" in r.split(b"\r\n", 1)[0])

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._open.append(conn)
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            request = read_request(conn)
            if not request:
                return
            with self._lock:
                n = len(self.requests)
                self.requests.append(request)
            self.respond(self, conn, request, n)
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def sleep(self, seconds: float) -> bool:
        """Wait (False when the server is stopping)."""
        return not self.stopping.wait(seconds)


def replying(answer: bytes) -> FaultServer:
    return FaultServer(lambda server, sock, request, n: sock.sendall(answer))


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

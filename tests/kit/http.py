"""Raw loopback HTTP for the tests: a free port, one request read from a socket, a raw
answer, and a threaded socket server that answers however a test says (no HTTP library
on the server side, nothing mocked)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable

Responder = Callable[[socket.socket, bytes], object]


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def http_response(
    status: int,
    body: bytes = b"",
    *,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
    reason: str = "X",
    content_length: int | None = None,
    close: bool = True,
) -> bytes:
    """A raw HTTP/1.1 answer. ``content_length`` overrides the Content-Length header
    (-1 leaves it out); ``close`` adds ``Connection: close`` (the raw server closes after
    each answer unless it runs with ``keep_alive``)."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    if close:
        lines.append("Connection: close")
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    if content_length != -1:
        lines.append(f"Content-Length: {len(body) if content_length is None else content_length}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def read_request(conn: socket.socket) -> bytes:
    """One HTTP request (head and Content-Length body) from a socket; b"" at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def reset(conn: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


class RawServer:
    """A loopback TCP server in a thread; ``respond(sock, request)`` answers each request.

    With ``keep_alive`` the connection stays open for more requests (``respond`` must
    send a complete answer). ``connections`` counts accepted connections, ``requests``
    holds every request received.
    """

    def __init__(self, respond: Responder, *, keep_alive: bool = False) -> None:
        self.respond = respond
        self.keep_alive = keep_alive
        self.requests: list[bytes] = []
        self.connections = 0
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

    def __enter__(self) -> RawServer:
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

    def sleep(self, seconds: float) -> bool:
        """Wait (False when the server is stopping)."""
        return not self.stopping.wait(seconds)

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._open.append(conn)
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            while not self.stopping.is_set():
                request = read_request(conn)
                if not request:
                    return
                with self._lock:
                    n = len(self.requests)
                    self.requests.append(request)
                self._answer(conn, request, n)
                if not self.keep_alive:
                    return
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def _answer(self, conn: socket.socket, request: bytes, n: int) -> None:
        self.respond(conn, request)


def replying(answer: bytes) -> RawServer:
    """A raw server that sends ``answer`` to every request."""
    return RawServer(lambda sock, request: sock.sendall(answer))

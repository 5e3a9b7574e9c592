"""A real HTTP CONNECT proxy on loopback for the tests (threads and sockets, nothing
mocked): it counts the tunnels it opens and to where, can ask for credentials
(``Proxy-Authorization: Basic``, 407 without them) or refuse every tunnel (403)."""

from __future__ import annotations

import base64
import contextlib
import select
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class ConnectProxy:
    """``with running_proxy() as proxy: ... proxy.url ... proxy.connects``."""

    credentials: tuple[str, str] | None = None
    refuse: bool = False
    connects: list[str] = field(default_factory=list)  # "host:port" of each tunnel opened
    rejected: int = 0  # CONNECTs answered 403/407
    proxy_authorizations: list[str] = field(default_factory=list)  # raw headers received
    port: int = 0
    _sock: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_with(self, user: str, password: str) -> str:
        return f"http://{user}:{password}@127.0.0.1:{self.port}"

    def start(self) -> ConnectProxy:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(16)
        sock.settimeout(0.2)
        self._sock = sock
        self.port = sock.getsockname()[1]
        thread = threading.Thread(target=self._serve, name="test-connect-proxy", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._handle, args=(client,), daemon=True)
            thread.start()
            with self._lock:
                self._threads.append(thread)

    def _read_head(self, client: socket.socket) -> bytes | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(4096)
            if not chunk:
                return None
            data += chunk
            if len(data) > 65536:
                return None
        return data

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(10)
        with contextlib.closing(client):
            head = self._read_head(client)
            if head is None:
                return
            lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            if method != "CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            if "proxy-authorization" in headers:
                with self._lock:
                    self.proxy_authorizations.append(headers["proxy-authorization"])
            if self.refuse:
                with self._lock:
                    self.rejected += 1
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            if self.credentials is not None:
                user, password = self.credentials
                expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
                if headers.get("proxy-authorization") != expected:
                    with self._lock:
                        self.rejected += 1
                    client.sendall(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                        b'Proxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
                    )
                    return
            host, _, port = target.rpartition(":")
            try:
                upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
            except (OSError, ValueError):
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            with self._lock:
                self.connects.append(target)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            with contextlib.closing(upstream):
                self._pipe(client, upstream)

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        sockets = [a, b]
        while not self._stop.is_set():
            readable, _, _ = select.select(sockets, [], [], 0.2)
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                (b if sock is a else a).sendall(data)


@contextlib.contextmanager
def running_proxy(
    *, credentials: tuple[str, str] | None = None, refuse: bool = False, port: int = 0
) -> Iterator[ConnectProxy]:
    """A proxy on loopback (``port``: 0 for any free one), stopped on leaving."""
    proxy = ConnectProxy(credentials=credentials, refuse=refuse, port=port).start()
    try:
        yield proxy
    finally:
        proxy.stop()

"""Helpers for the token exchange tests: connections, emulator configs, keys, a browser,
and a raw socket server for the faults no well-behaved server produces.

No HTTP mocking anywhere: every request goes over real loopback sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import threading
import urllib.request
from collections.abc import Callable
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from snowauth.emulator import Emulator, EmulatorConfig, default_config
from snowauth.tokens import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_JWT_BEARER,
    GRANT_PASSWORD,
    GRANT_REFRESH,
    ResolvedConnection,
)

DEMO_ID = "0123456789abcdef0123456789abcdef"
DEMO_SECRET = "demo-client-secret"
PUBLIC_ID = "fedcba9876543210fedcba9876543210"
NOAPP_ID = "11111111111111111111111111111111"
NOAPP_SECRET = "noappuser-secret"
USER = "integration.user"
PASSWORD = "demo-password"
KEY_ID = "snowauth-test-key"


# --- sleeping ------------------------------------------------------------------------


class RecordingSleep:
    """An injectable sleep that records the delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


# --- ports, keys ---------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def rsa_key(bits: int = 2048) -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of a new RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _pems(key)


def ec_key(curve: ec.EllipticCurve) -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of a new EC key."""
    return _pems(ec.generate_private_key(curve))


def _pems(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> tuple[bytes, bytes]:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


# --- emulator configs ----------------------------------------------------------------


def emulator_config(
    *,
    client_credentials: bool = False,
    redirect_port: int | None = None,
    jwt_public_pem: bytes | None = None,
    jwt_key_id: str | None = None,
    lockout_threshold: int | None = None,
) -> EmulatorConfig:
    """The built-in demo config, changed for a test."""
    config = default_config()
    clients = dict(config.clients)
    if redirect_port is not None:
        for name in ("demo", "public", "noappuser"):
            clients[name] = dataclasses.replace(
                clients[name],
                redirect_uris=(
                    f"http://127.0.0.1:{redirect_port}/callback",
                    f"http://localhost:{redirect_port}/callback",
                    f"http://[::1]:{redirect_port}/callback",
                ),
            )
    if jwt_public_pem is not None:
        clients["demo"] = dataclasses.replace(clients["demo"], jwt_public_key_pem=jwt_public_pem, jwt_key_id=jwt_key_id)
    changes: dict[str, Any] = {
        "clients": clients,
        "client_credentials_enabled": client_credentials,
    }
    if lockout_threshold is not None:
        changes["lockout_threshold"] = lockout_threshold
    return dataclasses.replace(config, **changes)


# --- connections ---------------------------------------------------------------------


def password_conn(base_url: str, **changes: Any) -> ResolvedConnection:
    values: dict[str, Any] = {
        "name": "dev",
        "base_url": base_url,
        "grant_type": GRANT_PASSWORD,
        "client_id": DEMO_ID,
        "client_secret": DEMO_SECRET,
        "username": USER,
        "password": PASSWORD,
        "scope": "useraccount",
        "timeout": 10.0,
    }
    values.update(changes)
    return ResolvedConnection(**values)


def client_credentials_conn(base_url: str, **changes: Any) -> ResolvedConnection:
    values: dict[str, Any] = {
        "name": "svc",
        "base_url": base_url,
        "grant_type": GRANT_CLIENT_CREDENTIALS,
        "client_id": DEMO_ID,
        "client_secret": DEMO_SECRET,
        "timeout": 10.0,
    }
    values.update(changes)
    return ResolvedConnection(**values)


def refresh_conn(base_url: str, refresh_token: str, **changes: Any) -> ResolvedConnection:
    values: dict[str, Any] = {
        "name": "rt",
        "base_url": base_url,
        "grant_type": GRANT_REFRESH,
        "client_id": DEMO_ID,
        "client_secret": DEMO_SECRET,
        "refresh_token": refresh_token,
        "timeout": 10.0,
    }
    values.update(changes)
    return ResolvedConnection(**values)


def authcode_conn(base_url: str, redirect_uri: str, **changes: Any) -> ResolvedConnection:
    values: dict[str, Any] = {
        "name": "browser",
        "base_url": base_url,
        "grant_type": GRANT_AUTHORIZATION_CODE,
        "client_id": DEMO_ID,
        "client_secret": DEMO_SECRET,
        "redirect_uri": redirect_uri,
        "pkce": True,
        "scope": "useraccount",
        "timeout": 10.0,
    }
    values.update(changes)
    return ResolvedConnection(**values)


def jwt_conn(base_url: str, private_pem: bytes, **changes: Any) -> ResolvedConnection:
    values: dict[str, Any] = {
        "name": "jwt",
        "base_url": base_url,
        "grant_type": GRANT_JWT_BEARER,
        "client_id": DEMO_ID,
        "client_secret": DEMO_SECRET,
        "jwt_key_pem": private_pem,
        "jwt_subject": USER,
        "timeout": 10.0,
    }
    values.update(changes)
    return ResolvedConnection(**values)


# --- browsers ------------------------------------------------------------------------


class HttpxBrowser:
    """Opens a URL the way a browser would: GET, following the instance's redirect to
    the loopback listener. Records the URLs it was given and the final page."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.final_status: int | None = None
        self.final_text = ""

    async def __call__(self, url: str) -> None:
        self.opened.append(url)
        async with httpx.AsyncClient(follow_redirects=True, timeout=10.0) as client:
            response = await client.get(url)
        self.final_status = response.status_code
        self.final_text = response.text


class UrllibBrowser:
    """Like :class:`HttpxBrowser`, with urllib in a thread: it logs nothing into this
    process (a real browser is another process), for the log-secrecy test."""

    def __init__(self) -> None:
        self.final_text = ""

    async def __call__(self, url: str) -> None:
        def get() -> str:
            with urllib.request.urlopen(url, timeout=10) as response:
                text: str = response.read().decode("utf-8")
                return text

        self.final_text = await asyncio.to_thread(get)


# --- a raw socket server -------------------------------------------------------------

Responder = Callable[[socket.socket, bytes], object]


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
    """A raw HTTP/1.1 answer; ``close`` adds ``Connection: close`` (the raw server
    closes after each answer unless it runs with ``keep_alive``)."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    if close:
        lines.append("Connection: close")
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    length = len(body) if content_length is None else content_length
    lines.append(f"Content-Length: {length}")
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


class RawServer:
    """A loopback TCP server in a thread; ``respond(sock, request)`` answers each request.

    With ``keep_alive`` the connection stays open for more requests (``respond`` must
    send a complete answer). ``connections`` counts accepted connections.
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
                self.requests.append(request)
                self.respond(conn, request)
                if not self.keep_alive:
                    return
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                conn.close()


def replying(answer: bytes) -> RawServer:
    """A raw server that sends ``answer`` to every request."""
    return RawServer(lambda sock, request: sock.sendall(answer))


def reset(conn: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    conn.close()


def started(emulator: Emulator) -> Emulator:
    return emulator.start()

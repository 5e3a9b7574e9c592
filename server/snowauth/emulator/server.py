"""The :class:`Emulator`: a threaded HTTP(S) server in a daemon thread."""

from __future__ import annotations

import contextlib
import enum
import logging
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from snowauth.emulator.config import EmulatorConfig, default_config
from snowauth.emulator.handler import EmulatorRequestHandler
from snowauth.emulator.state import EmulatorState

logger = logging.getLogger("snowauth.emulator")

DEFAULT_TEST_APPROVER = "integration.user"


class _Unset(enum.Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET


def _linger(sock: socket.socket) -> None:
    """Close after a failed handshake as real servers do (a lingering close): the client's
    unread bytes would otherwise make the close a reset that can overtake the TLS alert
    (with TLS 1.3 a missing client certificate is refused after the client's request)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(1)
        for _ in range(16):
            if not sock.recv(65536):
                break
    sock.close()


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        state: EmulatorState,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self.state = state
        self.ssl_context = ssl_context
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, EmulatorRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        raw = request.dup()  # wrap_socket takes the socket over, failed or not
        try:
            request.settimeout(10)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            logger.debug("TLS handshake failed")
            _linger(raw)
            return
        raw.close()
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection error")

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class Emulator:
    """A local ServiceNow instance: ``with Emulator() as emu: httpx.post(emu.url + …)``.

    ``auto_approve_user``: the user ``/oauth_auth.do`` approves as at once, without a
    login form. Left out, it is the config's ``auto_approve_user`` or, when the config
    has none, ``integration.user`` (convenient for tests); pass None for the form.
    ``clock`` replaces :func:`time.time` so that tests can expire tokens and codes.
    ``client_ca``: a PEM file of CAs; over TLS the emulator then requires a client
    certificate issued by one of them (mutual TLS, ``ssl.CERT_REQUIRED``), as an instance
    behind an mTLS gateway does.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        certfile: str | None = None,
        keyfile: str | None = None,
        *,
        auto_approve_user: str | _Unset | None = UNSET,
        clock: Callable[[], float] = time.time,
        client_ca: str | None = None,
    ) -> None:
        self.config = config if config is not None else default_config()
        self.host = host
        self.port = port
        self.certfile = certfile
        self.keyfile = keyfile
        self.client_ca = client_ca
        if auto_approve_user is UNSET:
            approver = self.config.auto_approve_user
            if approver is None and DEFAULT_TEST_APPROVER in self.config.users:
                approver = DEFAULT_TEST_APPROVER
        else:
            approver = auto_approve_user
        if approver is not None and approver not in self.config.users:
            raise ValueError(f"auto_approve_user {approver!r} is not a configured user")
        self.state = EmulatorState(self.config, clock)
        self.state.auto_approve_user = approver
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    # --- lifecycle --------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext | None:
        if self.certfile is None:
            if self.keyfile is not None or self.client_ca is not None:
                raise ValueError("keyfile or client_ca given without certfile")
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certfile, self.keyfile)
        if self.client_ca is not None:
            context.load_verify_locations(cafile=self.client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread; returns self. Starting twice is a no-op."""
        if self._server is not None:
            return self
        server = EmulatorHTTPServer((self.host, self.port), self.state, self._ssl_context())
        host, port = server.server_address[:2]
        shown = str(host)
        if shown in ("0.0.0.0", ""):
            shown = "127.0.0.1"
        elif shown == "::":
            shown = "::1"
        if ":" in shown:
            shown = f"[{shown}]"
        scheme = "https" if server.ssl_context is not None else "http"
        self._url = f"{scheme}://{shown}:{port}"
        self.port = int(port)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="snowauth-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection. Safe to call more than once."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = None
        self._thread = None
        server.stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- inspection and control --------------------------------------------------------

    @property
    def url(self) -> str:
        """``http(s)://host:port`` without a trailing slash; only once started."""
        if self._url is None:
            raise RuntimeError("the emulator is not started")
        return self._url

    @property
    def token_requests(self) -> int:
        """POSTs received at ``/oauth_token.do``, whatever their answer."""
        with self.state.lock:
            return self.state.token_requests

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request seen, without query strings or bodies
        (the ``/__emulator/`` control requests are not recorded)."""
        with self.state.lock:
            return list(self.state.requests)

    @property
    def system_log(self) -> list[str]:
        """Why each refused request was refused, like the instance's system log
        (ServiceNow tells the client only "access_denied"). No secrets."""
        with self.state.lock:
            return list(self.state.system_log)

    @property
    def modes(self) -> dict[str, Any]:
        with self.state.lock:
            return self.state.modes.as_dict()

    def set_mode(
        self,
        hibernating: bool | None = None,
        rate_limited: bool | None = None,
        retry_after: int | None = None,
        flaky: bool | None = None,
        flaky_failures: int | None = None,
        slow: float | None = None,
        no_current_user: bool | None = None,
        drop_user_filter: bool | None = None,
        rest_rate_limited: bool | None = None,
    ) -> None:
        """Change modes at run time; None leaves a mode as it is.

        ``flaky_failures=n`` makes the next n token requests answer 503 (then flaky
        turns itself off); ``flaky=True`` alone fails every token request until
        ``flaky=False``. ``slow`` is a delay in seconds before every answer (0: off).
        ``no_current_user`` answers 404 at ``/api/now/ui/user/current_user``;
        ``drop_user_filter`` has the Table API ignore ``javascript:gs.getUserID()``;
        ``rest_rate_limited`` answers ``/api/now/*`` with an inbound REST rate limit's
        429 (its ``X-RateLimit-*`` headers, ``Retry-After`` of ``retry_after``)."""
        with self.state.lock:
            self.state.set_mode(
                hibernating=hibernating,
                rate_limited=rate_limited,
                retry_after=retry_after,
                flaky=flaky,
                flaky_failures=flaky_failures,
                slow=slow,
                no_current_user=no_current_user,
                drop_user_filter=drop_user_filter,
                rest_rate_limited=rest_rate_limited,
            )

    def approve_next_authorization(self, user_name: str) -> None:
        """Have the next ``GET /oauth_auth.do`` approve at once as ``user_name``."""
        if user_name not in self.state.users:
            raise ValueError(f"{user_name!r} is not a configured user")
        with self.state.lock:
            self.state.approve_next = user_name

    def set_auto_approve_user(self, user_name: str | None) -> None:
        """Change (or with None switch off) the automatic approval at authorize."""
        if user_name is not None and user_name not in self.state.users:
            raise ValueError(f"{user_name!r} is not a configured user")
        with self.state.lock:
            self.state.auto_approve_user = user_name

    def set_property(self, name: str, value: str) -> None:
        """Set (or create) a system property, as a PATCH through the Table API would:
        the behaviour it governs changes at once. Out of process, use the Table API."""
        with self.state.lock:
            self.state.set_property(name, value)

    @property
    def syslog(self) -> list[str]:
        """The ``syslog`` table's messages, oldest first (the Table API reads them too)."""
        with self.state.lock:
            return [record.message for record in self.state.syslog]

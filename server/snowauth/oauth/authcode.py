"""The browser part of the authorization code flow: PKCE, state and the loopback listener.

:func:`authorize` opens ``/oauth_auth.do`` through an injected ``open_browser``, waits
(bounded) for the browser to come back to ``redirect_uri`` on a listener bound to
exactly that host and port, checks ``state`` and returns the code and the PKCE
verifier. The listener is closed in every case. Exchanging the code is the client's.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import html
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit

from snowauth.oauth import errors
from snowauth.oauth.errors import OAuthError
from snowauth.oauth.urls import host as host_of
from snowauth.tokens import ResolvedConnection

log = logging.getLogger("snowauth.oauth.authcode")

OpenBrowser = Callable[[str], Awaitable[None]]
ProgressFn = Callable[[str], None]

AUTHORIZATION_TIMEOUT: Final = 300.0
_REQUEST_TIMEOUT: Final = 10.0
_MAX_REQUEST_HEAD: Final = 16 * 1024
_LOOPBACK_HOSTS: Final = {"127.0.0.1": "127.0.0.1", "::1": "::1", "localhost": "127.0.0.1"}


@dataclass(frozen=True)
class Pkce:
    verifier: str = field(repr=False)
    challenge: str
    method: str = "S256"


def new_pkce() -> Pkce:
    """A fresh S256 PKCE pair (RFC 7636: 43-128 unreserved characters)."""
    verifier = secrets.token_urlsafe(64)  # 86 characters
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return Pkce(verifier=verifier, challenge=challenge)


def new_state() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class LoopbackAddress:
    """Where to listen for ``redirect_uri``: the bind host, the port and the path."""

    host: str
    port: int
    path: str


def loopback_address(redirect_uri: str, shown: str | None = None) -> LoopbackAddress:
    """The address a ``redirect_uri`` needs (``http://`` loopback with an explicit port).
    ``shown`` names it in the message (see :func:`_label`)."""
    named = f"({shown})" if shown else repr(redirect_uri)
    bad = errors.invalid_connection(
        "redirect_uri",
        f"redirect_uri {named} must be an http:// loopback URL with an explicit "
        "port (127.0.0.1, [::1] or localhost), exactly as registered on the instance.",
    )
    try:
        parts = urlsplit(redirect_uri)
        port = parts.port
    except ValueError:
        raise bad from None
    hostname = (parts.hostname or "").lower()
    if parts.scheme != "http" or hostname not in _LOOPBACK_HOSTS or port is None:
        raise bad
    return LoopbackAddress(host=_LOOPBACK_HOSTS[hostname], port=port, path=parts.path or "/")


def authorize_url(conn: ResolvedConnection, *, state: str, challenge: str | None) -> str:
    """The ``/oauth_auth.do`` URL the browser opens."""
    params = {
        "response_type": "code",
        "client_id": conn.client_id,
        "redirect_uri": conn.redirect_uri or "",
        "state": state,
    }
    if conn.scope:
        params["scope"] = conn.scope
    if challenge is not None:
        params["code_challenge"] = challenge
        params["code_challenge_method"] = "S256"
    return f"{conn.base_url}/oauth_auth.do?{urlencode(params)}"


def interpret(params: dict[str, str], expected_state: str, redirect_uri: str) -> str:
    """The code in a redirect's parameters, or the OAuthError they mean."""
    if params.get("state") != expected_state:
        raise errors.state_mismatch(redirect_uri)
    if "error" in params:
        raise errors.authorization_denied(
            errors.scrub(params["error"], limit=80),
            errors.scrub(params.get("error_description", "")),
        )
    code = params.get("code")
    if not code:
        raise errors.malformed_response(
            redirect_uri, "the sign-in redirect carried neither a code nor an error", status=None
        )
    return code


_PAGE: Final = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>snowauth</title></head>"
    "<body style='font-family: sans-serif; margin: 3em'><h1>{title}</h1><p>{text}</p>"
    "</body></html>"
)


def _page(title: str, text: str) -> bytes:
    return _PAGE.format(title=html.escape(title), text=html.escape(text)).encode("utf-8")


class RedirectListener:
    """A one-shot HTTP listener for the browser's redirect to ``redirect_uri``."""

    def __init__(self, redirect_uri: str, expected_state: str, shown: str | None = None) -> None:
        self.redirect_uri = redirect_uri
        self.shown = shown or redirect_uri  # how messages and the log name it
        self.address = loopback_address(redirect_uri, shown)
        self._expected_state = expected_state
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._result: asyncio.Future[dict[str, str]] | None = None
        self.ignored = 0  # requests without this sign-in's state, answered 400

    async def __aenter__(self) -> RedirectListener:
        self._result = asyncio.get_running_loop().create_future()
        try:
            self._server = await asyncio.start_server(self._handle, host=self.address.host, port=self.address.port)
        except OSError as exc:
            raise errors.listener_failed(self.shown, exc.strerror or "in use") from None
        log.debug("listening for the sign-in redirect on %s", self.shown)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.close()
        if server is not None:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        if self._result is not None and not self._result.done():
            self._result.cancel()

    async def wait(self, timeout: float) -> dict[str, str]:
        """The redirect's query parameters; ``authorization-timeout`` after ``timeout``."""
        assert self._result is not None, "use the listener as an async context manager"
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(self._result)
        except TimeoutError:
            raise errors.authorization_timeout(self.shown, timeout, ignored=self.ignored) from None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            try:
                async with asyncio.timeout(_REQUEST_TIMEOUT):
                    head = await reader.readuntil(b"\r\n\r\n")
            except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return
            except (ConnectionError, OSError):
                return
            if len(head) > _MAX_REQUEST_HEAD:
                await self._respond(writer, 431, "Request Header Fields Too Large", b"")
                return
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split(" ")
            if len(parts) != 3 or parts[0] != "GET":
                await self._respond(writer, 405, "Method Not Allowed", b"")
                return
            path, _, query = parts[1].partition("?")
            if path != self.address.path:
                await self._respond(writer, 404, "Not Found", _page("Not found", ""))
                return
            params = dict(parse_qsl(query, keep_blank_values=True))
            if not secrets.compare_digest(params.get("state", "").encode(), self._expected_state.encode()):
                # Any page or program on this machine can reach the listener: a request
                # without this sign-in's state is not the browser coming back from the
                # instance. Ignore it and keep waiting, or one stray (or forged) request
                # would end the sign-in.
                self.ignored += 1
                log.debug("ignored a request without the sign-in's state on the redirect listener")
                page = _page("Not this sign-in", "This address is waiting for another sign-in; nothing was done.")
                await self._respond(writer, 400, "Bad Request", page)
                return
            await self._respond(writer, 200, "OK", self._accept(params))
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _accept(self, params: dict[str, str]) -> bytes:
        result = self._result
        if result is None or result.done():
            return _page("Sign-in already handled", "You can close this window and return to your editor.")
        log.debug("sign-in redirect received on %s", self.shown)
        result.set_result(params)
        try:
            interpret(params, self._expected_state, self.shown)
        except OAuthError as exc:
            if exc.code == "authorization-denied":
                return _page("Sign-in denied", "You can close this window.")
            return _page("Sign-in failed", "snowauth could not complete the sign-in.")
        return _page("Signed in", "You can close this window and return to your editor.")

    @staticmethod
    async def _respond(writer: asyncio.StreamWriter, status: int, reason: str, body: bytes) -> None:
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            "Content-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\n"
            "Referrer-Policy: no-referrer\r\n"
            "Connection: close\r\n\r\n"
        )
        with contextlib.suppress(ConnectionError, OSError):
            writer.write(head.encode("latin-1") + body)
            await writer.drain()


def _label(conn: ResolvedConnection) -> str | None:
    """How messages and the log name the connection's redirect_uri when it was read from a
    reference: "the address in `${env:NAME}`" (its value is not shown: the file may point
    it at any variable of the user's). None for a URL the file wrote: shown as it is."""
    reference = dict(conn.references).get("redirect_uri")
    return f"the address in `{reference}`" if reference else None


@dataclass(frozen=True)
class AuthorizationResult:
    """What the browser part yields: the code and the PKCE verifier (if any)."""

    code: str = field(repr=False)
    code_verifier: str | None = field(repr=False)


async def authorize(
    conn: ResolvedConnection,
    *,
    open_browser: OpenBrowser,
    timeout: float = AUTHORIZATION_TIMEOUT,
    on_progress: ProgressFn | None = None,
) -> AuthorizationResult:
    """Run the browser sign-in for ``conn`` and return the authorization code."""
    if not conn.redirect_uri:
        raise errors.invalid_connection(
            "redirect_uri",
            f'Connection "{conn.name}" needs redirect_uri for the authorization code grant.',
        )
    pkce = new_pkce() if conn.pkce else None
    state = new_state()
    url = authorize_url(conn, state=state, challenge=pkce.challenge if pkce else None)
    shown = _label(conn)
    async with RedirectListener(conn.redirect_uri, state, shown) as listener:
        if on_progress is not None:
            on_progress(f"Opening the browser to sign in at {host_of(conn.base_url)}…")
        await open_browser(url)
        if on_progress is not None:
            on_progress(f"Waiting for the sign-in to finish in the browser (up to {timeout:g} s)…")
        params = await listener.wait(timeout)
    code = interpret(params, state, shown or conn.redirect_uri)
    return AuthorizationResult(code=code, code_verifier=pkce.verifier if pkce else None)

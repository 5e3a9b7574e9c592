"""The HTTP request handler: reads a request, applies the modes, routes it.

Logging goes through :mod:`logging` (logger ``snowauth.emulator``) and names only the
method, the path without its query string, and the status: never a header, a query
or a body, since those carry secrets.
"""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, parse_qsl, urlsplit

from snowauth import instance_records as ir
from snowauth.emulator.authorize import AUTHORIZE_PARAMS, authorize
from snowauth.emulator.control import PREFIX as CONTROL_PREFIX
from snowauth.emulator.control import control_request
from snowauth.emulator.grants import ACCESS_DENIED, token_request
from snowauth.emulator.pages import (
    hibernating_page,
    index_page,
    not_found_page,
    sdk_code_page,
    status_page,
    unavailable_page,
)
from snowauth.emulator.reply import Reply, html_reply, json_reply
from snowauth.emulator.rest import Credentials, rest_request

if TYPE_CHECKING:
    from snowauth.emulator.server import EmulatorHTTPServer

logger = logging.getLogger("snowauth.emulator")

TOKEN_PATH = "/oauth_token.do"
AUTHORIZE_PATH = "/oauth_auth.do"
REVOKE_PATH = "/oauth_revoke_token.do"
API_PREFIX = "/api/now/"
MAX_BODY = 1 << 20
FORM_TYPE = "application/x-www-form-urlencoded"

_RATE_LIMITED = {
    "error": {
        "message": "Rate limit exceeded",
        "detail": "Too many requests: wait for Retry-After seconds",
    },
    "status": "failure",
}


class _BodyError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _form(body: bytes) -> dict[str, str] | None:
    """A form body as a dict (first value of each name wins); None if not UTF-8."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    form: dict[str, str] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        form.setdefault(key, value)
    return form


def _first_values(query: dict[str, list[str]]) -> dict[str, str]:
    return {key: values[0] for key, values in query.items() if values}


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    server_version = "ServiceNow"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 30
    disable_nagle_algorithm = True

    @property
    def emulator(self) -> EmulatorHTTPServer:
        return cast("EmulatorHTTPServer", self.server)

    # --- connection tracking (so stop() can close idle keep-alive connections) --------

    def setup(self) -> None:
        super().setup()
        self.emulator.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.emulator.untrack(self.connection)

    # --- logging: method, path, status; nothing else ---------------------------------

    def _log_path(self) -> str:
        raw = getattr(self, "path", None)
        return urlsplit(raw).path if isinstance(raw, str) else "-"

    def _log_method(self) -> str:
        return getattr(self, "command", None) or "-"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        status = int(code) if isinstance(code, int) else code
        logger.info("%s %s %s", self._log_method(), self._log_path(), status)

    def log_error(self, format: str, *args: Any) -> None:
        logger.debug("%s %s: bad request", self._log_method(), self._log_path())

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self._log_method(), self._log_path())

    # --- methods ----------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise _BodyError(411)
        length_text = self.headers.get("Content-Length", "0")
        try:
            length = int(length_text)
        except ValueError:
            raise _BodyError(400) from None
        if length < 0:
            raise _BodyError(400)
        if length > MAX_BODY:
            raise _BodyError(413)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        try:
            reply = self._route()
        except _BodyError as exc:
            self.close_connection = True
            reason = {400: "Bad Request", 411: "Length Required", 413: "Content Too Large"}
            reply = html_reply(exc.status, status_page(exc.status, reason.get(exc.status, "Error")))
        except Exception as exc:  # never let a bug take the server down or leak a body
            logger.error("%s %s failed: %s", self._log_method(), self._log_path(), type(exc).__name__)
            self.close_connection = True
            reply = html_reply(500, unavailable_page())
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in reply.headers:
            self.send_header(name, value)
        if self.close_connection or self.emulator.stopping.is_set():
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and reply.body:
            self.wfile.write(reply.body)

    # --- routing ----------------------------------------------------------------------

    def _route(self) -> Reply:
        method = self.command
        split = urlsplit(self.path)
        path = split.path
        query = parse_qs(split.query, keep_blank_values=True)
        body = self._read_body()
        server = self.emulator
        state = server.state

        if path.startswith(CONTROL_PREFIX):
            return control_request(state, method, path, body)

        with state.lock:
            state.requests.append((method, path))
            if path == TOKEN_PATH and method == "POST":
                state.token_requests += 1
            slow = state.modes.slow
        if slow > 0:
            server.stopping.wait(slow)
        with state.lock:
            hibernating = state.modes.hibernating
        if hibernating:
            return html_reply(200, hibernating_page())

        if path == TOKEN_PATH:
            return self._token(method, body)
        if path == AUTHORIZE_PATH:
            return self._authorize(method, query, body)
        if path == REVOKE_PATH:
            return self._revoke(method, query, body)
        if path == ir.SDK_REDIRECT_PATH and method in ("GET", "HEAD"):
            params = _first_values(query)
            return html_reply(200, sdk_code_page(params.get("code", ""), params.get("error", "")))
        if path.startswith(API_PREFIX):
            credentials = Credentials(self.headers.get("Authorization"), self.headers.get("Cookie"))
            return rest_request(state, method, path, query, body, credentials, self._base_url())
        if path == "/" and method in ("GET", "HEAD"):
            return html_reply(200, index_page())
        return html_reply(404, not_found_page(path))

    def _base_url(self) -> str:
        """The instance's URL as the client named it (for reference links)."""
        scheme = "https" if self.emulator.ssl_context is not None else "http"
        host = self.headers.get("Host") or f"{self.emulator.server_name}:{self.emulator.server_port}"
        return f"{scheme}://{host}"

    def _content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    def _token(self, method: str, body: bytes) -> Reply:
        state = self.emulator.state
        if method != "POST":
            return html_reply(405, status_page(405, "Method Not Allowed"), ("Allow", "POST"))
        with state.lock:
            if state.modes.rate_limited:
                retry_after = str(state.modes.retry_after)
                return json_reply(429, _RATE_LIMITED, ("Retry-After", retry_after))
            if state.take_flaky_failure():
                return html_reply(503, unavailable_page())
        form = _form(body) if self._content_type() == FORM_TYPE else None
        if form is None:
            with state.lock:
                state.deny("token: the body is not application/x-www-form-urlencoded UTF-8")
                state.log_token_flow("the body is not application/x-www-form-urlencoded UTF-8")
            return json_reply(401, ACCESS_DENIED)
        outcome = token_request(state, form, self.headers.get("Authorization"))
        return json_reply(outcome.status, outcome.body, ("Pragma", "no-cache"), *self._session_cookies(outcome.body))

    def _session_cookies(self, body: object) -> tuple[tuple[str, str], ...]:
        """A token answer opens a session, as an instance's does: ``JSESSIONID`` and
        ``glide_user_route`` cookies (the REST API then accepts the session alone)."""
        access = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(access, str):
            return ()
        state = self.emulator.state
        with state.lock:
            session = state.open_session(access)
            route = state.rng.getrandbits(64)
        if session is None:
            return ()
        secure = "; Secure" if self.emulator.ssl_context is not None else ""
        return (
            ("Set-Cookie", f"JSESSIONID={session}; Path=/; HttpOnly{secure}"),
            ("Set-Cookie", f"glide_user_route=glide.{route:016x}; Path=/; HttpOnly{secure}"),
        )

    def _authorize(self, method: str, query: dict[str, list[str]], body: bytes) -> Reply:
        state = self.emulator.state
        if method in ("GET", "HEAD"):
            return authorize(state, _first_values(query))
        if method == "POST":
            form = _form(body) or {}
            params = {k: form[k] for k in AUTHORIZE_PARAMS if k in form}
            return authorize(state, params, login=form)
        return html_reply(405, status_page(405, "Method Not Allowed"), ("Allow", "GET, POST"))

    def _revoke(self, method: str, query: dict[str, list[str]], body: bytes) -> Reply:
        state = self.emulator.state
        token: str | None = None
        if method == "POST" and self._content_type() == FORM_TYPE:
            token = (_form(body) or {}).get("token")
        if not token and method in ("GET", "POST"):
            token = _first_values(query).get("token")
        if method not in ("GET", "POST"):
            return html_reply(405, status_page(405, "Method Not Allowed"), ("Allow", "GET, POST"))
        if token:
            with state.lock:
                state.revoke(token)
        return Reply(200)

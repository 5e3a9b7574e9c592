"""The HTTP layer of the token exchange: one reused client per route, strict limits.

- TLS is always verified: the operating system's trust store (``truststore``: a
  corporate root installed on the machine just works), certifi's CAs, and a
  connection's ``ca_bundle``; a connection's client certificate is presented when
  the server asks (mutual TLS).
- Proxies: the connection's ``proxy``, else the process environment's
  (``oauth/proxies.py``); never a workspace ``.env``, never httpx's implicit
  ``trust_env``. A refused proxy (HTTP 407 and the like) is its own failure.
- Redirects are never followed (credentials would go along): a 3xx is an error.
- No cookie is ever kept or sent: a token answer's session cookies (``JSESSIONID``,
  ``glide_user_route``) would authenticate later requests instead of the token and
  cross connections on one host (docs/decisions.md, "Fidelity").
- Each request has the connection's timeout, for each phase and in total.
- Answers are read streaming and cut off above ``max_response_bytes``.
- Retries are bounded (3 attempts): 429 honours ``Retry-After`` up to 30 s, 5xx backs
  off (0.5 s, 1 s); nothing else is retried, in particular never a 401.

Transport failures become :class:`OAuthError` (unreachable, timeout, tls, …). Log lines
name the method, the URL without its query, the status, the attempt and the duration.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import importlib.util
import logging
import math
import socket
import ssl
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

import httpx

from snowauth import __version__
from snowauth.oauth import errors, proxies, redaction
from snowauth.oauth.errors import OAuthError
from snowauth.oauth.pages import is_hibernation_page
from snowauth.oauth.tls import ClientCertificate, ssl_context
from snowauth.oauth.urls import origin, redact

log = logging.getLogger("snowauth.oauth.http")


def _note_missing_sniffio() -> None:
    """httpcore runs ``import sniffio`` each time it sets up a lock (four times a request)
    and falls back to asyncio when that fails. Python does not remember a failed import,
    so without the package each of those searched every ``sys.path`` entry again (~0.2 ms
    each, a seventh of a fetch's overhead: docs/performance.md). Its absence is recorded
    once, the way the import system records a module it must not load (``None`` in
    ``sys.modules``): the same ImportError, at once."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


_note_missing_sniffio()

SleepFn = Callable[[float], Awaitable[None]]
NowFn = Callable[[], datetime]
ProgressFn = Callable[[str], None]

MAX_ATTEMPTS: Final = 3
MAX_RETRY_AFTER: Final = 30.0
BACKOFF: Final = (0.5, 1.0)
DEFAULT_RETRY_AFTER: Final = 1.0
MAX_RESPONSE_BYTES: Final = 1 << 20
USER_AGENT: Final = f"snowauth/{__version__}"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class HttpResponse:
    """A complete, size-checked answer."""

    status: int
    headers: httpx.Headers
    body: bytes
    url: str  # scheme, host, port and path only
    origin: str
    attempts: int

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("content-type")
        if not value:
            return None
        return value.split(";")[0].strip().lower() or None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class Route:
    """How a request reaches its server: trust, proxy, client certificate. One httpx
    client is kept per route."""

    ca_bundle: str | None = None
    proxy: str | None = field(default=None, repr=False)  # may hold credentials
    client_cert: ClientCertificate | None = None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and members of exception groups."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        if current.__cause__ is not None:
            stack.append(current.__cause__)
        if current.__context__ is not None:
            stack.append(current.__context__)


_CLIENT_CERT_ALERTS: Final = (
    "CERTIFICATE_REQUIRED",
    "HANDSHAKE_FAILURE",
    "BAD_CERTIFICATE",
    "UNKNOWN_CA",
    "CERTIFICATE_UNKNOWN",
    "ACCESS_DENIED",
)


def _proxy_error(exc: httpx.ProxyError, proxy: str | None) -> OAuthError:
    text = str(exc)
    status = int(text[:3]) if text[:3].isdigit() else None
    where = proxies.shown(proxy) if proxy else "the proxy"
    if status == 407:
        return errors.proxy_auth_required(where)
    return errors.proxy_refused(where, f"HTTP {status}" if status else "the tunnel could not be opened", status=status)


def _client_cert_refusal(exc: BaseException, url: httpx.URL, route: Route) -> OAuthError | None:
    """The server's TLS alert that refuses the (missing) client certificate, or None."""
    for cause in _causes(exc):
        if (
            isinstance(cause, ssl.SSLError)
            and not isinstance(cause, ssl.SSLCertVerificationError)
            and any(alert in (cause.reason or "") for alert in _CLIENT_CERT_ALERTS)
        ):
            reason = "TLS alert " + (cause.reason or "").lower().replace("_", " ")
            if route.client_cert is None:
                return errors.client_cert_required(url.host, reason)
            return errors.client_cert_rejected(url.host, reason)
    return None


def _connect_error(exc: BaseException, url: httpx.URL, route: Route | None = None) -> OAuthError:
    where = origin(url)
    refused = _client_cert_refusal(exc, url, route) if route is not None else None
    if refused is not None:
        return refused
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return errors.tls_untrusted(url.host, cause.verify_message or "verification failed")
        if isinstance(cause, ssl.SSLError):
            return errors.tls_failed(url.host, cause.reason or type(cause).__name__)
        if isinstance(cause, socket.gaierror):
            return errors.unreachable(where, f"the host name {url.host} could not be resolved")
        if isinstance(cause, ConnectionRefusedError):
            return errors.unreachable(where, "the connection was refused")
    text = " ".join(str(c) for c in _causes(exc))
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return errors.tls_untrusted(url.host, "certificate verify failed")
    if any(s in text for s in ("Name or service not known", "nodename nor servname", "getaddr")):
        return errors.unreachable(where, f"the host name {url.host} could not be resolved")
    if "refused" in text.lower():
        return errors.unreachable(where, "the connection was refused")
    return errors.unreachable(where, "the connection failed")


class _RefuseAllCookies(http.cookiejar.DefaultCookiePolicy):
    """A cookie policy that neither stores nor returns any cookie."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


def no_cookies() -> http.cookiejar.CookieJar:
    """A cookie jar that never stores a cookie, for every client of the exchange (a
    jar, not ``httpx.Cookies``: httpx copies the cookies of those into a new jar)."""
    return http.cookiejar.CookieJar(policy=_RefuseAllCookies())


def route_for(
    url: str,
    *,
    ca_bundle: str | None = None,
    proxy: str | None = None,
    client_cert: ClientCertificate | None = None,
) -> Route:
    """The route of a request: the connection's ``proxy`` if it has one, else the proxy
    the process environment names for this URL (``NO_PROXY`` honoured), else none.
    ``http://`` (loopback only: the emulator, a local instance) never goes through a
    proxy: a plain-text request would show the proxy the credentials."""
    target = httpx.URL(url)
    if target.scheme != "https":
        return Route(ca_bundle, None, client_cert)
    if not proxy:
        proxy = proxies.from_environment(target.scheme, target.host, target.port)
    return Route(ca_bundle, proxy or None, client_cert)


class ConnectionDropped(OAuthError):
    """The connection closed before any answer: "unreachable", retried once at once."""

    def __init__(self, error: OAuthError) -> None:
        super().__init__(
            error.code,
            error.message,
            key=error.key,
            retryable=error.retryable,
            status=error.status,
        )


class HttpTransport:
    """Sends requests with the project's retry, size, redirect and TLS rules."""

    def __init__(
        self,
        *,
        sleep: SleepFn = asyncio.sleep,
        now: NowFn = utcnow,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        max_attempts: int = MAX_ATTEMPTS,
        max_retry_after: float = MAX_RETRY_AFTER,
        backoff: Sequence[float] = BACKOFF,
    ) -> None:
        self._sleep = sleep
        self._now = now
        self.max_response_bytes = max_response_bytes
        self.max_attempts = max_attempts
        self.max_retry_after = max_retry_after
        self._backoff = tuple(backoff) or (0.0,)
        self._clients: dict[Route, httpx.AsyncClient] = {}
        redaction.install()

    def client_for(self, ca_bundle: str | Route | None) -> httpx.AsyncClient:
        """The shared client for this route (or CA bundle), created on first use. httpx's
        ``trust_env`` is off: the proxy is the route's, chosen by :func:`route_for`."""
        route = ca_bundle if isinstance(ca_bundle, Route) else Route(ca_bundle)
        client = self._clients.get(route)
        if client is None:
            proxies.register(route.proxy)
            client = httpx.AsyncClient(
                verify=ssl_context(route.ca_bundle, route.client_cert),
                follow_redirects=False,
                cookies=no_cookies(),
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                proxy=route.proxy,
                trust_env=False,
            )
            self._clients[route] = client
        return client

    async def aclose(self) -> None:
        clients = list(self._clients.values())
        self._clients.clear()
        for client in clients:
            await client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        ca_bundle: str | None = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        repeatable: bool = True,
        on_progress: ProgressFn | None = None,
        json: object = None,
        max_attempts: int | None = None,
        proxy: str | None = None,
        client_cert: ClientCertificate | None = None,
    ) -> HttpResponse:
        """Send with bounded retries; return the last answer (3xx raises ``redirect``).

        Retried: 5xx (backoff), 429 (``Retry-After``), and once at once a connection
        that closed before any answer (a stale keep-alive connection). With
        ``repeatable=False`` (the password grant: a login the instance may have counted
        toward lockout is never repeated) only 5xx is. ``json``: a JSON body instead of
        the form ``data`` (the Table API). ``max_attempts=1``: sent once, never retried
        (a record created by a POST would be created twice). ``proxy``: the connection's
        proxy (else the process environment's); ``client_cert``: for mutual TLS.
        """
        route = route_for(url, ca_bundle=ca_bundle, proxy=proxy, client_cert=client_cert)
        limit = self.max_attempts if max_attempts is None else max_attempts
        attempt = 1
        dropped_retried = False
        while True:
            try:
                response = await self._send(
                    method,
                    url,
                    timeout=timeout,
                    route=route,
                    data=data,
                    params=params,
                    headers=headers,
                    attempt=attempt,
                    json=json,
                )
            except ConnectionDropped:
                if not repeatable or dropped_retried or attempt >= limit:
                    raise
                dropped_retried = True
                attempt += 1
                continue
            if 300 <= response.status < 400:
                location = response.headers.get("location")
                target = redact(httpx.URL(url).join(location)) if location else "another address"
                raise errors.redirected(response.origin, target, status=response.status)
            delay = self._retry_delay(response, attempt, repeatable) if attempt < limit else None
            if delay is None:
                return response
            log.info(
                "%s %s -> %d; retrying in %.2g s (attempt %d of %d)",
                method,
                response.url,
                response.status,
                delay,
                attempt + 1,
                self.max_attempts,
            )
            if on_progress is not None:
                why = "rate limited" if response.status == 429 else f"HTTP {response.status}"
                on_progress(
                    f"{response.origin} answered {why}; retrying in {delay:g} s "
                    f"(attempt {attempt + 1} of {self.max_attempts})…"
                )
            await self._sleep(delay)
            attempt += 1

    def _retry_delay(self, response: HttpResponse, attempt: int, repeatable: bool) -> float | None:
        if attempt >= self.max_attempts:
            return None
        retry_after = parse_retry_after(response.headers.get("retry-after"), self._now())
        if response.status == 429:
            if not repeatable:
                return None
            wait = DEFAULT_RETRY_AFTER if retry_after is None else retry_after
            return None if wait > self.max_retry_after else wait
        if 500 <= response.status <= 599:
            if is_hibernation_page(response.body):
                return None
            wait = self._backoff[min(attempt - 1, len(self._backoff) - 1)]
            if retry_after is not None and retry_after <= self.max_retry_after:
                wait = max(wait, retry_after)
            return wait
        return None

    async def _send(
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        route: Route,
        data: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        attempt: int,
        json: object = None,
    ) -> HttpResponse:
        target = httpx.URL(url)
        where = origin(target)
        shown = redact(target)
        client = self.client_for(route)
        started = time.monotonic()
        status: int | None = None
        limit = self.max_response_bytes
        try:
            async with (
                asyncio.timeout(timeout),
                client.stream(
                    method,
                    target,
                    data=dict(data) if data is not None else None,
                    json=json,
                    params=dict(params) if params is not None else None,
                    headers=dict(headers) if headers is not None else None,
                    timeout=httpx.Timeout(timeout),
                ) as response,
            ):
                status = response.status_code
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise errors.too_large(shown, limit, status=status)
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise errors.too_large(shown, limit, status=status)
                result = HttpResponse(
                    status=status,
                    headers=response.headers,
                    body=bytes(body),
                    url=shown,
                    origin=where,
                    attempts=attempt,
                )
        except OAuthError as exc:
            self._log_failure(method, shown, attempt, started, exc.code)
            raise
        except (TimeoutError, httpx.TimeoutException):
            self._log_failure(method, shown, attempt, started, "timeout")
            raise errors.timed_out(where, timeout) from None
        except httpx.ProxyError as exc:
            failure = _proxy_error(exc, route.proxy)
            self._log_failure(method, shown, attempt, started, failure.code)
            raise failure from None
        except httpx.ConnectError as exc:
            failure = _connect_error(exc, target, route)
            if route.proxy and failure.code == "unreachable":  # the proxy itself is down
                failure = errors.proxy_refused(proxies.shown(route.proxy), "it could not be reached")
            self._log_failure(method, shown, attempt, started, failure.code)
            raise failure from None
        except ssl.SSLError as exc:  # raised as it is by a read after a TLS 1.3 handshake
            failure = _connect_error(exc, target, route)
            self._log_failure(method, shown, attempt, started, failure.code)
            raise failure from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            refused = _client_cert_refusal(exc, target, route)
            if refused is not None:  # TLS 1.3: the alert comes with the first read
                self._log_failure(method, shown, attempt, started, refused.code)
                raise refused from None
            self._log_failure(method, shown, attempt, started, type(exc).__name__)
            if status is None:
                raise ConnectionDropped(
                    errors.unreachable(where, "the connection was closed before an answer arrived")
                ) from None
            raise errors.malformed_response(
                shown, "the connection closed before the whole answer arrived", status=status
            ) from None
        except httpx.DecodingError:
            self._log_failure(method, shown, attempt, started, "decoding")
            raise errors.malformed_response(shown, "the answer's content encoding is broken", status=status) from None
        except httpx.HTTPError as exc:
            self._log_failure(method, shown, attempt, started, type(exc).__name__)
            raise errors.unreachable(where, f"the request failed ({type(exc).__name__})") from None
        log.debug(
            "%s %s -> %d (attempt %d, %.0f ms)",
            method,
            shown,
            result.status,
            attempt,
            (time.monotonic() - started) * 1000,
        )
        return result

    @staticmethod
    def _log_failure(method: str, shown: str, attempt: int, started: float, what: str) -> None:
        log.info(
            "%s %s failed: %s (attempt %d, %.0f ms)",
            method,
            shown,
            what,
            attempt,
            (time.monotonic() - started) * 1000,
        )

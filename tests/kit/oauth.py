"""What the token exchange tests drive ``OAuthClient`` with: a recording sleep, keys,
resolved connections to the demo instance, and browsers that follow its redirects.

No HTTP mocking anywhere: every request goes over real loopback sockets (raw servers
are in tests.kit.http, the emulator's config in tests.kit.emulator).
"""

from __future__ import annotations

import asyncio
import urllib.request
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from snowauth.oauth.http import HttpResponse
from snowauth.tokens import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_JWT_BEARER,
    GRANT_PASSWORD,
    GRANT_REFRESH,
    ResolvedConnection,
)
from tests.kit.emulator import DEMO_ID, DEMO_SECRET, USER, USER_PASSWORD

# --- sleeping ------------------------------------------------------------------------


class RecordingSleep:
    """An injectable sleep that records the delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


# --- keys ---------------------------------------------------------------------


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


# --- connections ---------------------------------------------------------------------


def _conn(defaults: dict[str, Any], changes: dict[str, Any]) -> ResolvedConnection:
    """A connection of the demo client (10 s timeout) with ``defaults``, then ``changes``."""
    values: dict[str, Any] = {"client_id": DEMO_ID, "client_secret": DEMO_SECRET, "timeout": 10.0}
    return ResolvedConnection(**{**values, **defaults, **changes})


def password_conn(base_url: str, **changes: Any) -> ResolvedConnection:
    defaults = {"name": "dev", "grant_type": GRANT_PASSWORD, "username": USER, "password": USER_PASSWORD}
    return _conn({**defaults, "base_url": base_url, "scope": "useraccount"}, changes)


def client_credentials_conn(base_url: str, **changes: Any) -> ResolvedConnection:
    return _conn({"name": "svc", "base_url": base_url, "grant_type": GRANT_CLIENT_CREDENTIALS}, changes)


def refresh_conn(base_url: str, refresh_token: str, **changes: Any) -> ResolvedConnection:
    defaults = {"name": "rt", "base_url": base_url, "grant_type": GRANT_REFRESH, "refresh_token": refresh_token}
    return _conn(defaults, changes)


def authcode_conn(base_url: str, redirect_uri: str, **changes: Any) -> ResolvedConnection:
    defaults = {"name": "browser", "base_url": base_url, "grant_type": GRANT_AUTHORIZATION_CODE}
    return _conn({**defaults, "redirect_uri": redirect_uri, "pkce": True, "scope": "useraccount"}, changes)


def jwt_conn(base_url: str, private_pem: bytes, **changes: Any) -> ResolvedConnection:
    defaults = {"name": "jwt", "base_url": base_url, "grant_type": GRANT_JWT_BEARER}
    return _conn({**defaults, "jwt_key_pem": private_pem, "jwt_subject": USER}, changes)


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


# --- answers -------------------------------------------------------------------------


def answer(status: int, body: bytes, content_type: str = "application/json", *, base: str) -> HttpResponse:
    """What the transport hands the exchange when ``base``'s token endpoint answered
    ``body``: to drive ``parse_token_response`` with many bodies without a socket each
    (the same answers over loopback: tests.kit.http.replying)."""
    return HttpResponse(
        status=status,
        headers=httpx.Headers({"content-type": content_type}),
        body=body,
        url=f"{base}/oauth_token.do",
        origin=base,
        attempts=1,
    )

"""The demo instance for the tests: its clients and user, configs changed for a test,
requests to its endpoints (token, authorize, REST) with checks of their answers, and
connection files that point at it. Fixtures that start emulators are in conftest.py."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import html
import json
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import trustme

from snowauth import instance_records as ir
from snowauth.emulator import Emulator, EmulatorConfig, default_config
from snowauth.oauth.http import no_cookies

DEMO_ID = "0123456789abcdef0123456789abcdef"
DEMO_SECRET = "demo-client-secret"
PUBLIC_ID = "fedcba9876543210fedcba9876543210"
NOAPP_ID = "11111111111111111111111111111111"
NOAPP_SECRET = "noappuser-secret"
REDIRECT = "http://127.0.0.1:53682/callback"
REDIRECT_LOCALHOST = "http://localhost:53682/callback"
USER = "integration.user"
USER_PASSWORD = "demo-password"
KEY_ID = "snowauth-test-key"
ADMIN = "admin"
ADMIN_PASSWORD = "admin-password"
SDK_ID = ir.SDK_CLIENT_ID
SDK_REDIRECT = ir.SDK_REDIRECT_PATH
DENIED = {"error_description": "access_denied", "error": "server_error"}
NOT_AUTHENTICATED = {
    "error": {
        "message": "User Not Authenticated",
        "detail": "Required to provide Auth information",
    },
    "status": "failure",
}
TIMEOUT = 10.0
# One client for the helpers: building a client (and its TLS context) per call is slow.
# It keeps no cookies: a token answer's session cookie would authenticate later requests.
HTTP = httpx.Client(timeout=TIMEOUT, cookies=no_cookies())


def token(emu: Emulator, **form: str) -> httpx.Response:
    return HTTP.post(f"{emu.url}/oauth_token.do", data=form)


def password_grant(
    emu: Emulator,
    username: str = USER,
    password: str = USER_PASSWORD,
    client_id: str = DEMO_ID,
    client_secret: str = DEMO_SECRET,
    **extra: str,
) -> httpx.Response:
    return token(
        emu,
        grant_type="password",
        client_id=client_id,
        client_secret=client_secret,
        username=username,
        password=password,
        **extra,
    )


def refresh_grant(
    emu: Emulator, refresh_token: str, client_id: str = DEMO_ID, client_secret: str = DEMO_SECRET
) -> httpx.Response:
    form = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh_token}
    if client_secret:
        form["client_secret"] = client_secret
    return token(emu, **form)


def assert_denied(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == DENIED


def assert_token_body(body: dict[str, Any], *, refresh: bool, scope: str = "useraccount") -> None:
    expected = {"access_token", "scope", "token_type", "expires_in"}
    if refresh:
        expected.add("refresh_token")
    assert set(body) == expected
    assert body["token_type"] == "Bearer"
    assert body["scope"] == scope
    assert type(body["expires_in"]) is int
    assert 80 <= len(body["access_token"]) <= 90
    base64.urlsafe_b64decode(body["access_token"] + "==")  # base64url alphabet


def token_requests(emu: Emulator) -> int:
    """The requests made of the instance's token endpoint so far."""
    return sum(1 for method, path in emu.requests if method == "POST" and path == "/oauth_token.do")


def current_user(emu: Emulator, access_token: str) -> httpx.Response:
    return HTTP.get(
        f"{emu.url}/api/now/ui/user/current_user",
        headers={"Authorization": f"Bearer {access_token}"},
    )


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize(emu: Emulator, **params: str) -> httpx.Response:
    query = {"response_type": "code", "client_id": DEMO_ID, "redirect_uri": REDIRECT}
    query.update(params)
    query = {k: v for k, v in query.items() if v != ""}
    return HTTP.get(f"{emu.url}/oauth_auth.do", params=query)


def redirect_params(response: httpx.Response, redirect_uri: str = REDIRECT) -> dict[str, str]:
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(redirect_uri + "?")
    query = parse_qs(urlsplit(location).query)
    return {k: v[0] for k, v in query.items()}


def code_exchange(
    emu: Emulator,
    code: str,
    redirect_uri: str = REDIRECT,
    client_id: str = DEMO_ID,
    client_secret: str | None = DEMO_SECRET,
    verifier: str | None = None,
) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "client_id": client_id}
    if redirect_uri:
        form["redirect_uri"] = redirect_uri
    if client_secret is not None:
        form["client_secret"] = client_secret
    if verifier is not None:
        form["code_verifier"] = verifier
    return token(emu, **form)


@contextlib.contextmanager
def emulators(**defaults: Any) -> Iterator[Callable[..., Emulator]]:
    """Start emulators with custom arguments (``defaults`` for the keywords not given);
    all are stopped on leaving."""
    running: list[Emulator] = []

    def make(*args: Any, **kwargs: Any) -> Emulator:
        emulator = Emulator(*args, **{**defaults, **kwargs}).start()
        running.append(emulator)
        return emulator

    try:
        yield make
    finally:
        for emulator in running:
            emulator.stop()


def emulator_config(
    *,
    client_credentials: bool = False,
    redirect_port: int | None = None,
    jwt_public_pem: bytes | None = None,
    jwt_key_id: str | None = None,
    lockout_threshold: int | None = None,
    access_token_lifespan: int | None = None,
    mfa_code: str | None = None,
    api_scopes: dict[str, str] | None = None,
    demo: dict[str, Any] | None = None,
) -> EmulatorConfig:
    """The built-in demo config, changed for a test. ``mfa_code``: MFA for integrations
    is on and the demo user is enrolled, this their current one-time code. ``demo``:
    fields of the demo client's record, such as ``jwt_shared_key`` or ``jwt_clock_skew``."""
    config = default_config()
    clients = dict(config.clients)
    if access_token_lifespan is not None:
        for name, record in clients.items():
            clients[name] = dataclasses.replace(record, access_token_lifespan=access_token_lifespan)
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
    if demo is not None:
        clients["demo"] = dataclasses.replace(clients["demo"], **demo)
    changes: dict[str, Any] = {
        "clients": clients,
        "client_credentials_enabled": client_credentials,
    }
    if lockout_threshold is not None:
        changes["lockout_threshold"] = lockout_threshold
    if mfa_code is not None:
        users = dict(config.users)
        users[USER] = dataclasses.replace(users[USER], mfa_code=mfa_code)
        changes["users"] = users
        changes["mfa_for_integrations"] = True
    if api_scopes is not None:
        changes["api_scopes"] = api_scopes
    return dataclasses.replace(config, **changes)


def password_connection(instance: str, *, secret: str, password: str, extra: str = "") -> str:
    """A `*.snowauth.toml` text: the password-grant connection "dev" of the demo user at
    ``instance``, with ``secret`` and ``password`` as written (references or values),
    then ``extra`` (more keys, or more tables after a blank line)."""
    return f"""[connections.dev]
instance = "{instance}"
grant_type = "password"
client_id = "{DEMO_ID}"
client_secret = {json.dumps(secret)}
username = "{USER}"
password = {json.dumps(password)}
{extra}"""


def authcode_connection(instance: str, redirect_uri: str = REDIRECT) -> str:
    """A `*.snowauth.toml` text: the authorization-code connection "browser" of the demo's
    public client (PKCE, no secret) at ``instance``."""
    return f"""[connections.browser]
instance = "{instance}"
grant_type = "authorization_code"
client_id = "{PUBLIC_ID}"
redirect_uri = "{redirect_uri}"
"""


# --- the ServiceNow SDK's public client and its /sdk-oauth.do page ------------------------

_SDK_CODE = re.compile(r'<code id="oauth-code">([^<]*)</code>')


def sdk_authorize_params(challenge: str, state: str = "sdk-state") -> dict[str, str]:
    """What the SDK CLI sends to /oauth_auth.do (CodeGrant.ts: scope "", PKCE S256,
    the relative redirect)."""
    return {
        "response_type": "code",
        "client_id": SDK_ID,
        "redirect_uri": SDK_REDIRECT,
        "scope": "",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def sdk_page_code(page: httpx.Response) -> str:
    """The code the /sdk-oauth.do page shows (AssertionError when it shows none)."""
    assert page.status_code == 200
    assert page.url.path == SDK_REDIRECT
    found = _SDK_CODE.search(page.text)
    assert found is not None, "no code on the page"
    return html.unescape(found.group(1))


def sdk_sign_in(emu: Emulator, client: httpx.Client = HTTP) -> tuple[str, str]:
    """The browser half of the SDK sign-in: authorize (auto-approved), follow the
    redirect to the instance's /sdk-oauth.do page, read the code. Returns (code,
    verifier)."""
    verifier, challenge = pkce_pair()
    page = client.get(f"{emu.url}/oauth_auth.do", params=sdk_authorize_params(challenge), follow_redirects=True)
    return sdk_page_code(page), verifier


def sdk_exchange(emu: Emulator, code: str, verifier: str, client: httpx.Client = HTTP) -> httpx.Response:
    """The SDK's token request: no secret, the relative redirect, the verifier."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": SDK_ID,
        "redirect_uri": SDK_REDIRECT,
        "code_verifier": verifier,
    }
    return client.post(f"{emu.url}/oauth_token.do", data=form)


def write_tls_cert(ca: trustme.CA, folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost issued by ``ca``: (cert file, key file)."""
    issued = ca.issue_cert("127.0.0.1", "localhost")
    cert_file = folder / "cert.pem"
    key_file = folder / "key.pem"
    cert_file.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(key_file))
    return cert_file, key_file


# --- the Table API ------------------------------------------------------------------------

ADMIN_AUTH = (ADMIN, ADMIN_PASSWORD)


def table_api(
    emu: Emulator,
    method: str,
    table: str,
    sys_id: str | None = None,
    *,
    auth: tuple[str, str] | None = ADMIN_AUTH,
    bearer: str | None = None,
    body: Any = None,
    **params: str,
) -> httpx.Response:
    """A Table API request: HTTP Basic as ``auth`` (the demo admin unless told), or a
    Bearer token; ``body`` is sent as JSON; ``params`` are the sysparm_* parameters."""
    url = f"{emu.url}{ir.TABLE_API}/{table}" + (f"/{sys_id}" if sys_id else "")
    headers = {"Accept": "application/json"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
        auth = None
    return HTTP.request(
        method,
        url,
        params=params,
        headers=headers,
        auth=auth,
        json=body if body is not None else None,
    )


def table_rows(emu: Emulator, table: str, **params: str) -> list[dict[str, Any]]:
    """The rows of a list GET as the demo admin (asserting a 200)."""
    response = table_api(emu, "GET", table, **params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["result"]
    return rows


def syslog_messages(emu: Emulator) -> list[str]:
    """The system log's messages through the Table API, the newest first."""
    rows = table_rows(emu, ir.SYSLOG, sysparm_query=f"ORDERBYDESC{ir.SYSLOG_CREATED}")
    return [row[ir.SYSLOG_MESSAGE] for row in rows]

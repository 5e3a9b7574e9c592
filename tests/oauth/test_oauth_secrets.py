"""No secret ever reaches a log line (ours, httpx's or httpcore's, at DEBUG), an error
message or a progress message, across success and failure flows."""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest

import snowauth.oauth.authcode as authcode_module
from snowauth.emulator import Emulator
from snowauth.oauth.authcode import Pkce
from snowauth.oauth.client import OAuthClient
from snowauth.oauth.errors import OAuthError
from snowauth.oauth.jwt import build_assertion as real_build_assertion
from snowauth.tokens import TokenSet
from tests.kit.emulator import DEMO_ID, DEMO_SECRET, USER_PASSWORD, emulator_config
from tests.kit.http import RawServer, free_port, http_response, replying
from tests.kit.oauth import (
    RecordingSleep,
    UrllibBrowser,
    authcode_conn,
    client_credentials_conn,
    jwt_conn,
    password_conn,
    refresh_conn,
    rsa_key,
)

WRONG_PASSWORD = "Wr0ng-Passw0rd!"


async def test_no_secret_in_logs_errors_or_progress(
    make_emu: Callable[..., Emulator],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "snowauth", "asyncio"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    secrets: list[str] = [DEMO_SECRET, USER_PASSWORD, WRONG_PASSWORD]
    shown: list[str] = []  # error messages, progress messages, reprs

    # record the values only the exchange itself sees
    real_new_pkce = authcode_module.new_pkce
    real_interpret = authcode_module.interpret

    def new_pkce() -> Pkce:
        pair = real_new_pkce()
        secrets.append(pair.verifier)
        return pair

    def interpret(params: dict[str, str], expected_state: str, redirect_uri: str) -> str:
        code = real_interpret(params, expected_state, redirect_uri)
        secrets.append(code)
        return code

    def build_assertion(*args: Any, **kwargs: Any) -> str:
        assertion: str = real_build_assertion(*args, **kwargs)
        secrets.append(assertion)
        return assertion

    monkeypatch.setattr(authcode_module, "new_pkce", new_pkce)
    monkeypatch.setattr(authcode_module, "interpret", interpret)
    monkeypatch.setattr("snowauth.oauth.client.build_assertion", build_assertion)

    private_pem, public_pem = rsa_key()
    secrets.append(private_pem.decode())
    secrets.extend(line for line in private_pem.decode().splitlines() if "-----" not in line)
    secrets.append(base64.b64encode(f"{DEMO_ID}:{DEMO_SECRET}".encode()).decode())

    def keep(tokens: TokenSet) -> TokenSet:
        secrets.append(tokens.access_token)
        if tokens.refresh_token:
            secrets.append(tokens.refresh_token)
        shown.append(repr(tokens))
        return tokens

    async def failing(call: Any) -> OAuthError:
        with pytest.raises(OAuthError) as caught:
            await call
        shown.append(caught.value.message)
        shown.append(repr(caught.value))
        return caught.value

    port = free_port()
    emu = make_emu(emulator_config(client_credentials=True, redirect_port=port, jwt_public_pem=public_pem))
    sleep = RecordingSleep()
    async with OAuthClient(sleep=sleep, authorization_timeout=10) as oauth:
        progress = shown.append
        # --- success flows ---
        body = password_conn(emu.url)
        basic = password_conn(emu.url, client_auth="basic")
        first = keep(await oauth.fetch(body, on_progress=progress))
        keep(await oauth.fetch(basic, on_progress=progress))
        assert first.refresh_token is not None
        keep(await oauth.refresh(body, first.refresh_token, on_progress=progress))
        keep(await oauth.fetch(refresh_conn(emu.url, first.refresh_token), on_progress=progress))
        keep(await oauth.fetch(client_credentials_conn(emu.url), on_progress=progress))
        keep(await oauth.fetch(jwt_conn(emu.url, private_pem), on_progress=progress))
        code_tokens = keep(
            await oauth.fetch(
                authcode_conn(emu.url, f"http://127.0.0.1:{port}/callback"),
                open_browser=UrllibBrowser(),
                on_progress=progress,
            )
        )
        shown.append(str(await oauth.whoami(body, first.access_token)))
        keep((await oauth.refresh_or_fallback(body, "stale-refresh-token-value"))[0])
        await oauth.revoke(body, [code_tokens.refresh_token or "", code_tokens.access_token])

        # --- failure flows ---
        await failing(oauth.whoami(body, code_tokens.access_token))
        await failing(oauth.fetch(password_conn(emu.url, password=WRONG_PASSWORD)))
        await failing(oauth.refresh(body, first.refresh_token + "x"))
        await failing(oauth.fetch(password_conn(emu.url, client_secret="x" + DEMO_SECRET)))
        emu.set_mode(rate_limited=True, retry_after=1)
        await failing(oauth.fetch(client_credentials_conn(emu.url), on_progress=progress))
        emu.set_mode(rate_limited=False, flaky=True)
        await failing(oauth.fetch(jwt_conn(emu.url, private_pem), on_progress=progress))
        emu.set_mode(flaky=False, hibernating=True)
        await failing(oauth.fetch(basic, on_progress=progress))
        emu.set_mode(hibernating=False)
        await failing(oauth.fetch(jwt_conn(emu.url, b"-----BEGIN PRIVATE KEY-----\nabc\n")))

        # an instance echoing the request, a redirect, and the revoke GET fallback
        def echo(sock: socket.socket, request: bytes) -> None:
            sock.sendall(http_response(400, b'{"error":"invalid_request","error_description":"'
                                       + request.replace(b'"', b"'").replace(b"\r\n", b" ")
                                       + b'"}'))  # fmt: skip

        with RawServer(echo) as raw:
            await failing(oauth.fetch(password_conn(raw.url, client_auth="basic")))
            await failing(oauth.fetch(refresh_conn(raw.url, first.refresh_token)))
        location = f"https://sso.example.com/login?token={first.access_token}"
        with replying(http_response(302, b"", headers={"Location": location})) as raw:
            await failing(oauth.fetch(password_conn(raw.url)))

        def revoke_405(sock: socket.socket, request: bytes) -> None:
            status = 405 if request.startswith(b"POST") else 200
            sock.sendall(http_response(status, b""))

        with RawServer(revoke_405) as raw:
            await oauth.revoke(body, [])
            await oauth.revoke(password_conn(raw.url), [first.refresh_token, first.access_token])

    assert any(r.name.startswith("httpcore") for r in caplog.records)
    assert any(r.name == "httpx" for r in caplog.records)
    assert any(r.name.startswith("snowauth.oauth") for r in caplog.records)
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    logged = [formatter.format(record) for record in caplog.records]
    everything = "\n".join(logged + shown)
    assert len(secrets) > 15
    for secret in secrets:
        assert secret and len(secret) >= 8
        assert secret not in everything, f"a secret ({len(secret)} characters) leaked"
    # and the flows really ran
    assert "/oauth_revoke_token.do" in everything
    assert "sso.example.com/login" in everything
    assert "return_value=(b'HTTP/1.1', 302, b'X', [headers not logged])" in everything

"""The authorization code flow: PKCE, state, the loopback listener, the exchange."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import socket
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from snowauth.emulator import Emulator
from snowauth.oauth.authcode import (
    RedirectListener,
    authorize_url,
    loopback_address,
    new_pkce,
    new_state,
)
from snowauth.oauth.client import OAuthClient
from snowauth.oauth.errors import OAuthError
from tests.kit.emulator import PUBLIC_ID, USER, USER_PASSWORD, emulator_config
from tests.kit.http import free_port
from tests.kit.oauth import HttpxBrowser, authcode_conn


def _port_is_free(host: str, port: int) -> bool:
    """Whether a listener could bind the port now (nothing listens on it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def test_pkce_pair() -> None:
    pair = new_pkce()
    assert 43 <= len(pair.verifier) <= 128
    assert set(pair.verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    digest = hashlib.sha256(pair.verifier.encode()).digest()
    assert pair.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert pair.verifier not in repr(pair)
    assert new_pkce().verifier != pair.verifier
    assert new_state() != new_state()


def test_authorize_url_has_every_parameter() -> None:
    conn = authcode_conn("https://dev1.service-now.com", "http://127.0.0.1:53682/callback")
    url = authorize_url(conn, state="st", challenge="ch")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == ("https://dev1.service-now.com/oauth_auth.do")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "response_type": "code",
        "client_id": conn.client_id,
        "redirect_uri": "http://127.0.0.1:53682/callback",
        "scope": "useraccount",
        "state": "st",
        "code_challenge": "ch",
        "code_challenge_method": "S256",
    }


@pytest.mark.parametrize(
    ("uri", "host", "port", "path"),
    [
        ("http://127.0.0.1:53682/callback", "127.0.0.1", 53682, "/callback"),
        ("http://localhost:8080/cb", "127.0.0.1", 8080, "/cb"),
        ("http://[::1]:9000/", "::1", 9000, "/"),
        ("http://LOCALHOST:9000", "127.0.0.1", 9000, "/"),
    ],
)
def test_loopback_address(uri: str, host: str, port: int, path: str) -> None:
    address = loopback_address(uri)
    assert (address.host, address.port, address.path) == (host, port, path)


@pytest.mark.parametrize(
    "uri",
    [
        "https://127.0.0.1:53682/callback",
        "http://127.0.0.1/callback",
        "http://example.com:53682/callback",
        "http://0.0.0.0:53682/callback",
        "not a url",
    ],
)
def test_loopback_address_rejects(uri: str) -> None:
    with pytest.raises(OAuthError) as caught:
        loopback_address(uri)
    assert caught.value.key == "redirect_uri"


@pytest.mark.parametrize("client_auth", ["body", "basic"])
async def test_confidential_client_with_pkce(
    make_emu: Callable[..., Emulator], client: OAuthClient, client_auth: str
) -> None:
    port = free_port()
    emu = make_emu(emulator_config(redirect_port=port))
    redirect = f"http://127.0.0.1:{port}/callback"
    browser = HttpxBrowser()
    progress: list[str] = []
    tokens = await client.fetch(
        authcode_conn(emu.url, redirect, client_auth=client_auth),
        open_browser=browser,
        on_progress=progress.append,
    )
    assert tokens.access_token and tokens.refresh_token
    assert browser.final_status == 200
    assert "You can close this window" in browser.final_text
    query = parse_qs(urlsplit(browser.opened[0]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 32
    assert progress[0] == "Opening the browser to sign in at 127.0.0.1…"
    assert progress[-1] == "Exchanging the sign-in code at 127.0.0.1…"
    assert _port_is_free("127.0.0.1", port)
    who = await client.whoami(authcode_conn(emu.url, redirect), tokens.access_token)
    assert who["user_name"] == "integration.user"


async def test_public_client_sends_no_secret(make_emu: Callable[..., Emulator], client: OAuthClient) -> None:
    port = free_port()
    emu = make_emu(emulator_config(redirect_port=port))
    conn = authcode_conn(emu.url, f"http://127.0.0.1:{port}/callback", client_id=PUBLIC_ID, client_secret=None)
    tokens = await client.fetch(conn, open_browser=HttpxBrowser())
    assert tokens.access_token and tokens.refresh_token
    # a public client refreshes without a secret too
    refreshed = await client.refresh(conn, tokens.refresh_token)
    assert refreshed.access_token


async def test_localhost_redirect_binds_127_0_0_1(make_emu: Callable[..., Emulator], client: OAuthClient) -> None:
    port = free_port()
    emu = make_emu(emulator_config(redirect_port=port))
    tokens = await client.fetch(
        authcode_conn(emu.url, f"http://localhost:{port}/callback"), open_browser=HttpxBrowser()
    )
    assert tokens.access_token


async def test_ipv6_redirect(make_emu: Callable[..., Emulator], client: OAuthClient) -> None:
    if not socket.has_ipv6 or not _port_is_free("::1", 0):
        pytest.skip("no IPv6 loopback here")
    port = free_port("::1")
    emu = make_emu(emulator_config(redirect_port=port))
    tokens = await client.fetch(authcode_conn(emu.url, f"http://[::1]:{port}/callback"), open_browser=HttpxBrowser())
    assert tokens.access_token


async def test_listener_binds_exactly_the_redirect_host() -> None:
    port = free_port()
    async with RedirectListener(f"http://127.0.0.1:{port}/callback", "s"):
        assert not _port_is_free("127.0.0.1", port)
        # nothing listens on other addresses of the machine
        with socket.socket() as probe:
            probe.settimeout(1)
            assert probe.connect_ex(("127.0.0.2", port)) != 0
    assert _port_is_free("127.0.0.1", port)


async def test_listener_answers_other_paths_with_404_and_keeps_waiting() -> None:
    port = free_port()
    uri = f"http://127.0.0.1:{port}/callback"
    async with RedirectListener(uri, "good") as listener, httpx.AsyncClient() as http:
        favicon = await http.get(f"http://127.0.0.1:{port}/favicon.ico")
        assert favicon.status_code == 404
        post = await http.post(uri)
        assert post.status_code == 405
        page = await http.get(uri, params={"code": "c", "state": "good"})
        assert page.status_code == 200
        assert page.headers["referrer-policy"] == "no-referrer"
        assert await listener.wait(1) == {"code": "c", "state": "good"}
        second = await http.get(uri, params={"code": "c2", "state": "good"})
        assert "already" in second.text


async def test_state_mismatch_is_ignored() -> None:
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/callback"
    answers: list[int] = []

    async def forged(url: str) -> None:
        async with httpx.AsyncClient() as http:
            page = await http.get(redirect, params={"code": "forged-code", "state": "not-the-state"})
            answers.append(page.status_code)

    conn = authcode_conn("http://127.0.0.1:9", redirect)
    async with OAuthClient(authorization_timeout=1.0) as client:
        with pytest.raises(OAuthError) as caught:
            await client.fetch(conn, open_browser=forged)
    assert answers == [400]  # refused, and the listener kept waiting for the real redirect
    assert caught.value.code == "authorization-timeout" and "1 request without" in caught.value.message
    assert "forged-code" not in caught.value.message
    assert _port_is_free("127.0.0.1", port)


async def test_user_denies(client: OAuthClient) -> None:
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/callback"
    pages: list[str] = []

    async def deny(url: str) -> None:
        state = parse_qs(urlsplit(url).query)["state"][0]
        async with httpx.AsyncClient() as http:
            page = await http.get(redirect, params={"error": "access_denied", "state": state})
            pages.append(page.text)

    with pytest.raises(OAuthError) as caught:
        await client.fetch(authcode_conn("http://127.0.0.1:9", redirect), open_browser=deny)
    assert caught.value.code == "authorization-denied"
    assert "Deny" in caught.value.message
    assert "Sign-in denied" in pages[0]
    assert _port_is_free("127.0.0.1", port)


async def test_deny_through_the_emulator_login_form(make_emu: Callable[..., Emulator], client: OAuthClient) -> None:
    port = free_port()
    emu = make_emu(emulator_config(redirect_port=port), auto_approve_user=None)

    async def deny(url: str) -> None:
        async with httpx.AsyncClient(follow_redirects=True) as http:
            form_page = await http.get(url)
            assert form_page.status_code == 200
            params = dict(parse_qs(urlsplit(url).query))
            data = {k: v[0] for k, v in params.items()}
            data.update(user_name=USER, user_password=USER_PASSWORD, action="deny")
            await http.post(f"{emu.url}/oauth_auth.do", data=data)

    with pytest.raises(OAuthError) as caught:
        await client.fetch(authcode_conn(emu.url, f"http://127.0.0.1:{port}/callback"), open_browser=deny)
    assert caught.value.code == "authorization-denied"


async def test_authorization_timeout(sleep: object) -> None:
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/callback"

    async def never(url: str) -> None:
        return None

    async with OAuthClient(authorization_timeout=0.3) as oauth:
        with pytest.raises(OAuthError) as caught:
            await oauth.fetch(authcode_conn("http://127.0.0.1:9", redirect), open_browser=never)
    assert caught.value.code == "authorization-timeout"
    assert "0.3 s" in caught.value.message
    assert redirect in caught.value.message
    assert _port_is_free("127.0.0.1", port)


async def test_listener_closes_when_open_browser_fails(client: OAuthClient) -> None:
    port = free_port()

    async def broken(url: str) -> None:
        raise RuntimeError("no browser")

    with pytest.raises(RuntimeError):
        await client.fetch(
            authcode_conn("http://127.0.0.1:9", f"http://127.0.0.1:{port}/callback"),
            open_browser=broken,
        )
    assert _port_is_free("127.0.0.1", port)


async def test_listener_closes_when_cancelled(client: OAuthClient) -> None:
    port = free_port()
    opened = asyncio.Event()

    async def open_only(url: str) -> None:
        opened.set()

    task = asyncio.create_task(
        client.fetch(
            authcode_conn("http://127.0.0.1:9", f"http://127.0.0.1:{port}/callback"),
            open_browser=open_only,
        )
    )
    await opened.wait()
    assert not _port_is_free("127.0.0.1", port)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _port_is_free("127.0.0.1", port)


async def test_port_in_use(client: OAuthClient) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(OAuthError) as caught:
            await client.fetch(
                authcode_conn("http://127.0.0.1:9", f"http://127.0.0.1:{port}/callback"),
                open_browser=HttpxBrowser(),
            )
    assert caught.value.code == "listener-failed"
    assert caught.value.key == "redirect_uri"


async def test_needs_a_browser(client: OAuthClient) -> None:
    with pytest.raises(OAuthError) as caught:
        await client.fetch(authcode_conn("http://127.0.0.1:9", "http://127.0.0.1:1/callback"))
    assert caught.value.code == "needs-browser"
    assert "browser" in caught.value.message


async def test_used_code_is_access_denied(make_emu: Callable[..., Emulator], client: OAuthClient) -> None:
    port = free_port()
    emu = make_emu(emulator_config(redirect_port=port))
    conn = authcode_conn(emu.url, f"http://127.0.0.1:{port}/callback")
    with pytest.raises(OAuthError) as caught:
        await client.exchange_code(conn, "no-such-code", code_verifier=new_pkce().verifier)
    err = caught.value
    assert err.code == "access-denied"
    assert err.key == "redirect_uri"
    assert "expired or was already used" in err.message
    assert f"http://127.0.0.1:{port}/callback" in err.message
    assert "PKCE verifier" in err.message


async def test_unregistered_redirect_uri_never_reaches_the_listener(
    make_emu: Callable[..., Emulator], client: OAuthClient
) -> None:
    # strict: by default an instance sends the browser to the first registered URL
    # instead (test_oauth_fidelity)
    emu = make_emu(dataclasses.replace(emulator_config(redirect_port=free_port()), redirect_fallback=False))
    browser = HttpxBrowser()
    async with OAuthClient(authorization_timeout=0.5) as oauth:
        with pytest.raises(OAuthError) as caught:
            await oauth.fetch(
                authcode_conn(emu.url, f"http://127.0.0.1:{free_port()}/callback"),
                open_browser=browser,
            )
    assert caught.value.code == "authorization-timeout"
    assert browser.final_status == 400

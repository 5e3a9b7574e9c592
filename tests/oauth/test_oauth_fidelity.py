"""snowauth against behaviours of a real instance the emulator reproduces: session
cookies that would authenticate instead of the token, a current-user query whose
filter an instance drops, the redirect URL an instance falls back to, the messages of
a refused grant, an inbound REST rate limit and a hibernating instance."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from snowauth import instance_records as ir
from snowauth.emulator import Emulator
from snowauth.emulator.pages import WAKE_URL
from snowauth.emulator.rest import RATE_LIMIT_RULE
from snowauth.oauth.authcode import new_pkce
from snowauth.oauth.client import OAuthClient
from snowauth.oauth.errors import OAuthError
from snowauth.oauth.pages import is_hibernation_page, wake_link
from tests.kit.clock import FakeClock
from tests.kit.emulator import REDIRECT, emulator_config
from tests.kit.http import free_port
from tests.kit.oauth import authcode_conn, client_credentials_conn, password_conn, refresh_conn


async def test_no_cookie_is_kept_so_a_wrong_token_fails_test_connection(emu: Emulator, client: OAuthClient) -> None:
    conn = password_conn(emu.url)
    tokens = await client.fetch(conn)
    assert (await client.whoami(conn, tokens.access_token))["user_name"] == "integration.user"
    # the emulator accepts its session cookie instead of a token: were the cookie kept,
    # these would pass
    with pytest.raises(OAuthError) as wrong:
        await client.whoami(conn, "not-the-token")
    assert wrong.value.code == "not-authenticated" and wrong.value.status == 401
    await client.revoke(conn, [tokens.access_token])
    with pytest.raises(OAuthError) as revoked:
        await client.whoami(conn, tokens.access_token)
    assert revoked.value.code == "not-authenticated"


async def test_whoami_reads_sys_user_when_current_user_is_absent(emu: Emulator, client: OAuthClient) -> None:
    emu.set_mode(no_current_user=True)
    conn = password_conn(emu.url)
    tokens = await client.fetch(conn)
    who = await client.whoami(conn, tokens.access_token)
    assert who["user_name"] == "integration.user"
    assert ("GET", "/api/now/table/sys_user") in emu.requests


async def test_whoami_names_nobody_when_the_instance_drops_the_filter(emu: Emulator, client: OAuthClient) -> None:
    emu.set_mode(no_current_user=True, drop_user_filter=True)
    conn = password_conn(emu.url)
    tokens = await client.fetch(conn)
    assert await client.whoami(conn, tokens.access_token) == {}


async def test_an_unregistered_redirect_uri_times_out_naming_the_fallback(make_emu: Callable[..., Emulator]) -> None:
    registered = free_port()
    emu = make_emu(emulator_config(redirect_port=registered))
    asked = f"http://127.0.0.1:{free_port()}/callback"
    locations: list[str] = []

    async def browser(url: str) -> None:  # follows no redirect: nothing listens there
        async with httpx.AsyncClient(timeout=10.0) as http:
            answer = await http.get(url)
        locations.append(answer.headers.get("location", ""))

    async with OAuthClient(authorization_timeout=0.5) as oauth:
        with pytest.raises(OAuthError) as caught:
            await oauth.fetch(authcode_conn(emu.url, asked), open_browser=browser)
    assert len(locations) == 1 and locations[0].startswith(f"http://127.0.0.1:{registered}/callback?")
    error = caught.value
    assert error.code == "authorization-timeout" and error.key == "redirect_uri"
    assert asked in error.message
    assert "first registered redirect URL when it does not match" in error.message


async def test_a_disabled_password_grant_is_named_with_the_system_log(emu: Emulator, client: OAuthClient) -> None:
    emu.set_property(ir.PROP_PASSWORD_GRANT_DISABLED, "true")
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(emu.url))
    message = caught.value.message
    assert caught.value.code == "access-denied"
    assert f"the system property {ir.PROP_PASSWORD_GRANT_DISABLED} is true" in message
    assert f'search its messages for "{ir.TOKEN_FLOW_EXCEPTION}"' in message
    assert any(ir.TOKEN_FLOW_EXCEPTION in line for line in emu.syslog)


async def test_every_access_denied_names_the_system_log(emu: Emulator, client: OAuthClient) -> None:
    failures = [
        client.fetch(password_conn(emu.url, client_secret="wrong")),
        client.fetch(refresh_conn(emu.url, "not-a-refresh-token")),
        client.fetch(client_credentials_conn(emu.url, client_secret="wrong")),
        client.exchange_code(authcode_conn(emu.url, REDIRECT), "no-such-code", code_verifier=new_pkce().verifier),
    ]
    for failure in failures:
        with pytest.raises(OAuthError) as caught:
            await failure
        assert caught.value.code == "access-denied"
        assert f'"{ir.TOKEN_FLOW_EXCEPTION}"' in caught.value.message


async def test_a_rest_rate_limit_shows_when_it_resets(make_emu: Callable[..., Emulator], client: OAuthClient) -> None:
    clock = FakeClock(1_800_000_000.0)  # 2027-01-15 08:00:00 UTC
    emu = make_emu(clock=clock)
    conn = password_conn(emu.url)
    tokens = await client.fetch(conn)
    emu.set_mode(rest_rate_limited=True, retry_after=600)
    with pytest.raises(OAuthError) as caught:
        await client.whoami(conn, tokens.access_token)
    error = caught.value
    assert error.code == "rate-limited" and error.status == 429 and error.retryable
    assert "resets at 2027-01-15 08:10:00 UTC" in error.message
    assert "100 requests per hour" in error.message and RATE_LIMIT_RULE in error.message
    assert emu.requests.count(("GET", "/api/now/ui/user/current_user")) == 1  # 600 s: longer than snowauth waits
    emu.set_mode(rest_rate_limited=False)
    assert (await client.whoami(conn, tokens.access_token))["user_name"] == "integration.user"


async def test_hibernation_offers_the_pages_wake_link(emu: Emulator, client: OAuthClient) -> None:
    emu.set_mode(hibernating=True)
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(emu.url))
    assert caught.value.code == "hibernating"
    assert f"open {WAKE_URL} (the hibernation page's wake link)" in caught.value.message


def test_the_hibernation_page_is_known_by_its_heading_and_class() -> None:
    assert is_hibernation_page(b"<html><body><h1 class='x'>\n Your instance is hibernating</h1>")
    assert is_hibernation_page(b'<html><div class="page instance-hibernating-page">zzz</div>')
    assert not is_hibernation_page(b"<html><p>Your instance is hibernating</p>")
    page = (
        b'<a href="https://evil.example/?wu=true">x</a><a href="https://developer.servicenow.com/a">a</a>'
        b'<a href="https://developer.servicenow.com/dev.do?x=1&amp;wu=true">wake</a>'
    )
    assert wake_link(page) == "https://developer.servicenow.com/dev.do?x=1&wu=true"
    assert wake_link(b'<a href="https://evil.example/?wu=true">x</a>') is None


@pytest.mark.parametrize("answer", ["invalid_request", "access_denied"])
async def test_a_code_from_an_earlier_sign_in_fails_pkce(make_emu: Callable[..., Emulator], answer: str) -> None:
    port = free_port()
    emu = make_emu(dataclasses.replace(emulator_config(redirect_port=port), pkce_failure=answer))
    redirect = f"http://127.0.0.1:{port}/callback"

    async def earlier_code_arrives(url: str) -> None:
        # the instance remembers consent: an earlier sign-in (another challenge) got a
        # code at once, and that code reaches this sign-in's listener with its state
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        earlier = {**query, "code_challenge": new_pkce().challenge}
        async with httpx.AsyncClient(timeout=10.0) as http:
            approved = await http.get(f"{emu.url}/oauth_auth.do", params=earlier)
            code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
            await http.get(redirect, params={"code": code, "state": query["state"]})

    async with OAuthClient(authorization_timeout=10.0) as oauth:
        with pytest.raises(OAuthError) as caught:
            await oauth.fetch(authcode_conn(emu.url, redirect), open_browser=earlier_code_arrives)
    error = caught.value
    if answer == "invalid_request":
        assert error.code == "pkce-failed" and error.key == "pkce" and error.status == 401
        assert "can't verify code challenge" in error.message
        assert "Close older sign-in tabs and start the sign-in again" in error.message
    else:  # folded: the authorization code message names the verifier among the causes
        assert error.code == "access-denied" and "the PKCE verifier does not match" in error.message
    assert f'"{ir.TOKEN_FLOW_EXCEPTION}"' in error.message
    assert "authorization code: PKCE verifier does not match the challenge" in emu.system_log

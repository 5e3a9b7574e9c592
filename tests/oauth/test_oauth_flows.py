"""Every grant, refresh, fallback, revoke and "who am I" against the emulator."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from snowauth.emulator import Emulator
from snowauth.oauth.client import OAuthClient
from snowauth.oauth.errors import OAuthError
from tests.kit.emulator import DEMO_ID, NOAPP_ID, NOAPP_SECRET, emulator_config
from tests.kit.http import free_port
from tests.kit.oauth import RecordingSleep, authcode_conn, client_credentials_conn, password_conn, refresh_conn


@pytest.mark.parametrize("client_auth", ["body", "basic"])
async def test_password_grant(emu: Emulator, client: OAuthClient, client_auth: str) -> None:
    progress: list[str] = []
    before = datetime.now(UTC)
    tokens = await client.fetch(password_conn(emu.url, client_auth=client_auth), on_progress=progress.append)
    assert tokens.access_token and tokens.refresh_token
    assert tokens.token_type == "Bearer"
    assert tokens.scope == "useraccount"
    assert tokens.expires_at is not None
    assert before + timedelta(seconds=1790) <= tokens.expires_at <= before + timedelta(seconds=1810)
    assert tokens.refresh_expires_at is None  # ServiceNow does not say
    assert progress == ["Requesting a token from 127.0.0.1…"]
    assert emu.token_requests == 1


async def test_expires_at_uses_the_injected_clock(emu: Emulator) -> None:
    fixed = datetime(2030, 1, 1, tzinfo=UTC)
    async with OAuthClient(now=lambda: fixed) as oauth:
        tokens = await oauth.fetch(password_conn(emu.url))
    assert tokens.expires_at == fixed + timedelta(seconds=1799)


async def test_secret_with_punctuation_is_form_encoded(make_emu: Callable[..., Emulator], client: OAuthClient) -> None:
    config = emulator_config()
    odd = "p&a=s s+w%o:r/d?#é"
    clients = dict(config.clients)
    clients["demo"] = dataclasses.replace(clients["demo"], client_secret=odd)
    emu = make_emu(dataclasses.replace(config, clients=clients))
    for auth in ("body", "basic"):
        conn = password_conn(emu.url, client_secret=odd, client_auth=auth)
        assert (await client.fetch(conn)).access_token


@pytest.mark.parametrize("client_auth", ["body", "basic"])
async def test_refresh_grant_keeps_the_refresh_token(emu: Emulator, client: OAuthClient, client_auth: str) -> None:
    first = await client.fetch(password_conn(emu.url))
    assert first.refresh_token is not None
    conn = refresh_conn(emu.url, first.refresh_token, client_auth=client_auth)
    progress: list[str] = []
    refreshed = await client.fetch(conn, on_progress=progress.append)
    assert refreshed.access_token
    assert refreshed.refresh_token == first.refresh_token
    assert progress == ["Refreshing the token at 127.0.0.1…"]
    again = await client.refresh(password_conn(emu.url), first.refresh_token)
    assert again.refresh_token == first.refresh_token


@pytest.mark.parametrize("client_auth", ["body", "basic"])
async def test_client_credentials_grant(
    make_emu: Callable[..., Emulator], client: OAuthClient, client_auth: str
) -> None:
    emu = make_emu(emulator_config(client_credentials=True))
    tokens = await client.fetch(client_credentials_conn(emu.url, client_auth=client_auth))
    assert tokens.access_token
    assert tokens.refresh_token is None
    who = await client.whoami(client_credentials_conn(emu.url), tokens.access_token)
    assert who["user_name"] == "svc.integration"


async def test_whoami(emu: Emulator, client: OAuthClient) -> None:
    conn = password_conn(emu.url)
    tokens = await client.fetch(conn)
    who = await client.whoami(conn, tokens.access_token)
    assert who["user_name"] == "integration.user"
    assert who["user_sys_id"] == "5137153cc611227c000bbd1bd8cd2005"
    assert set(who) <= {
        "user_name",
        "user_sys_id",
        "user_display_name",
        "first_name",
        "last_name",
        "email",
    }


async def test_whoami_without_the_api_scope_is_missing_scope(
    make_emu: Callable[..., Emulator], client: OAuthClient
) -> None:
    emu = make_emu(emulator_config(api_scopes={"/api/now/ui": "user_info"}))
    conn = password_conn(emu.url, scope="some_other_scope")
    tokens = await client.fetch(conn)
    with pytest.raises(OAuthError) as caught:
        await client.whoami(conn, tokens.access_token)
    assert caught.value.code == "missing-scope"
    assert caught.value.key == "scope"
    assert caught.value.status == 403
    assert "scope" in caught.value.message and "Application Registry" in caught.value.message
    assert "Auth Scopes" in caught.value.message and "does not help" in caught.value.message


async def test_revoke_makes_whoami_fail(emu: Emulator, client: OAuthClient) -> None:
    conn = password_conn(emu.url)
    tokens = await client.fetch(conn)
    assert tokens.refresh_token is not None
    await client.revoke(conn, [tokens.refresh_token, tokens.access_token])
    assert ("POST", "/oauth_revoke_token.do") in emu.requests
    with pytest.raises(OAuthError) as caught:
        await client.whoami(conn, tokens.access_token)
    assert caught.value.code == "not-authenticated"
    assert caught.value.status == 401
    with pytest.raises(OAuthError) as refreshed:
        await client.refresh(conn, tokens.refresh_token)
    assert refreshed.value.code == "access-denied"
    assert refreshed.value.key == "refresh_token"


async def test_whoami_with_a_bad_token(emu: Emulator, client: OAuthClient) -> None:
    with pytest.raises(OAuthError) as caught:
        await client.whoami(password_conn(emu.url), "not-a-token")
    assert caught.value.code == "not-authenticated"
    assert "expired or was revoked" in str(caught.value)


# --- refresh_or_fallback ---------------------------------------------------------------


async def test_refresh_or_fallback_refreshes_when_it_can(emu: Emulator, client: OAuthClient) -> None:
    conn = password_conn(emu.url)
    first = await client.fetch(conn)
    tokens, fell_back = await client.refresh_or_fallback(conn, first.refresh_token)
    assert not fell_back
    assert tokens.refresh_token == first.refresh_token


async def test_refresh_or_fallback_runs_the_password_grant(emu: Emulator, client: OAuthClient) -> None:
    conn = password_conn(emu.url)
    progress: list[str] = []
    tokens, fell_back = await client.refresh_or_fallback(conn, "rejected-refresh-token", on_progress=progress.append)
    assert fell_back
    assert tokens.access_token and tokens.refresh_token
    assert "The refresh token was rejected; requesting a new token…" in progress
    tokens, fell_back = await client.refresh_or_fallback(conn, None)
    assert fell_back and tokens.access_token


async def test_refresh_or_fallback_runs_client_credentials(
    make_emu: Callable[..., Emulator], client: OAuthClient
) -> None:
    emu = make_emu(emulator_config(client_credentials=True))
    tokens, fell_back = await client.refresh_or_fallback(client_credentials_conn(emu.url), "rejected-refresh-token")
    assert fell_back and tokens.access_token


async def test_refresh_or_fallback_never_falls_back_to_the_browser(emu: Emulator, client: OAuthClient) -> None:
    conn = authcode_conn(emu.url, f"http://127.0.0.1:{free_port()}/callback")
    with pytest.raises(OAuthError) as caught:
        await client.refresh_or_fallback(conn, "rejected-refresh-token")
    assert caught.value.code == "access-denied"
    assert caught.value.key == "refresh_token"
    with pytest.raises(OAuthError) as absent:
        await client.refresh_or_fallback(conn, None)
    assert absent.value.code == "no-refresh-token"
    assert emu.requests.count(("GET", "/oauth_auth.do")) == 0


async def test_refresh_or_fallback_without_a_password_does_not_fall_back(emu: Emulator, client: OAuthClient) -> None:
    conn = password_conn(emu.url, password=None)
    with pytest.raises(OAuthError) as caught:
        await client.refresh_or_fallback(conn, "rejected-refresh-token")
    assert caught.value.code == "access-denied"
    assert emu.token_requests == 1


async def test_refresh_or_fallback_does_not_fall_back_on_other_failures(
    emu: Emulator, sleep: RecordingSleep, client: OAuthClient
) -> None:
    emu.set_mode(hibernating=True)
    with pytest.raises(OAuthError) as caught:
        await client.refresh_or_fallback(password_conn(emu.url), "some-refresh-token")
    assert caught.value.code == "hibernating"
    assert emu.token_requests == 1


async def test_refresh_grant_connection_falls_back_to_its_configured_token(emu: Emulator, client: OAuthClient) -> None:
    good = await client.fetch(password_conn(emu.url))
    assert good.refresh_token is not None
    conn = refresh_conn(emu.url, good.refresh_token)
    tokens, fell_back = await client.refresh_or_fallback(conn, "stale-stored-refresh-token")
    assert fell_back and tokens.refresh_token == good.refresh_token
    with pytest.raises(OAuthError) as caught:
        await client.refresh_or_fallback(refresh_conn(emu.url, "bad"), "bad")
    assert caught.value.code == "access-denied"


# --- other clients ---------------------------------------------------------------------


async def test_unauthorized_client_names_the_application_user_field(
    make_emu: Callable[..., Emulator], client: OAuthClient
) -> None:
    emu = make_emu(emulator_config(client_credentials=True))
    conn = client_credentials_conn(emu.url, client_id=NOAPP_ID, client_secret=NOAPP_SECRET)
    with pytest.raises(OAuthError) as caught:
        await client.fetch(conn)
    err = caught.value
    assert err.code == "unauthorized-client"
    assert "integration user is not configured" in err.message
    assert '"OAuth Application User"' in err.message
    assert "System OAuth > Application Registry" in err.message
    assert emu.token_requests == 1


async def test_client_ids_are_sent_as_given(emu: Emulator, client: OAuthClient) -> None:
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(emu.url, client_id=DEMO_ID.upper()))
    assert caught.value.code == "access-denied"

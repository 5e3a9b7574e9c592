"""snowauth against behaviours of a real instance the emulator reproduces: session
cookies that would authenticate instead of the token, a current-user query whose
filter an instance drops."""

from __future__ import annotations

import pytest

from snowauth.emulator import Emulator
from snowauth.oauth.client import OAuthClient
from snowauth.oauth.errors import OAuthError
from tests.kit.oauth import password_conn


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

"""Refresh tokens (no rotation) and the client credentials grant."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import httpx
import pytest

from snowauth.emulator import Emulator, default_config
from tests.kit.clock import FakeClock
from tests.kit.emulator import (
    DEMO_ID,
    DEMO_SECRET,
    NOAPP_ID,
    NOAPP_SECRET,
    assert_denied,
    assert_token_body,
    current_user,
    password_grant,
    refresh_grant,
    token,
)

UNAUTHORIZED_CLIENT = {
    "error": "unauthorized_client",
    "error_description": "The integration user is not configured for the OAuth application",
}


def test_refresh_returns_the_same_refresh_token(emu: Emulator, clock: FakeClock) -> None:
    first = password_grant(emu).json()
    clock.advance(1801)  # the access token has expired
    assert current_user(emu, first["access_token"]).status_code == 401
    refreshed = refresh_grant(emu, first["refresh_token"])
    assert refreshed.status_code == 200
    body = refreshed.json()
    assert_token_body(body, refresh=True)
    assert body["refresh_token"] == first["refresh_token"]
    assert body["access_token"] != first["access_token"]
    assert current_user(emu, body["access_token"]).json()["result"]["user_name"] == ("integration.user")
    again = refresh_grant(emu, first["refresh_token"]).json()
    assert again["refresh_token"] == first["refresh_token"]
    assert again["access_token"] == body["access_token"]  # still within its lifetime


def test_refresh_keeps_the_original_scope(emu: Emulator, clock: FakeClock) -> None:
    first = password_grant(emu, scope="useraccount other").json()
    clock.advance(1801)
    body = refresh_grant(emu, first["refresh_token"]).json()
    assert body["scope"] == "useraccount other"


def test_expired_refresh_token(emu: Emulator, clock: FakeClock) -> None:
    first = password_grant(emu).json()
    clock.advance(8_640_000 - 10)
    assert refresh_grant(emu, first["refresh_token"]).status_code == 200
    clock.advance(11)
    assert_denied(refresh_grant(emu, first["refresh_token"]))


def test_revoked_refresh_token(emu: Emulator) -> None:
    first = password_grant(emu).json()
    emu.state.revoke(first["refresh_token"])
    assert_denied(refresh_grant(emu, first["refresh_token"]))


@pytest.mark.parametrize(
    ("refresh_token", "client_id", "client_secret"),
    [
        ("unknown-refresh-token", DEMO_ID, DEMO_SECRET),
        ("", DEMO_ID, DEMO_SECRET),
        (None, DEMO_ID, "wrong-secret"),
        (None, NOAPP_ID, NOAPP_SECRET),  # another client's refresh token
    ],
)
def test_refresh_failures(emu: Emulator, refresh_token: str | None, client_id: str, client_secret: str) -> None:
    real = password_grant(emu).json()["refresh_token"]
    value = real if refresh_token is None else refresh_token
    assert_denied(refresh_grant(emu, value, client_id=client_id, client_secret=client_secret))


def test_refresh_refused_once_the_user_is_locked(emu: Emulator) -> None:
    first = password_grant(emu).json()
    for _ in range(5):
        assert_denied(password_grant(emu, password="wrong"))
    assert_denied(refresh_grant(emu, first["refresh_token"]))
    assert current_user(emu, first["access_token"]).status_code == 401


def _cc(emu: Emulator, client_id: str = DEMO_ID, secret: str = DEMO_SECRET, **extra: str) -> httpx.Response:
    return token(emu, grant_type="client_credentials", client_id=client_id, client_secret=secret, **extra)


@pytest.fixture
def cc_emu(make_emu: Callable[..., Emulator]) -> Emulator:
    return make_emu(dataclasses.replace(default_config(), client_credentials_enabled=True))


def test_client_credentials_off_by_default(emu: Emulator) -> None:
    assert_denied(_cc(emu))
    assert "glide.oauth.inbound.client.credential.grant_type.enabled" in emu.system_log[-1]
    assert_denied(_cc(emu, NOAPP_ID, NOAPP_SECRET))  # folded too while the property is off


def test_client_credentials_success(cc_emu: Emulator) -> None:
    response = _cc(cc_emu)
    assert response.status_code == 200
    body = response.json()
    assert_token_body(body, refresh=False)
    assert body["expires_in"] == 1799
    who = current_user(cc_emu, body["access_token"]).json()["result"]
    assert who["user_name"] == "svc.integration"
    assert _cc(cc_emu).json()["access_token"] == body["access_token"]
    assert _cc(cc_emu, scope="other").json()["scope"] == "other"


def test_client_credentials_without_application_user(cc_emu: Emulator) -> None:
    response = _cc(cc_emu, NOAPP_ID, NOAPP_SECRET)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED_CLIENT


def test_client_credentials_wrong_secret(cc_emu: Emulator) -> None:
    assert_denied(_cc(cc_emu, DEMO_ID, "wrong"))
    assert_denied(_cc(cc_emu, NOAPP_ID, "wrong"))  # client auth comes first


def test_client_credentials_with_inactive_application_user(
    make_emu: Callable[..., Emulator],
) -> None:
    config = default_config()
    users = dict(config.users)
    users["svc.integration"] = dataclasses.replace(users["svc.integration"], active=False)
    emu = make_emu(dataclasses.replace(config, client_credentials_enabled=True, users=users))
    assert_denied(_cc(emu))


def test_scopes_restricted_by_the_registry(make_emu: Callable[..., Emulator]) -> None:
    config = default_config()
    demo = dataclasses.replace(config.clients["demo"], scopes=("useraccount",))
    emu = make_emu(dataclasses.replace(config, clients={**config.clients, "demo": demo}))
    assert password_grant(emu).status_code == 200
    assert_denied(password_grant(emu, scope="useraccount admin"))

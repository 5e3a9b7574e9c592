"""Behaviours of a real instance the emulator reproduces so snowauth's defences against
them can be tested: session cookies on token answers, the current user's filter, the redirect URL fallback."""

from __future__ import annotations

import httpx

from snowauth.emulator import Emulator
from tests.kit.clock import FakeClock
from tests.kit.emulator import HTTP, REDIRECT, TIMEOUT, USER, authorize, password_grant, redirect_params, refresh_grant


def test_a_token_answer_sets_session_cookies(emu: Emulator) -> None:
    answer = password_grant(emu)
    assert answer.status_code == 200
    cookies = answer.headers.get_list("set-cookie")
    names = sorted(c.split("=", 1)[0] for c in cookies)
    assert names == ["JSESSIONID", "glide_user_route"]
    assert all("HttpOnly" in c and "Path=/" in c for c in cookies)


def test_the_rest_api_accepts_the_session_cookie_instead_of_the_token(emu: Emulator) -> None:
    # a client that keeps cookies (httpx's default) passes with a wrong token
    with httpx.Client(timeout=TIMEOUT) as keeps_cookies:
        granted = keeps_cookies.post(
            f"{emu.url}/oauth_token.do",
            data={
                "grant_type": "password",
                "client_id": "0123456789abcdef0123456789abcdef",
                "client_secret": "demo-client-secret",
                "username": USER,
                "password": "demo-password",
            },
        )
        assert granted.status_code == 200
        wrong = {"Authorization": "Bearer not-the-token"}
        answer = keeps_cookies.get(f"{emu.url}/api/now/ui/user/current_user", headers=wrong)
        assert answer.status_code == 200
        assert answer.json()["result"]["user_name"] == USER
    # without the cookie the same request is refused
    refused = HTTP.get(f"{emu.url}/api/now/ui/user/current_user", headers=wrong)
    assert refused.status_code == 401


def test_an_unknown_session_cookie_is_refused(emu: Emulator) -> None:
    answer = HTTP.get(f"{emu.url}/api/now/ui/user/current_user", headers={"Cookie": "JSESSIONID=forged"})
    assert answer.status_code == 401


def _current_user_rows(emu: Emulator, access: str) -> list[dict[str, str]]:
    answer = HTTP.get(
        f"{emu.url}/api/now/table/sys_user",
        params={"sysparm_query": "sys_id=javascript:gs.getUserID()", "sysparm_fields": "user_name"},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert answer.status_code == 200
    rows: list[dict[str, str]] = answer.json()["result"]
    return rows


def test_the_user_id_script_is_the_caller_unless_the_filter_is_dropped(emu: Emulator) -> None:
    access = password_grant(emu).json()["access_token"]
    assert _current_user_rows(emu, access) == [{"user_name": USER}]
    emu.set_mode(drop_user_filter=True)
    assert emu.modes["drop_user_filter"] is True
    rows = _current_user_rows(emu, access)
    assert len(rows) > 1 and {"user_name": USER} in rows


def test_no_current_user_mode_answers_404(emu: Emulator) -> None:
    access = password_grant(emu).json()["access_token"]
    emu.set_mode(no_current_user=True)
    answer = HTTP.get(f"{emu.url}/api/now/ui/user/current_user", headers={"Authorization": f"Bearer {access}"})
    assert answer.status_code == 404
    control = HTTP.post(f"{emu.url}/__emulator/mode", json={"no_current_user": False, "drop_user_filter": True})
    assert control.status_code == 200 and control.json()["drop_user_filter"] is True
    assert (
        HTTP.get(f"{emu.url}/api/now/ui/user/current_user", headers={"Authorization": f"Bearer {access}"}).status_code
        == 200
    )


def test_an_unregistered_redirect_uri_gets_the_first_registered_one(emu: Emulator) -> None:
    for asked in ("http://127.0.0.1:9999/callback", REDIRECT + "/", ""):
        response = authorize(emu, state="st-1", redirect_uri=asked)
        query = redirect_params(response, REDIRECT)
        assert query["state"] == "st-1" and query["code"]
    assert any("the first one is used" in line for line in emu.system_log)


def test_a_repeated_grant_extends_the_same_tokens(emu: Emulator, clock: FakeClock) -> None:
    first = password_grant(emu).json()
    clock.advance(1000)
    again = password_grant(emu).json()
    assert again["access_token"] == first["access_token"]
    assert again["refresh_token"] == first["refresh_token"]
    # the refresh token now expires a full lifespan after the second grant
    lifespan = emu.state.config.clients["demo"].refresh_token_lifespan
    clock.advance(lifespan - 500)
    assert refresh_grant(emu, first["refresh_token"]).status_code == 200
    # a refresh grant does not extend it
    clock.advance(1000)
    assert refresh_grant(emu, first["refresh_token"]).status_code == 401

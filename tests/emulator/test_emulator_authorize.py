"""The authorization endpoint and the authorization code grant, PKCE included."""

from __future__ import annotations

import dataclasses
import html as html_module
import re
from collections.abc import Callable

import httpx
import pytest

from snowauth.emulator import Emulator, default_config
from tests.kit.clock import FakeClock
from tests.kit.emulator import (
    DEMO_ID,
    DEMO_SECRET,
    HTTP,
    NOAPP_ID,
    NOAPP_SECRET,
    PUBLIC_ID,
    REDIRECT,
    REDIRECT_LOCALHOST,
    USER,
    USER_PASSWORD,
    assert_denied,
    assert_token_body,
    authorize,
    code_exchange,
    current_user,
    password_grant,
    pkce_pair,
    redirect_params,
    refresh_grant,
    token,
)


def _code(emu: Emulator, **params: str) -> str:
    response = authorize(emu, state="st-1", **params)
    query = redirect_params(response, params.get("redirect_uri", REDIRECT))
    assert query["state"] == "st-1"
    return query["code"]


def test_auto_approve_and_exchange(emu: Emulator) -> None:
    response = authorize(emu, state="abc 123/+=", scope="useraccount")
    query = redirect_params(response)
    assert set(query) == {"code", "state"}
    assert query["state"] == "abc 123/+="
    exchanged = code_exchange(emu, query["code"])
    assert exchanged.status_code == 200
    body = exchanged.json()
    assert_token_body(body, refresh=True)
    assert current_user(emu, body["access_token"]).json()["result"]["user_name"] == USER
    assert refresh_grant(emu, body["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"state": ""}, "state parameter is required"),
        ({"state": "s", "client_id": "nope"}, "Invalid client_id"),
        ({"state": "s", "client_id": ""}, "Invalid client_id"),
        ({"state": "s", "redirect_uri": "http://127.0.0.1:9999/callback"}, "Invalid redirect_uri"),
        ({"state": "s", "redirect_uri": REDIRECT + "/"}, "Invalid redirect_uri"),
        ({"state": "s", "redirect_uri": ""}, "Invalid redirect_uri"),
    ],
)
def test_errors_without_redirect(make_emu: Callable[..., Emulator], params: dict[str, str], message: str) -> None:
    # strict: an instance falls back to the first redirect URL instead (test_emulator_fidelity)
    emu = make_emu(dataclasses.replace(default_config(), redirect_fallback=False))
    response = authorize(emu, **params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "x" * 43}, "invalid_request"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge_method": "S256"}, "invalid_request"),
    ],
)
def test_errors_redirected_with_state(emu: Emulator, params: dict[str, str], error: str) -> None:
    query = redirect_params(authorize(emu, state="s-9", **params))
    assert query["error"] == error
    assert query["state"] == "s-9"
    assert "code" not in query


def test_redirect_uri_is_compared_literally(emu: Emulator) -> None:
    code = _code(emu, redirect_uri=REDIRECT_LOCALHOST)
    assert_denied(code_exchange(emu, code, redirect_uri=REDIRECT))
    code = _code(emu, redirect_uri=REDIRECT_LOCALHOST)
    assert code_exchange(emu, code, redirect_uri=REDIRECT_LOCALHOST).status_code == 200
    code = _code(emu)
    assert_denied(code_exchange(emu, code, redirect_uri=REDIRECT_LOCALHOST))


def test_redirect_uri_required_at_token(emu: Emulator) -> None:
    assert_denied(code_exchange(emu, _code(emu), redirect_uri=""))


def test_code_is_single_use(emu: Emulator) -> None:
    code = _code(emu)
    assert code_exchange(emu, code).status_code == 200
    assert_denied(code_exchange(emu, code))
    assert "already used" in emu.system_log[-1]


def test_code_expires_after_sixty_seconds(emu: Emulator, clock: FakeClock) -> None:
    code = _code(emu)
    clock.advance(59)
    assert code_exchange(emu, code).status_code == 200
    code = _code(emu)
    clock.advance(61)
    assert_denied(code_exchange(emu, code))
    assert "expired" in emu.system_log[-1]


@pytest.mark.parametrize(
    ("client_id", "client_secret", "code_value"),
    [
        (DEMO_ID, "wrong", None),
        (DEMO_ID, None, None),
        (NOAPP_ID, NOAPP_SECRET, None),  # a code issued to another client
        (DEMO_ID, DEMO_SECRET, "made-up-code"),
    ],
)
def test_code_exchange_failures(
    emu: Emulator, client_id: str, client_secret: str | None, code_value: str | None
) -> None:
    code = code_value or _code(emu)
    assert_denied(code_exchange(emu, code, client_id=client_id, client_secret=client_secret))


def test_pkce_success_and_mismatch(emu: Emulator) -> None:
    verifier, challenge = pkce_pair()
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}
    assert code_exchange(emu, _code(emu, **pkce), verifier=verifier).status_code == 200
    other_verifier, _ = pkce_pair()
    assert_denied(code_exchange(emu, _code(emu, **pkce), verifier=other_verifier))
    assert "PKCE" in emu.system_log[-1]
    assert_denied(code_exchange(emu, _code(emu, **pkce)))  # no verifier at all
    assert_denied(code_exchange(emu, _code(emu, **pkce), verifier="short"))


def test_a_failed_attempt_uses_the_code(emu: Emulator) -> None:
    verifier, challenge = pkce_pair()
    code = _code(emu, code_challenge=challenge, code_challenge_method="S256")
    assert_denied(code_exchange(emu, code, verifier=pkce_pair()[0]))
    assert_denied(code_exchange(emu, code, verifier=verifier))


def test_public_client_uses_pkce_without_secret(emu: Emulator) -> None:
    verifier, challenge = pkce_pair()
    code = _code(emu, client_id=PUBLIC_ID, code_challenge=challenge, code_challenge_method="S256")
    response = code_exchange(emu, code, client_id=PUBLIC_ID, client_secret=None, verifier=verifier)
    assert response.status_code == 200
    body = response.json()
    assert_token_body(body, refresh=True)
    refreshed = refresh_grant(emu, body["refresh_token"], client_id=PUBLIC_ID, client_secret="")
    assert refreshed.status_code == 200


def test_public_client_rules(emu: Emulator) -> None:
    query = redirect_params(authorize(emu, client_id=PUBLIC_ID, state="p"))
    assert query["error"] == "invalid_request"  # a public client must use PKCE
    verifier, challenge = pkce_pair()
    code = _code(emu, client_id=PUBLIC_ID, code_challenge=challenge, code_challenge_method="S256")
    assert_denied(code_exchange(emu, code, client_id=PUBLIC_ID, client_secret="guess", verifier=verifier))
    assert_denied(password_grant(emu, client_id=PUBLIC_ID, client_secret=""))
    assert_denied(token(emu, grant_type="client_credentials", client_id=PUBLIC_ID))


# --- the login form ---------------------------------------------------------------------


@pytest.fixture
def form_emu(make_emu: Callable[..., Emulator]) -> Emulator:
    return make_emu(auto_approve_user=None)


def _post_form(emu: Emulator, page_params: dict[str, str], **login: str) -> httpx.Response:
    return HTTP.post(f"{emu.url}/oauth_auth.do", data={**page_params, **login})


def _hidden_fields(html: str) -> dict[str, str]:
    fields = re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', html)
    return {html_module.unescape(k): html_module.unescape(v) for k, v in fields}


def test_login_form_is_shown_and_escapes(form_emu: Emulator) -> None:
    evil = '"><script>alert(1)</script>'
    response = authorize(form_emu, state=evil)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert 'name="user_name"' in page and 'name="user_password"' in page
    assert 'value="allow"' in page and 'value="deny"' in page
    hidden = _hidden_fields(page)
    assert hidden["state"] == evil
    assert hidden["client_id"] == DEMO_ID
    assert hidden["redirect_uri"] == REDIRECT


def test_login_form_allow(form_emu: Emulator) -> None:
    hidden = _hidden_fields(authorize(form_emu, state="f1").text)
    wrong = _post_form(form_emu, hidden, user_name=USER, user_password="nope", action="allow")
    assert wrong.status_code == 200
    assert "User name or password invalid" in wrong.text
    assert "location" not in wrong.headers
    right = _post_form(form_emu, hidden, user_name="admin", user_password="admin-password", action="allow")
    query = redirect_params(right)
    assert query["state"] == "f1"
    body = code_exchange(form_emu, query["code"]).json()
    assert current_user(form_emu, body["access_token"]).json()["result"]["user_name"] == "admin"


def test_login_form_deny(form_emu: Emulator) -> None:
    hidden = _hidden_fields(authorize(form_emu, state="f2").text)
    response = _post_form(form_emu, hidden, user_name=USER, user_password=USER_PASSWORD, action="deny")
    query = redirect_params(response)
    assert query["error"] == "access_denied"
    assert query["state"] == "f2"
    assert "code" not in query


def test_login_form_refuses_unusable_users(form_emu: Emulator) -> None:
    hidden = _hidden_fields(authorize(form_emu, state="f3").text)
    for user, password in [
        ("locked.user", "locked-password"),
        ("inactive.user", "inactive-password"),
        ("web.only", "webonly-password"),
    ]:
        response = _post_form(form_emu, hidden, user_name=user, user_password=password, action="allow")
        assert response.status_code == 200
        assert "User name or password invalid" in response.text


def test_login_form_failures_count_toward_lockout(form_emu: Emulator) -> None:
    hidden = _hidden_fields(authorize(form_emu, state="f4").text)
    for _ in range(5):
        _post_form(form_emu, hidden, user_name=USER, user_password="nope", action="allow")
    assert_denied(password_grant(form_emu))


def test_login_form_post_is_validated_again(form_emu: Emulator) -> None:
    hidden = _hidden_fields(authorize(form_emu, state="f5").text)
    hidden["redirect_uri"] = "http://evil.example/callback"
    response = _post_form(form_emu, hidden, user_name=USER, user_password=USER_PASSWORD, action="allow")
    assert response.status_code == 400
    assert "location" not in response.headers


def test_approve_next_authorization(form_emu: Emulator) -> None:
    form_emu.approve_next_authorization("admin")
    query = redirect_params(authorize(form_emu, state="n1"))
    body = code_exchange(form_emu, query["code"]).json()
    assert current_user(form_emu, body["access_token"]).json()["result"]["user_name"] == "admin"
    assert authorize(form_emu, state="n2").status_code == 200  # the form again


def test_auto_approve_user_can_change(form_emu: Emulator) -> None:
    form_emu.set_auto_approve_user("admin")
    assert authorize(form_emu, state="a").status_code == 302
    form_emu.set_auto_approve_user(None)
    assert authorize(form_emu, state="a").status_code == 200


def test_auto_approve_as_a_locked_user_redirects_access_denied(
    make_emu: Callable[..., Emulator],
) -> None:
    emu = make_emu(auto_approve_user="locked.user")
    query = redirect_params(authorize(emu, state="z"))
    assert query["error"] == "access_denied"

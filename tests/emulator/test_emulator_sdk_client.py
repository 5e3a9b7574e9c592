"""The ServiceNow SDK's public client that every emulated instance ships, and the
instance's /sdk-oauth.do page that shows the code to paste (docs/servicenow.md)."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

import httpx
import trustme

from snowauth.emulator import Emulator
from snowauth.emulator.config import parse_config
from tests.kit.emulator import (
    HTTP,
    SDK_ID,
    SDK_REDIRECT,
    USER,
    USER_PASSWORD,
    assert_denied,
    assert_token_body,
    current_user,
    pkce_pair,
    redirect_params,
    sdk_authorize_params,
    sdk_exchange,
    sdk_page_code,
    sdk_sign_in,
    write_tls_cert,
)


def test_sign_in_paste_the_code_and_refresh_without_a_secret(emu: Emulator) -> None:
    code, verifier = sdk_sign_in(emu)
    exchanged = sdk_exchange(emu, code, verifier)
    assert exchanged.status_code == 200
    body = exchanged.json()
    assert_token_body(body, refresh=True)
    assert current_user(emu, body["access_token"]).json()["result"]["user_name"] == USER
    refreshed = HTTP.post(
        f"{emu.url}/oauth_token.do",
        data={"grant_type": "refresh_token", "client_id": SDK_ID, "refresh_token": body["refresh_token"]},
    )
    assert refreshed.status_code == 200
    assert_token_body(refreshed.json(), refresh=True)


def test_the_redirect_is_relative_to_the_instance(emu: Emulator) -> None:
    _, challenge = pkce_pair()
    response = HTTP.get(f"{emu.url}/oauth_auth.do", params=sdk_authorize_params(challenge, state="s 1"))
    query = redirect_params(response, SDK_REDIRECT)
    assert query["state"] == "s 1"
    page = HTTP.get(f"{emu.url}{SDK_REDIRECT}", params={"code": query["code"], "state": "s 1"})
    assert page.headers["content-type"].startswith("text/html")
    assert sdk_page_code(page) == query["code"]
    assert "Copy" in page.text


def test_the_login_form_leads_to_the_page(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(auto_approve_user=None)
    verifier, challenge = pkce_pair()
    form_page = HTTP.get(f"{emu.url}/oauth_auth.do", params=sdk_authorize_params(challenge))
    assert form_page.status_code == 200
    assert 'name="user_password"' in form_page.text
    form = {k: v for k, v in sdk_authorize_params(challenge).items() if v}
    form.update(user_name=USER, user_password=USER_PASSWORD, action="allow")
    page = HTTP.post(f"{emu.url}/oauth_auth.do", data=form, follow_redirects=True)
    code = sdk_page_code(page)
    assert sdk_exchange(emu, code, verifier).status_code == 200


def test_pkce_is_required(emu: Emulator) -> None:
    params = sdk_authorize_params("x" * 43)
    del params["code_challenge"], params["code_challenge_method"]
    page = HTTP.get(f"{emu.url}/oauth_auth.do", params=params, follow_redirects=True)
    assert page.status_code == 200
    assert page.url.path == SDK_REDIRECT
    assert 'id="oauth-code"' not in page.text
    assert "Authorization failed" in page.text
    assert "PKCE" in emu.system_log[-1]


def test_a_wrong_verifier_or_redirect_or_a_secret_is_refused(emu: Emulator) -> None:
    code, _ = sdk_sign_in(emu)
    other_verifier, _ = pkce_pair()
    assert_denied(sdk_exchange(emu, code, other_verifier))
    code, verifier = sdk_sign_in(emu)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": SDK_ID,
        "redirect_uri": emu.url + SDK_REDIRECT,
        "code_verifier": verifier,
    }
    assert_denied(HTTP.post(f"{emu.url}/oauth_token.do", data=form))
    code, verifier = sdk_sign_in(emu)
    form.update(code=code, code_verifier=verifier, redirect_uri=SDK_REDIRECT, client_secret="guess")
    assert_denied(HTTP.post(f"{emu.url}/oauth_token.do", data=form))
    assert "sent a secret" in emu.system_log[-1]


def test_any_config_ships_it_unless_switched_off(make_emu: Callable[..., Emulator]) -> None:
    bare = parse_config({"users": {"someone": {"password": "pw"}}})
    emu = make_emu(bare, auto_approve_user="someone")
    code, verifier = sdk_sign_in(emu)
    assert sdk_exchange(emu, code, verifier).status_code == 200

    off = parse_config({"properties": {"sdk_client": False}, "users": {"someone": {"password": "pw"}}})
    emu = make_emu(off, auto_approve_user="someone")
    _, challenge = pkce_pair()
    response = HTTP.get(f"{emu.url}/oauth_auth.do", params=sdk_authorize_params(challenge))
    assert response.status_code == 400
    assert "Invalid client_id" in response.text


def test_over_tls(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert_file, key_file = write_tls_cert(ca, tmp_path)
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with (
        Emulator(certfile=str(cert_file), keyfile=str(key_file)) as emu,
        httpx.Client(verify=context, timeout=10) as client,
    ):
        code, verifier = sdk_sign_in(emu, client)
        exchanged = sdk_exchange(emu, code, verifier, client)
        assert exchanged.status_code == 200
        assert_token_body(exchanged.json(), refresh=True)

"""The form of each grant and the client's authentication (no network)."""

from __future__ import annotations

import base64

import pytest

from snowauth.oauth.errors import OAuthError
from snowauth.oauth.grants import (
    authorization_code_form,
    basic_credentials,
    client_credentials_form,
    jwt_bearer_form,
    password_form,
    refresh_form,
    with_client_auth,
)
from tests.kit.emulator import DEMO_ID, DEMO_SECRET, PUBLIC_ID
from tests.kit.oauth import authcode_conn, client_credentials_conn, password_conn

BASE = "https://dev1.service-now.com"
REDIRECT = "http://127.0.0.1:53682/callback"


def test_password_form() -> None:
    assert password_form(password_conn(BASE)) == {
        "grant_type": "password",
        "username": "integration.user",
        "password": "demo-password",
        "scope": "useraccount",
    }
    assert "scope" not in password_form(password_conn(BASE, scope=None))


@pytest.mark.parametrize("missing", ["username", "password"])
def test_password_form_needs_credentials(missing: str) -> None:
    with pytest.raises(OAuthError) as caught:
        password_form(password_conn(BASE, **{missing: None}))
    assert caught.value.code == "invalid-connection"
    assert caught.value.key == missing


def test_other_forms() -> None:
    assert refresh_form("rt") == {"grant_type": "refresh_token", "refresh_token": "rt"}
    assert client_credentials_form(client_credentials_conn(BASE)) == {"grant_type": "client_credentials"}
    assert client_credentials_form(client_credentials_conn(BASE, scope="a b")) == {
        "grant_type": "client_credentials",
        "scope": "a b",
    }
    assert authorization_code_form(authcode_conn(BASE, REDIRECT), "c", "v") == {
        "grant_type": "authorization_code",
        "code": "c",
        "redirect_uri": REDIRECT,
        "code_verifier": "v",
    }
    assert "code_verifier" not in authorization_code_form(authcode_conn(BASE, REDIRECT), "c", None)
    assert jwt_bearer_form("a.b.c") == {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": "a.b.c",
    }


def test_body_client_auth() -> None:
    request = with_client_auth(password_conn(BASE), {"grant_type": "password"})
    assert request.form == {
        "grant_type": "password",
        "client_id": DEMO_ID,
        "client_secret": DEMO_SECRET,
    }
    assert request.headers == {"Content-Type": "application/x-www-form-urlencoded"}
    assert DEMO_SECRET not in repr(request)


def test_basic_client_auth() -> None:
    conn = password_conn(BASE, client_auth="basic")
    request = with_client_auth(conn, {"grant_type": "password"})
    assert request.form == {"grant_type": "password"}
    expected = base64.b64encode(f"{DEMO_ID}:{DEMO_SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


def test_basic_credentials_form_encode_first() -> None:
    value = basic_credentials("id with space", "s:e&c/r=e+t%")
    decoded = base64.b64decode(value.removeprefix("Basic ")).decode()
    assert decoded == "id+with+space:s%3Ae%26c%2Fr%3De%2Bt%25"


@pytest.mark.parametrize("client_auth", ["body", "basic"])
def test_public_client_sends_only_its_id(client_auth: str) -> None:
    conn = authcode_conn(BASE, REDIRECT, client_id=PUBLIC_ID, client_secret=None, client_auth=client_auth)
    request = with_client_auth(conn, authorization_code_form(conn, "c", "v"))
    assert request.form["client_id"] == PUBLIC_ID
    assert "client_secret" not in request.form
    assert "Authorization" not in request.headers


def test_unknown_client_auth() -> None:
    with pytest.raises(OAuthError) as caught:
        with_client_auth(password_conn(BASE, client_auth="mtls"), {"grant_type": "password"})
    assert caught.value.key == "client_auth"


def test_secrets_of_a_request() -> None:
    conn = password_conn(BASE, client_auth="basic")
    request = with_client_auth(conn, password_form(conn))
    hidden = request.secrets()
    assert "demo-password" in hidden
    assert request.headers["Authorization"] in hidden
    assert "integration.user" not in hidden

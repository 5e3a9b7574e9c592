"""OAuthError, the message builders, and the answer parser (no network)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from snowauth.oauth import errors
from snowauth.oauth.errors import OAuthError
from snowauth.oauth.http import HttpResponse, parse_retry_after
from snowauth.oauth.pages import is_hibernation_page
from snowauth.oauth.responses import parse_token_response
from snowauth.oauth.urls import origin, redact
from snowauth.tokens import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_JWT_BEARER,
    GRANT_PASSWORD,
    GRANT_REFRESH,
    TokenSet,
)
from tests.kit.oauth import answer, authcode_conn, jwt_conn, password_conn

NOW = datetime(2030, 1, 1, tzinfo=UTC)
BASE = "https://dev1.service-now.com"


def test_error_attributes() -> None:
    err = OAuthError("timeout", "what and what to do", key="timeout", retryable=True, status=None)
    assert str(err) == err.message == "what and what to do"
    assert (err.code, err.key, err.retryable, err.status) == ("timeout", "timeout", True, None)
    assert "what to do" not in repr(err)


@pytest.mark.parametrize(
    ("grant", "key", "phrases"),
    [
        (
            GRANT_PASSWORD,
            "password",
            ["username/password", "client ID/secret", "locked out", "inactive",
             "reset the password", "web-service-only", "multi-factor", "lockout",
             "System OAuth > Application Registry"],
        ),
        (GRANT_REFRESH, "refresh_token", ["expired or was revoked", "Fetch a new token"]),
        (
            GRANT_CLIENT_CREDENTIALS,
            "client_secret",
            ["client ID/secret", "glide.oauth.inbound.client.credential.grant_type.enabled",
             '"OAuth Application User"'],
        ),
        (
            GRANT_AUTHORIZATION_CODE,
            "redirect_uri",
            ["expired or was already used", "redirect_uri (http://127.0.0.1:53682/callback)",
             "PKCE verifier"],
        ),
        (
            GRANT_JWT_BEARER,
            "jwt_key_file",
            ["aud", "iss", "sub (svc@example.com)", "exp", "RS384", "kid (key-1)",
             "JWT verifier map"],
        ),
    ],
)  # fmt: skip
def test_access_denied_per_grant(grant: str, key: str, phrases: list[str]) -> None:
    err = errors.access_denied(
        grant,
        BASE,
        status=401,
        username="integration.user",
        redirect_uri="http://127.0.0.1:53682/callback",
        jwt_subject="svc@example.com",
        jwt_algorithm="RS384",
        jwt_key_id="key-1",
    )
    assert err.code == "access-denied" and err.key == key and err.status == 401
    assert BASE in err.message
    for phrase in phrases:
        assert phrase in err.message


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.hibernating(BASE, status=200), "hibernating"),
        (errors.not_servicenow(BASE, status=200, content_type="text/html"), "not-servicenow"),
        (errors.rate_limited(BASE, retry_after=3, attempts=3, max_wait=30), "rate-limited"),
        (errors.server_error(BASE, status=502, attempts=3), "server-error"),
        (errors.malformed_response(BASE, "x", status=200), "malformed-response"),
        (errors.unreachable(BASE, "the connection was refused"), "unreachable"),
        (errors.timed_out(BASE, 2.5), "timeout"),
        (errors.tls_untrusted("dev1.service-now.com", "self-signed"), "tls"),
        (errors.redirected(BASE, "https://sso.example.com/x", status=302), "redirect"),
        (errors.too_large(BASE, 1 << 20, status=200), "response-too-large"),
        (errors.state_mismatch("http://127.0.0.1:1/cb"), "state-mismatch"),
        (errors.authorization_timeout("http://127.0.0.1:1/cb", 300), "authorization-timeout"),
        (errors.authorization_denied("access_denied", ""), "authorization-denied"),
        (errors.jwt_key("bad"), "jwt-key"),
        (errors.jwt_shared_key("bad"), "jwt-shared-key"),
        (errors.revoke_failed(BASE, status=400), "revoke-failed"),
        (errors.not_authenticated(BASE), "not-authenticated"),
        (errors.missing_scope(BASE), "missing-scope"),
        (errors.unauthorized_client(BASE, "d", status=401), "unauthorized-client"),
    ],
)
def test_codes_and_messages(error: OAuthError, code: str) -> None:
    assert error.code == code
    assert str(error) == error.message
    assert error.message.endswith(".")
    assert len(error.message.split(". ")) >= 2  # what went wrong, and what to do


def test_specific_wording() -> None:
    assert "developer.servicenow.com" in errors.hibernating(BASE, status=200).message
    assert "2.5 s" in errors.timed_out(BASE, 2.5).message
    assert "ca_bundle" in errors.tls_untrusted("h", "r").message
    assert "120 s" in errors.rate_limited(BASE, retry_after=120, attempts=1, max_wait=30).message
    assert "1 MiB" in errors.too_large(BASE, 1 << 20, status=200).message


def test_scrub() -> None:
    text = "line1\nline2\x00 secret-value " + "x" * 500
    cleaned = errors.scrub(text, ["secret-value", None, ""])
    assert "\n" not in cleaned and "\x00" not in cleaned
    assert "secret-value" not in cleaned and "[redacted]" in cleaned
    assert len(cleaned) <= 300


def test_urls() -> None:
    url = "https://user:pw@dev1.service-now.com:8443/base/oauth_revoke_token.do?token=abc#f"
    assert origin(url) == "https://dev1.service-now.com:8443"
    assert redact(url) == "https://dev1.service-now.com:8443/base/oauth_revoke_token.do"
    assert origin("http://[::1]:8080/x") == "http://[::1]:8080"
    assert origin("https://dev1.service-now.com") == "https://dev1.service-now.com"


def test_retry_after() -> None:
    assert parse_retry_after("7", NOW) == 7
    assert parse_retry_after(" 1.5 ", NOW) == 1.5
    assert parse_retry_after("-3", NOW) == 0
    assert parse_retry_after("Tue, 01 Jan 2030 00:00:10 GMT", NOW) == 10
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_hibernation_page() -> None:
    assert is_hibernation_page(b"<html><TITLE>ServiceNow - Instance Hibernating page</TITLE>")
    assert not is_hibernation_page(b"<html><title>Login</title>Instance Hibernating page")
    assert not is_hibernation_page(b'{"access_token":"x"}')


# --- parse_token_response -----------------------------------------------------------------


def _response(status: int, body: bytes, content_type: str = "application/json") -> HttpResponse:
    return answer(status, body, content_type, base=BASE)


def _parse(status: int, body: bytes, content_type: str = "application/json") -> TokenSet:
    return parse_token_response(
        _response(status, body, content_type),
        conn=password_conn(BASE),
        grant_type=GRANT_PASSWORD,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("expires_in", "expected"),
    [
        ("1799", timedelta(seconds=1799)),
        ("1799", timedelta(seconds=1799)),
        ('"1799"', timedelta(seconds=1799)),
        ('" 60.5 "', timedelta(seconds=60.5)),
        ("true", None),
        ("-5", None),
        ('"soon"', None),
        ("null", None),
    ],
)
def test_expires_in(expires_in: str, expected: timedelta | None) -> None:
    body = f'{{"access_token":"a","expires_in":{expires_in}}}'.encode()
    tokens = _parse(200, body)
    assert tokens.expires_at == (NOW + expected if expected is not None else None)


def test_success_fields() -> None:
    tokens = _parse(200, b'{"scope":"useraccount","token_type":"Bearer","access_token":"a","refresh_token":"r"}')
    assert tokens.access_token == "a"
    assert tokens.refresh_token == "r"
    assert tokens.scope == "useraccount"
    assert tokens.refresh_expires_at is None
    defaults = _parse(200, b'{"access_token":"a"}')
    assert defaults.token_type == "Bearer"
    assert defaults.refresh_token is None


@pytest.mark.parametrize(
    ("status", "body", "content_type", "code"),
    [
        (401, b'{"error_description":"access_denied","error":"server_error"}', "application/json",
         "access-denied"),
        (400, b'{"error":"invalid_grant","error_description":"expired"}', "application/json",
         "access-denied"),
        (401, b'{"error":"unauthorized_client","error_description":"x"}', "application/json",
         "unauthorized-client"),
        (200, b"<html><head><title>Instance Hibernating page</title></head></html>", "text/html",
         "hibernating"),
        (200, b"<html><title>Okta</title></html>", "text/html", "not-servicenow"),
        (404, b'{"error":{"message":"Not found"}}', "application/json", "not-servicenow"),
        (429, b"{}", "application/json", "rate-limited"),
        (502, b"", "text/plain", "server-error"),
        (200, b"{}", "application/json", "malformed-response"),
        (200, b'{"access_token":"ab', "application/json", "malformed-response"),
        (200, b"[1, 2]", "application/json", "malformed-response"),
    ],
)  # fmt: skip
def test_failure_mapping(status: int, body: bytes, content_type: str, code: str) -> None:
    with pytest.raises(OAuthError) as caught:
        _parse(status, body, content_type)
    assert caught.value.code == code


def test_non_generic_access_denied_shows_what_the_instance_said() -> None:
    with pytest.raises(OAuthError) as caught:
        _parse(400, b'{"error":"invalid_grant","error_description":"token expired"}')
    assert "invalid_grant: token expired" in caught.value.message
    with pytest.raises(OAuthError) as generic:
        _parse(401, b'{"error_description":"access_denied","error":"server_error"}')
    assert "the instance said" not in generic.value.message


def test_connection_names_appear_in_messages() -> None:
    with pytest.raises(OAuthError) as caught:
        parse_token_response(
            _response(401, b'{"error_description":"access_denied","error":"server_error"}'),
            conn=authcode_conn(BASE, "http://localhost:1234/cb"),
            grant_type=GRANT_AUTHORIZATION_CODE,
            now=NOW,
        )
    assert "http://localhost:1234/cb" in caught.value.message
    with pytest.raises(OAuthError) as jwt:
        parse_token_response(
            _response(401, b'{"error_description":"access_denied","error":"server_error"}'),
            conn=jwt_conn(BASE, b"", jwt_subject="svc.bot"),
            grant_type=GRANT_JWT_BEARER,
            now=NOW,
        )
    assert "sub (svc.bot)" in jwt.value.message


def test_a_rejected_password_has_a_short_summary_that_keeps_the_lockout_warning() -> None:
    err = errors.access_denied(GRANT_PASSWORD, BASE, status=401, username="integration.user")
    assert err.summary is not None and err.summary.startswith(f"{BASE} rejected the password grant.")
    assert "lock the account" in err.summary and len(err.summary) < len(err.message)
    assert "integration.user" not in err.summary
    other = errors.access_denied(GRANT_CLIENT_CREDENTIALS, BASE, status=401)
    assert other.summary is None  # the first sentence of the message serves

"""Every failure row of servicenow-oauth.md §4, against the emulator (or a raw server
for answers the emulator never gives)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from snowauth.emulator import Emulator
from snowauth.oauth.client import OAuthClient
from snowauth.oauth.errors import OAuthError
from tests.kit.emulator import emulator_config
from tests.kit.http import http_response, replying
from tests.kit.oauth import (
    RecordingSleep,
    client_credentials_conn,
    ec_key,
    jwt_conn,
    password_conn,
    refresh_conn,
    rsa_key,
)

# --- 401 access_denied, per grant ------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("integration.user", "wrong-password"),
        ("locked.user", "locked-password"),
        ("inactive.user", "inactive-password"),
        ("web.only", "webonly-password"),
        ("nobody", "whatever"),
    ],
)
async def test_password_rejected(
    emu: Emulator, sleep: RecordingSleep, client: OAuthClient, username: str, password: str
) -> None:
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(emu.url, username=username, password=password))
    err = caught.value
    assert err.code == "access-denied"
    assert err.key == "password"
    assert err.status == 401
    assert not err.retryable
    for words in (
        "username/password",
        "client ID/secret",
        "locked out",
        "inactive",
        "reset the password",
        "web-service-only",
        "multi-factor",
        "System OAuth > Application Registry",
        f'"{username}"',
        emu.url,
    ):
        assert words in err.message
    assert password not in err.message
    assert str(err) == err.message
    # a rejected login is never repeated: it counts toward the user's lockout
    assert emu.token_requests == 1
    assert sleep.delays == []


async def test_wrong_client_secret_on_password_grant(emu: Emulator, client: OAuthClient) -> None:
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(emu.url, client_secret="wrong-secret"))
    assert caught.value.code == "access-denied"
    assert "client ID/secret" in caught.value.message


async def test_refresh_rejected(emu: Emulator, client: OAuthClient) -> None:
    with pytest.raises(OAuthError) as caught:
        await client.fetch(refresh_conn(emu.url, "expired-or-revoked"))
    err = caught.value
    assert (err.code, err.key, err.status) == ("access-denied", "refresh_token", 401)
    assert "expired or was revoked" in err.message
    assert "Fetch a new token" in err.message
    assert emu.token_requests == 1


async def test_client_credentials_disabled(emu: Emulator, client: OAuthClient) -> None:
    with pytest.raises(OAuthError) as caught:
        await client.fetch(client_credentials_conn(emu.url))
    err = caught.value
    assert (err.code, err.key) == ("access-denied", "client_secret")
    assert "glide.oauth.inbound.client.credential.grant_type.enabled" in err.message
    assert '"OAuth Application User"' in err.message
    assert "client ID/secret" in err.message


async def test_jwt_rejected(make_emu: Callable[..., Emulator], client: OAuthClient) -> None:
    _, registered = rsa_key()
    other_private, _ = rsa_key()
    emu = make_emu(emulator_config(jwt_public_pem=registered))
    with pytest.raises(OAuthError) as caught:
        await client.fetch(jwt_conn(emu.url, other_private, jwt_key_id="k1"))
    err = caught.value
    assert (err.code, err.key) == ("access-denied", "jwt_key_file")
    for words in ("aud", "iss", "sub (integration.user)", "exp", "RS256", "kid (k1)", "verifier"):
        assert words in err.message


async def test_jwt_rejected_with_the_wrong_algorithm(make_emu: Callable[..., Emulator], client: OAuthClient) -> None:
    _, registered = rsa_key()
    ec_private, _ = ec_key(ec.SECP256R1())
    emu = make_emu(emulator_config(jwt_public_pem=registered))
    with pytest.raises(OAuthError) as caught:
        await client.fetch(jwt_conn(emu.url, ec_private, jwt_algorithm="ES256"))
    assert caught.value.code == "access-denied"


# --- hibernation, HTML, malformed -----------------------------------------------------


async def test_hibernating(emu: Emulator, sleep: RecordingSleep, client: OAuthClient) -> None:
    emu.set_mode(hibernating=True)
    for conn in (password_conn(emu.url), client_credentials_conn(emu.url)):
        with pytest.raises(OAuthError) as caught:
            await client.fetch(conn)
        err = caught.value
        assert err.code == "hibernating"
        assert err.key == "instance"
        assert err.retryable
        assert "developer.servicenow.com" in err.message and "hibernating" in err.message
    with pytest.raises(OAuthError) as whoami:
        await client.whoami(password_conn(emu.url), "any-token")
    assert whoami.value.code == "hibernating"
    with pytest.raises(OAuthError) as revoke:
        await client.revoke(password_conn(emu.url), ["any-token"])
    assert revoke.value.code == "hibernating"
    assert sleep.delays == []


async def test_hibernation_page_with_503_is_not_retried(sleep: RecordingSleep, client: OAuthClient) -> None:
    page = b"<html><head><title>Instance Hibernating page</title></head><body>zzz</body></html>"
    answer = http_response(503, page, content_type="text/html")
    with replying(answer) as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(raw.url))
    assert caught.value.code == "hibernating"
    assert len(raw.requests) == 1 and sleep.delays == []


@pytest.mark.parametrize("status", [200, 401, 404])
async def test_html_page_is_not_servicenow(client: OAuthClient, status: int) -> None:
    page = b"<!DOCTYPE html><html><head><title>Sign in - Contoso SSO</title></head></html>"
    answer = http_response(status, page, content_type="text/html; charset=utf-8")
    with replying(answer) as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(raw.url + "/base"))
    err = caught.value
    assert err.code == "not-servicenow"
    assert err.key == "instance"
    assert f"{raw.url}/base/oauth_token.do" in err.message
    assert "did not answer like a ServiceNow token endpoint" in err.message
    assert "single sign-on" in err.message and "proxy" in err.message
    assert "text/html" in err.message
    assert len(raw.requests) == 1


async def test_plain_text_is_not_servicenow(client: OAuthClient) -> None:
    answer = http_response(200, b"hello", content_type="text/plain")
    with replying(answer) as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(raw.url))
    assert caught.value.code == "not-servicenow"


@pytest.mark.parametrize(
    "body",
    [b'{"token_type":"Bearer","expires_in":1799}', b'{"access_token":""}', b'{"access_token":5}'],
)
async def test_200_without_access_token(client: OAuthClient, body: bytes) -> None:
    with replying(http_response(200, body)) as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(raw.url))
    err = caught.value
    assert err.code == "malformed-response"
    assert "without an access_token" in err.message
    assert err.status == 200


async def test_expires_in_as_a_numeric_string(client: OAuthClient) -> None:
    body = b'{"scope":"useraccount","expires_in":"1799","access_token":"abc","token_type":"Bearer"}'
    with replying(http_response(200, body)) as raw:
        tokens = await client.fetch(password_conn(raw.url))
    assert tokens.access_token == "abc"
    assert tokens.expires_at is not None
    assert tokens.refresh_token is None


async def test_other_oauth_errors_show_the_description(client: OAuthClient) -> None:
    body = b'{"error":"unsupported_grant_type","error_description":"grant type not supported"}'
    with replying(http_response(400, body)) as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(raw.url))
    assert caught.value.code == "invalid-request"
    assert "unsupported_grant_type: grant type not supported" in caught.value.message


async def test_unauthorized_client_with_400(client: OAuthClient) -> None:
    body = b'{"error":"unauthorized_client","error_description":"The integration user is not configured"}'
    with replying(http_response(400, body)) as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(client_credentials_conn(raw.url))
    assert caught.value.code == "unauthorized-client"
    assert "The integration user is not configured" in caught.value.message
    assert caught.value.status == 400


async def test_server_text_never_echoes_a_secret(client: OAuthClient) -> None:
    body = b'{"error":"invalid_request","error_description":"bad password demo-password\\n"}'
    with replying(http_response(400, body)) as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(raw.url))
    assert "demo-password" not in caught.value.message
    assert "[redacted]" in caught.value.message


# --- 429 and 5xx ------------------------------------------------------------------------


async def test_rate_limited_is_retried_then_given_up(
    make_emu: Callable[..., Emulator], sleep: RecordingSleep, client: OAuthClient
) -> None:
    emu = make_emu(emulator_config(client_credentials=True))
    emu.set_mode(rate_limited=True, retry_after=7)
    progress: list[str] = []
    with pytest.raises(OAuthError) as caught:
        await client.fetch(client_credentials_conn(emu.url), on_progress=progress.append)
    err = caught.value
    assert err.code == "rate-limited"
    assert err.retryable and err.status == 429
    assert "after 3 attempts" in err.message and "Wait 7 s" in err.message
    assert sleep.delays == [7.0, 7.0]
    assert emu.token_requests == 3
    assert any("retrying in 7 s (attempt 2 of 3)" in p for p in progress)


async def test_rate_limited_then_succeeds(
    make_emu: Callable[..., Emulator], sleep: RecordingSleep, client: OAuthClient
) -> None:
    emu = make_emu(emulator_config(client_credentials=True))
    emu.set_mode(rate_limited=True, retry_after=2)

    async def lift_after_first(delay: float) -> None:
        sleep.delays.append(delay)
        emu.set_mode(rate_limited=False)

    async with OAuthClient(sleep=lift_after_first) as oauth:
        tokens = await oauth.fetch(client_credentials_conn(emu.url))
    assert tokens.access_token
    assert sleep.delays == [2.0]
    assert emu.token_requests == 2


async def test_rate_limited_longer_than_30_s_gives_up_at_once(
    emu: Emulator, sleep: RecordingSleep, client: OAuthClient
) -> None:
    emu.set_mode(rate_limited=True, retry_after=120)
    good = await _refresh_token_before(emu, client)
    with pytest.raises(OAuthError) as caught:
        await client.refresh(password_conn(emu.url), good)
    err = caught.value
    assert err.code == "rate-limited"
    assert "120 s" in err.message and "30 s" in err.message
    assert sleep.delays == []
    assert emu.token_requests == 2  # the fetch before, and one refresh attempt


async def _refresh_token_before(emu: Emulator, client: OAuthClient) -> str:
    emu.set_mode(rate_limited=False)
    tokens = await client.fetch(password_conn(emu.url))
    assert tokens.refresh_token is not None
    emu.set_mode(rate_limited=True)
    return tokens.refresh_token


async def test_rate_limited_password_grant_is_not_retried(
    emu: Emulator, sleep: RecordingSleep, client: OAuthClient
) -> None:
    emu.set_mode(rate_limited=True, retry_after=2)
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(emu.url))
    assert caught.value.code == "rate-limited"
    assert "wait 2 s" in caught.value.message
    assert emu.token_requests == 1 and sleep.delays == []


async def test_retry_after_as_http_date(sleep: RecordingSleep) -> None:
    fixed = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    answer = http_response(429, b"{}", headers={"Retry-After": "Tue, 01 Jan 2030 12:00:04 GMT"})
    with replying(answer) as raw:
        async with OAuthClient(sleep=sleep, now=lambda: fixed) as oauth:
            with pytest.raises(OAuthError) as caught:
                await oauth.fetch(client_credentials_conn(raw.url))
    assert caught.value.code == "rate-limited"
    assert sleep.delays == [4.0, 4.0]
    assert len(raw.requests) == 3


async def test_server_error_is_retried_with_backoff_then_given_up(
    emu: Emulator, sleep: RecordingSleep, client: OAuthClient
) -> None:
    emu.set_mode(flaky=True)
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(emu.url))
    err = caught.value
    assert err.code == "server-error"
    assert err.status == 503 and err.retryable
    assert "after 3 attempts" in err.message and "maintenance" in err.message
    assert sleep.delays == [0.5, 1.0]
    assert emu.token_requests == 3


async def test_server_error_then_success(emu: Emulator, sleep: RecordingSleep, client: OAuthClient) -> None:
    emu.set_mode(flaky_failures=2)
    tokens = await client.fetch(password_conn(emu.url))
    assert tokens.access_token
    assert sleep.delays == [0.5, 1.0]
    assert emu.token_requests == 3


async def test_500_from_a_raw_server(sleep: RecordingSleep, client: OAuthClient) -> None:
    answer = http_response(500, b"<html><title>Error</title></html>", content_type="text/html")
    with replying(answer) as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(client_credentials_conn(raw.url))
    assert caught.value.code == "server-error"
    assert len(raw.requests) == 3
    assert sleep.delays == [0.5, 1.0]


async def test_whoami_retries_server_errors_but_never_401(sleep: RecordingSleep, client: OAuthClient) -> None:
    unauthenticated = http_response(
        401,
        b'{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth '
        b'information"},"status":"failure"}',
        headers={"WWW-Authenticate": 'BASIC realm="Service-now"'},
    )
    with replying(unauthenticated) as raw, pytest.raises(OAuthError) as caught:
        await client.whoami(password_conn(raw.url), "some-token")
    assert caught.value.code == "not-authenticated"
    assert len(raw.requests) == 1 and sleep.delays == []
